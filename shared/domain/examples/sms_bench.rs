//! How long the practice's cancellation SMS takes to write as the
//! practitioner's name grows (issue 10: 19,603 characters took 69 s, the
//! time growing with the square of the length). A measurement, not a test:
//! `cargo run --release -p domain --features fixtures --example sms_bench`.
#![allow(
    clippy::expect_used,
    reason = "a measurement run by hand: a sample that fails stops it"
)]

use domain::contact::Mobile;
use domain::fixtures::{at, booked, dr_martin};
use domain::messages::practitioner_cancellation::practitioner_cancellation_sms;
use std::time::Instant;

fn main() {
    let appointment = booked(at("2026-12-03T13:30:00Z"), 20);
    let mobile = Mobile::parse("0612345678").expect("a mobile");
    let link = "https://abcdefghij.execute-api.eu-west-3.amazonaws.com/r/q8Wm3vT0bZ1xY2cD4eF5gA";
    println!("| name (characters) | one SMS (µs, best of 20) |");
    println!("|---|---|");
    for length in [200, 1_000, 5_000, 19_603, 100_000] {
        let mut settings = dr_martin();
        settings.name = "Dr Ézéchiel Hippolyte "
            .chars()
            .cycle()
            .take(length)
            .collect();
        let best = (0..20)
            .map(|_| {
                let began = Instant::now();
                let sms = practitioner_cancellation_sms(
                    &appointment,
                    &settings,
                    mobile.clone(),
                    Some(link),
                );
                std::hint::black_box(sms);
                began.elapsed()
            })
            .min()
            .expect("20 runs");
        println!("| {length} | {} |", best.as_micros());
    }
}
