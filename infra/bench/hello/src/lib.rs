//! The cold-start benchmark's hello-worlds: a `lambda_runtime` function that
//! answers every event with a constant, nothing else (see infra/bench/README.md).
//! Two binaries serve it: `bench-hello` on the runtime of `lambda_runtime`'s
//! examples (`#[tokio::main]`, multi-threaded), the yardstick, and
//! `bench-hello-current-thread` on the functions' own current-thread runtime,
//! so that what the runtime saves is not credited to the functions' code.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

pub async fn serve() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "hello": "world" }))
    }))
    .await
}
