//! Grants and roles kept by the system (SPEC §6.1, §6.2 members), over HTTP
//! against the local server, on both backends: the secretariat works the
//! agenda but changes neither settings nor members; owners manage members
//! and the last owner stays; a removed member is refused once the cache
//! time has passed (on the practice's clock, never by sleeping).

use acceptance::{DEMO, TestApp, on_each_backend};
use chrono::Duration;
use domain::grants::{GRANT_CACHE_SECONDS, Role};
use reqwest::Method;
use serde_json::{Value, json};

const SECRETARIAT: &str = "dr-martin.secretariat";

async fn call(
    app: &TestApp,
    method: Method,
    sub: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.as_member(method, sub, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn settings_path() -> String {
    format!("/practitioners/{DEMO}")
}

fn members_path(sub: &str) -> String {
    format!("/practitioners/{DEMO}/members/{sub}")
}

fn appointment_body(app: &TestApp) -> Value {
    let day = app.first_after(8, chrono::Weekday::Tue);
    json!({"reason_id": "consultation", "start": format!("{day}T10:00:00"),
           "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                       "email": "jeanne@example.org", "mobile": acceptance::mobile()}})
}

on_each_backend!(
    the_secretariat_works_the_agenda_but_changes_neither_settings_nor_members,
    owners_manage_members_and_the_last_owner_stays,
    a_removed_member_is_refused_once_the_cache_time_has_passed,
    a_practitioner_created_locally_has_its_owner_and_its_secretariat,
    the_history_lists_each_change_with_its_actor_and_never_a_value,
    changes_to_settings_and_members_are_recorded_with_their_actor,
    the_export_returns_exactly_that_contacts_appointments,
);

async fn the_secretariat_works_the_agenda_but_changes_neither_settings_nor_members(app: TestApp) {
    // The agenda, appointments and settings (read): 200
    let (status, settings) = call(&app, Method::GET, SECRETARIAT, &settings_path(), None).await;
    assert_eq!(status, 200, "{settings}");
    let agenda = format!("/practitioners/{DEMO}/appointments");
    assert_eq!(
        call(&app, Method::GET, SECRETARIAT, &agenda, None).await.0,
        200
    );
    let (status, booked) = call(
        &app,
        Method::POST,
        SECRETARIAT,
        &agenda,
        Some(appointment_body(&app)),
    )
    .await;
    assert_eq!(status, 201, "{booked}");

    // Settings, members: 403, and the store is unchanged
    app.senders_done().await;
    let before = app.dump_store().await;
    let mut changed = settings.clone();
    changed["name"] = json!("Dr Secretariat");
    let refused = [
        (Method::PUT, settings_path(), Some(changed)),
        (Method::GET, format!("/practitioners/{DEMO}/members"), None),
        (
            Method::PUT,
            members_path("claire"),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::PUT,
            members_path(SECRETARIAT),
            Some(json!({"role": "owner"})),
        ),
        (Method::DELETE, members_path(DEMO), None),
    ];
    for (method, path, body) in refused {
        let (status, problem) = call(&app, method.clone(), SECRETARIAT, &path, body).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
        assert_eq!(problem["status"], 403);
    }
    app.senders_done().await;
    assert_eq!(app.dump_store().await, before, "a refusal changes nothing");
}

async fn owners_manage_members_and_the_last_owner_stays(app: TestApp) {
    let members = format!("/practitioners/{DEMO}/members");
    // The demo practice: its owner and its secretariat
    let (status, listed) = call(&app, Method::GET, DEMO, &members, None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        listed,
        json!({"members": [{"sub": DEMO, "role": "owner"}, {"sub": SECRETARIAT, "role": "secretariat"}]})
    );
    // Claire joins as secretariat, with her name
    let claire = members_path("claire");
    let (status, member) = call(
        &app,
        Method::PUT,
        DEMO,
        &claire,
        Some(json!({"role": "secretariat", "name": "Claire (accueil)"})),
    )
    .await;
    assert_eq!(status, 200, "{member}");
    assert_eq!(
        member,
        json!({"sub": "claire", "role": "secretariat", "name": "Claire (accueil)"})
    );
    let agenda = format!("/practitioners/{DEMO}/appointments");
    assert_eq!(
        call(&app, Method::GET, "claire", &agenda, None).await.0,
        200
    );
    assert_eq!(
        call(&app, Method::GET, "claire", &members, None).await.0,
        403
    );

    // The last owner can neither leave nor step down: 409
    let owner = members_path(DEMO);
    let (status, problem) = call(&app, Method::DELETE, DEMO, &owner, None).await;
    assert_eq!(status, 409, "{problem}");
    let (status, problem) = call(
        &app,
        Method::PUT,
        DEMO,
        &owner,
        Some(json!({"role": "secretariat"})),
    )
    .await;
    assert_eq!(status, 409, "{problem}");

    // Invalid bodies and unknown members
    let (status, problem) = call(
        &app,
        Method::PUT,
        DEMO,
        &claire,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, problem) = call(
        &app,
        Method::PUT,
        DEMO,
        &claire,
        Some(json!({"role": "owner", "name": "a\nb"})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = call(&app, Method::DELETE, DEMO, &members_path("nobody"), None).await;
    assert_eq!(status, 404);

    // With Claire owner too, Dr Martin may step down, and Claire then removes him
    let (status, _) = call(
        &app,
        Method::PUT,
        DEMO,
        &claire,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = call(&app, Method::DELETE, "claire", &owner, None).await;
    assert_eq!(status, 204, "{problem}");
    let (status, listed) = call(&app, Method::GET, "claire", &members, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        listed,
        json!({"members": [{"sub": "claire", "role": "owner"}, {"sub": SECRETARIAT, "role": "secretariat"}]})
    );
}

async fn a_removed_member_is_refused_once_the_cache_time_has_passed(app: TestApp) {
    app.grant(DEMO, "claire", Role::Secretariat).await;
    // An admitted caller asking about an appointment that does not exist is
    // told 404; a refused one 403: the answer says which, and changes nothing.
    let probe = format!("/practitioners/{DEMO}/appointments/01JD7Z5W6N8K3QF2X9RB4T1M0C/status");
    let body = json!({"status": "cancelled", "send_cancellation_sms": false});
    let (status, _) = call(&app, Method::PUT, "claire", &probe, Some(body.clone())).await;
    assert_eq!(status, 404, "Claire is admitted");

    // When the owner removes her
    let (status, _) = call(&app, Method::DELETE, DEMO, &members_path("claire"), None).await;
    assert_eq!(status, 204);
    // Then she is refused once the cache time has passed, at the latest
    app.advance_clock(Duration::seconds(GRANT_CACHE_SECONDS))
        .await;
    let (status, problem) = call(&app, Method::PUT, "claire", &probe, Some(body)).await;
    assert_eq!(status, 403, "{problem}");
    let agenda = format!("/practitioners/{DEMO}/appointments");
    assert_eq!(
        call(&app, Method::GET, "claire", &agenda, None).await.0,
        403
    );
}

async fn a_practitioner_created_locally_has_its_owner_and_its_secretariat(app: TestApp) {
    let (_, demo) = call(&app, Method::GET, DEMO, &settings_path(), None).await;
    let roux = "/practitioners/dr-roux";
    // Nobody holds a grant on dr-roux yet: Dr Martin cannot create it
    let (status, _) = call(&app, Method::PUT, DEMO, roux, Some(demo.clone())).await;
    assert_eq!(status, 403);
    // Its owner's local token creates it, with its two grants
    let (status, created) = call(&app, Method::PUT, "dr-roux", roux, Some(demo.clone())).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        call(&app, Method::GET, "dr-roux.secretariat", roux, None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(
            &app,
            Method::PUT,
            "dr-roux.secretariat",
            roux,
            Some(demo.clone())
        )
        .await
        .0,
        403
    );
    // And neither practice reaches the other's
    assert_eq!(call(&app, Method::GET, DEMO, roux, None).await.0, 403);
    assert_eq!(
        call(&app, Method::GET, "dr-roux", &settings_path(), None)
            .await
            .0,
        403
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            "dr-roux.secretariat",
            &format!("/practitioners/{DEMO}/appointments"),
            None
        )
        .await
        .0,
        403
    );
}

async fn the_history_lists_each_change_with_its_actor_and_never_a_value(app: TestApp) {
    // Booked by the secretariat
    let agenda = format!("/practitioners/{DEMO}/appointments");
    let body = appointment_body(&app);
    let mobile = body["patient"]["mobile"].as_str().unwrap().to_string();
    let (status, booked) = call(&app, Method::POST, SECRETARIAT, &agenda, Some(body)).await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["id"].as_str().unwrap().to_string();
    let one = format!("{agenda}/{id}");
    // Its mobile changed by the owner
    let (status, changed) = call(
        &app,
        Method::PATCH,
        DEMO,
        &one,
        Some(json!({"patient": {"mobile": "07 98 76 54 32"}})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    // Cancelled by the patient, from the confirmation's link
    app.senders_done().await;
    let outbox = app.outbox().await;
    let page = outbox
        .iter()
        .rev()
        .filter(|m| m["kind"] == "confirmation" && m["appointment_id"] == id.as_str())
        .flat_map(|m| m["links"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l.as_str().map(str::to_string))
        .find(|l| !l.ends_with("/slots"))
        .expect("the confirmation's link");
    let cancelled = app
        .client
        .post(format!("{page}/cancel"))
        .header("accept", "application/json")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);

    // Then the history says who did what, oldest first
    let history = format!("{one}/history");
    let (status, answer) = call(&app, Method::GET, SECRETARIAT, &history, None).await;
    assert_eq!(status, 200, "{answer}");
    let lines: Vec<(String, String, Value)> = answer["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["by"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
                c["fields"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (SECRETARIAT.to_string(), "created".to_string(), json!([])),
            (
                DEMO.to_string(),
                "contact_changed".to_string(),
                json!(["patient.mobile"])
            ),
            (
                "patient".to_string(),
                "status_set".to_string(),
                json!(["status"])
            ),
        ],
        "{answer}"
    );
    for change in answer["changes"].as_array().unwrap() {
        assert!(
            change["at"].as_str().is_some_and(|at| at.len() >= 20),
            "{change}"
        );
    }
    // ...and never a value
    let text = answer.to_string();
    for value in ["Jeanne", "jeanne@example.org", &mobile[1..], "798765432"] {
        assert!(!text.contains(value), "{value} in {text}");
    }
    // Another practice gets 403, an appointment that is not there 404
    assert_eq!(
        call(&app, Method::GET, "dr-other", &history, None).await.0,
        403
    );
    let nobody = format!("{agenda}/01JD7Z5W6N8K3QF2X9RB4T1M0C/history");
    assert_eq!(call(&app, Method::GET, DEMO, &nobody, None).await.0, 404);
}

async fn changes_to_settings_and_members_are_recorded_with_their_actor(app: TestApp) {
    // The owner renames the practice and gives Claire a role
    let (_, mut settings) = call(&app, Method::GET, DEMO, &settings_path(), None).await;
    settings["name"] = json!("Dr Marie Roux-Martin");
    let (status, saved) = call(&app, Method::PUT, DEMO, &settings_path(), Some(settings)).await;
    assert_eq!(status, 200, "{saved}");
    let (status, _) = call(
        &app,
        Method::PUT,
        DEMO,
        &members_path("claire"),
        Some(json!({"role": "secretariat", "name": "Claire Lenoir"})),
    )
    .await;
    assert_eq!(status, 200);
    // Then the practice's history holds both, by the owner, fields only
    let lines: Vec<String> = app
        .dump_store()
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .filter(|item| item.contains("practice_history"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let settings_line = lines
        .iter()
        .find(|l| l.contains("settings_changed"))
        .expect("the settings' line");
    assert!(
        settings_line.contains(DEMO) && settings_line.contains("\"name\""),
        "{settings_line}"
    );
    let member_line = lines
        .iter()
        .find(|l| l.contains("member_set"))
        .expect("the member's line");
    assert!(member_line.contains("claire"), "{member_line}");
    for line in &lines {
        for value in ["Roux-Martin", "Lenoir"] {
            assert!(!line.contains(value), "{value} in {line}");
        }
    }
}

async fn the_export_returns_exactly_that_contacts_appointments(app: TestApp) {
    let agenda = format!("/practitioners/{DEMO}/appointments");
    let day = app.first_after(8, chrono::Weekday::Wed);
    let book = |hour: u32, first: &str, email: &str, mobile: &str| {
        json!({"reason_id": "consultation", "start": format!("{day}T{hour:02}:00:00"),
               "patient": {"first_name": first, "last_name": "Dupont", "email": email, "mobile": mobile}})
    };
    let (m1, m2, m3) = (
        acceptance::mobile(),
        acceptance::mobile(),
        acceptance::mobile(),
    );
    let mut ids = Vec::new();
    for body in [
        book(9, "Jeanne", "Jeanne@Example.org", &m1),
        book(10, "Jeanne", "jeanne@example.org", &m2),
        book(11, "Paul", "paul@example.org", &m3),
    ] {
        let (status, booked) = call(&app, Method::POST, SECRETARIAT, &agenda, Some(body)).await;
        assert_eq!(status, 201, "{booked}");
        ids.push(booked["id"].as_str().unwrap().to_string());
    }
    // The second one's e-mail changes: it is no longer that address's
    let (status, _) = call(
        &app,
        Method::PATCH,
        SECRETARIAT,
        &format!("{agenda}/{}", ids[1]),
        Some(json!({"patient": {"email": "jeanne.d@example.net"}})),
    )
    .await;
    assert_eq!(status, 200);

    let export = |query: String| format!("/practitioners/{DEMO}/patients/export?{query}");
    let exported = |answer: &Value| -> Vec<String> {
        answer["appointments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    // By e-mail, whatever its capitals: the first only
    let (status, answer) = call(
        &app,
        Method::GET,
        DEMO,
        &export("email=jeanne%40example.org".into()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(exported(&answer), vec![ids[0].clone()]);
    let first = &answer["appointments"][0];
    assert_eq!(first["patient"]["first_name"], "Jeanne");
    assert_eq!(first["history"][0]["change"], "created");
    assert_eq!(first["history"][0]["by"], SECRETARIAT);
    assert!(first["communications"].is_array(), "{first}");
    // By mobile, as typed: the second only (it kept its mobile)
    let typed = format!(
        "{} {} {} {} {}",
        &m2[0..2],
        &m2[2..4],
        &m2[4..6],
        &m2[6..8],
        &m2[8..10]
    );
    let (status, answer) = call(
        &app,
        Method::GET,
        DEMO,
        &export(format!("mobile={}", typed.replace(' ', "+"))),
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(exported(&answer), vec![ids[1].clone()]);
    // Nobody's contact: none
    let (status, answer) = call(
        &app,
        Method::GET,
        DEMO,
        &export("email=nobody%40example.org".into()),
        None,
    )
    .await;
    assert_eq!((status, exported(&answer)), (200, Vec::<String>::new()));
    // Neither, both, or a bad one: 422
    for query in [
        "",
        "email=a%40b.org&mobile=0612345678",
        "email=not-an-address",
    ] {
        let (status, problem) = call(&app, Method::GET, DEMO, &export(query.into()), None).await;
        assert_eq!(status, 422, "{query}: {problem}");
    }
    // The secretariat may not
    let (status, _) = call(
        &app,
        Method::GET,
        SECRETARIAT,
        &export("email=jeanne%40example.org".into()),
        None,
    )
    .await;
    assert_eq!(status, 403);
}
