//! The hello-world on the runtime the functions use (docs/decisions.md,
//! "The functions on a current-thread runtime").

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bench_hello::serve().await
}
