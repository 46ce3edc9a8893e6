//! Writes the OpenAPI document: `cargo run -p api-description > docs/openapi.json`
//! (`make openapi`). The booking function serves that file.

fn main() {
    print!("{}", api_description::json());
}
