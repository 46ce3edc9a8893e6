//! Local mode pointed at AWS resources (SPEC §8, issue "trust"): its
//! conveniences act for anyone, so without `AGENDA_INSECURE_LOCAL=1` they are
//! off — no `local-` token becomes a practitioner, `/dev/*` does not exist,
//! nothing is seeded into the table.

use acceptance::{Backend, DEMO, spawn_app_with};
use domain::ids::PractitionerId;
use reqwest::{Method, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run through `make test`"]
async fn on_aws_without_the_switch_local_tokens_dev_routes_and_seeding_are_off() {
    // Given local mode on (moto's) AWS, without the insecure switch
    let app = spawn_app_with(Backend::Moto, false).await;

    // Then a local token is no practitioner's
    let settings = app
        .as_practitioner(Method::GET, DEMO, &format!("/practitioners/{DEMO}"))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::UNAUTHORIZED);
    // and the local-only routes do not exist
    for path in ["/dev/outbox", "/dev/outbox.html", "/dev/clock"] {
        let answer = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let sweep = app.client.post(app.url("/dev/sweep")).send().await.unwrap();
    assert_eq!(sweep.status(), StatusCode::NOT_FOUND);
    // and the demo practitioner was not written into the table
    let demo = PractitionerId::parse(DEMO).unwrap();
    assert!(app.app.state.store.settings(&demo).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run through `make test`"]
async fn on_aws_with_the_switch_local_mode_works_as_on_the_embedded_store() {
    // Given local mode on (moto's) AWS with AGENDA_INSECURE_LOCAL=1
    let app = spawn_app_with(Backend::Moto, true).await;
    // Then the demo practitioner is there and a local token reads it
    let settings = app
        .as_practitioner(Method::GET, DEMO, &format!("/practitioners/{DEMO}"))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_embedded_store_local_mode_needs_no_switch() {
    let app = spawn_app_with(Backend::Embedded, false).await;
    let outbox = app.client.get(app.url("/dev/outbox")).send().await.unwrap();
    assert_eq!(outbox.status(), StatusCode::OK);
    let settings = app
        .as_practitioner(Method::GET, DEMO, &format!("/practitioners/{DEMO}"))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::OK);
}

/// SPEC §8: the clock starts where the run says (`AGENDA_CLOCK_START`, which
/// `make test-any-hour` sets to five moments), else in the practice's daytime;
/// the outbox dates what it sends on that clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_starts_where_the_run_says_and_the_outbox_follows_it() {
    // Given the start of this run, and local mode started now
    let launched = std::time::Instant::now();
    let start = acceptance::clock_start().unwrap_or_else(chrono::Utc::now);
    let app = acceptance::spawn_app().await;

    // When its clock is read and a booking's confirmation is sent
    let now = app.now();
    let day = acceptance::first_after(app.today(), 7, chrono::Weekday::Thu);
    let (status, booked) = app
        .book(
            DEMO,
            &serde_json::json!({"reason_id": "consultation", "start": format!("{day}T10:00:00"),
                    "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                                "email": "jeanne@example.org"}}),
        )
        .await;
    assert_eq!(status, 201, "{booked}");
    let outbox = app.outbox().await;
    let sent_at: chrono::DateTime<chrono::Utc> =
        outbox[0]["sent_at"].as_str().unwrap().parse().unwrap();

    // Then both are at the start, run on by no more than the real time since
    let ran = chrono::Duration::from_std(launched.elapsed()).unwrap();
    assert!(
        start <= now && now <= sent_at && sent_at <= start + ran,
        "started at {start}, read {now}, first message sent at {sent_at}, {ran} later"
    );
}

/// `DATA_RETENTION_DAYS` is read by local mode as by the Lambdas (one
/// configuration): the store it runs keeps data that long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_keeps_appointment_data_as_long_as_its_configuration_says() {
    // Given local mode configured to keep appointment data 30 days
    let mut config = local::LocalConfig::on("127.0.0.1:0".parse().unwrap());
    config.clock_start = Some(domain::fixtures::at("2026-11-25T10:00:00Z"));
    config.environment.retention_days = 30;
    let app = local::LocalApp::start(config).await.unwrap();

    // When an appointment is booked
    let booked: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/practitioners/{DEMO}/appointments",
            app.base_url
        ))
        .bearer_auth(format!("local-{DEMO}"))
        .json(&serde_json::json!({
            "reason_id": "consultation", "start": "2026-12-03T10:00:00+01:00",
            "patient": {"first_name": "Jeanne", "last_name": "Dupont"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Then its item expires 30 days after it ends
    let id = booked["id"].as_str().expect("booked");
    let table = app.state.memory.as_ref().expect("the memory table");
    let item = &table.dump()[&(format!("APPT#{id}"), "APPT".to_string())];
    let end = domain::fixtures::at("2026-12-03T09:20:00Z");
    assert_eq!(
        item["ttl"].as_i64(),
        Some((end + chrono::Duration::days(30)).timestamp())
    );
}
