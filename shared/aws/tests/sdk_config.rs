//! On Lambda the SDK's configuration is read from the environment Lambda
//! sets (region, the role's credentials), not from aws-config's default
//! chains (docs/benchmarks.md, third pass).

use aws_credential_types::provider::ProvideCredentials;

#[test]
fn the_sdk_configuration_comes_from_the_lambda_environment() {
    let lambda = [
        ("AWS_REGION", "eu-west-3"),
        ("AWS_ACCESS_KEY_ID", "ASIALAMBDAROLE"),
        ("AWS_SECRET_ACCESS_KEY", "role-secret"),
        ("AWS_SESSION_TOKEN", "role-session"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    // SAFETY: this test binary holds this one test, and nothing else in it
    // reads or writes the environment; the runtime starts after this.
    unsafe {
        for (name, value) in lambda {
            std::env::set_var(name, value);
        }
        std::env::remove_var("AWS_DEFAULT_REGION");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let sdk = aws_adapters::wiring::sdk_config()
            .await
            .expect("a configuration from the environment");
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-3"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:9"));
        let credentials = sdk
            .credentials_provider()
            .expect("a credentials provider")
            .provide_credentials()
            .await
            .expect("the role's credentials");
        assert_eq!(credentials.access_key_id(), "ASIALAMBDAROLE");
        assert_eq!(credentials.secret_access_key(), "role-secret");
        assert_eq!(credentials.session_token(), Some("role-session"));
    });
}
