//! `make run` on a non-loopback address would let anyone on the network act
//! for any practitioner with a `local-` token: refused without the switch.

use std::process::Command;

#[test]
fn a_non_loopback_host_is_refused_without_the_insecure_switch() {
    let out = Command::new(env!("CARGO_BIN_EXE_agenda-local"))
        .env("HOST", "0.0.0.0")
        .env("PORT", "0")
        .env_remove("AGENDA_INSECURE_LOCAL")
        .env_remove("AGENDA_BACKEND")
        .output()
        .expect("agenda-local runs");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("AGENDA_INSECURE_LOCAL=1"), "{said}");
}
