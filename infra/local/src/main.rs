//! `make run`: local mode on http://127.0.0.1:3000 (PORT and HOST change it;
//! AGENDA_CLOCK_START starts its clock at another time than now).

use aws_adapters::telemetry::{LogFormat, init};
use local::{LocalApp, LocalConfig};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    init(LogFormat::Text);
    let port = match std::env::var("PORT") {
        Ok(p) => match p.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("PORT must be a port number, not {p:?}");
                return std::process::ExitCode::FAILURE;
            }
        },
        Err(_) => 3000,
    };
    let host: IpAddr = std::env::var("HOST")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let insecure = std::env::var(local::AGENDA_INSECURE_LOCAL).as_deref() == Ok("1");
    if !host.is_loopback() && !insecure {
        eprintln!(
            "HOST={host} would let anyone on the network act for any practitioner with a \
             local- token; set {}=1 to allow it",
            local::AGENDA_INSECURE_LOCAL
        );
        return std::process::ExitCode::FAILURE;
    }
    let clock_start = match local::embedded::clock::clock_start_from_env() {
        Ok(start) => start,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut config = LocalConfig::on(SocketAddr::new(host, port));
    config.clock_start = clock_start.map(|start| start.to_utc());
    config.insecure = insecure;
    // The functions' variables, read once as on AWS (DATA_RETENTION_DAYS,
    // PUBLIC_BASE_URL, SMS_RATE_PER_SECOND; TABLE_NAME... against AWS).
    config.environment = match aws_adapters::config::Config::from_env() {
        Ok(environment) => environment,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    config.backend = match local::backend::Backend::from_env().await {
        Ok(backend) => backend,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let uses_aws = config.backend.is_aws();
    if uses_aws && !config.local_conveniences() {
        eprintln!(
            "AGENDA_BACKEND=aws: local- tokens, /dev/* and the demo practitioner are off \
             ({}=1 turns them on, for an emulator or a test account only)",
            local::AGENDA_INSECURE_LOCAL
        );
    }
    if let local::backend::Backend::Aws(aws) = &config.backend {
        let create = std::env::var(local::provision::AGENDA_CREATE_RESOURCES).as_deref() == Ok("1");
        if create {
            if let Err(e) = local::provision::create_missing(aws, &config.environment).await {
                eprintln!("{e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    match LocalApp::start(config).await {
        Ok(app) => {
            println!("Local mode: {}", app.base_url);
            println!(
                "  API:    {}/practitioners/dr-martin  (Authorization: Bearer local-dr-martin)",
                app.base_url
            );
            if let Some(start) = clock_start {
                println!(
                    "  Clock:  started at {} ({})",
                    start.to_rfc3339(),
                    local::embedded::clock::AGENDA_CLOCK_START
                );
            }
            if uses_aws {
                println!("  Messages: SES (AGENDA_BACKEND=aws)");
            } else {
                println!("  Outbox: {}/dev/outbox.html", app.base_url);
            }
            app.wait().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("local mode could not start: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
