//! The yardstick: the hello-world on `#[tokio::main]` as
//! `lambda_runtime`'s examples write it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    bench_hello::serve().await
}
