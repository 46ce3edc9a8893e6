//! AWS clients for moto, and the table created from `template.yaml` itself so
//! that the code and the template cannot drift apart.

pub const TEMPLATE: &str = include_str!("../../template.yaml");

/// The moto server `make test` starts; these tests are `#[ignore]`d without it.
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT")
        .expect("MOTO_ENDPOINT is not set: run these tests through `make test`, which starts moto")
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_adapters::wiring::https_client())
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new("eu-west-3"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// Creates `name` with the keys, indexes and stream of `AgendaTable` in template.yaml.
pub async fn create_table_from_template(client: &aws_sdk_dynamodb::Client, name: &str) {
    local::provision::create_table_from_template(client, name)
        .await
        .expect("moto creates the table");
}

/// Every item of `table`, as JSON, in key order (tests compare whole tables).
pub async fn scan(sdk: &aws_config::SdkConfig, table: &str) -> Vec<serde_json::Value> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let mut items: Vec<serde_json::Value> = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("moto scans the table");
        for item in page.items() {
            items.push(serde_dynamo::from_item(item.clone()).expect("an item reads as JSON"));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    let key = |v: &serde_json::Value| (v["pk"].to_string(), v["sk"].to_string());
    items.sort_by_key(key);
    items
}

/// Names of one test's own resources on the shared moto server, so that tests
/// run in parallel without seeing each other's items, e-mails or events.
pub struct MotoRun {
    pub table: String,
    pub bus: String,
    pub sender: String,
}

impl MotoRun {
    pub fn new() -> Self {
        let run = ulid_like();
        Self {
            table: format!("agenda-{run}"),
            bus: format!("comms-{run}"),
            sender: format!("rdv-{run}@example.org"),
        }
    }

    /// The functions' configuration naming this run's table, bus and sender.
    pub fn environment(&self) -> aws_adapters::config::Config {
        aws_adapters::config::Config {
            table_name: Some(self.table.clone()),
            event_bus_name: Some(self.bus.clone()),
            sender_email: Some(self.sender.clone()),
            sms_sender_id: Some("DrMartin".into()),
            ..Default::default()
        }
    }

    fn archive(&self) -> String {
        format!("{}-arch", self.bus)
    }

    /// The table from template.yaml, the bus with an archive (moto keeps the
    /// archived events, so tests can read what was published), and the sender
    /// as a verified SES identity (moto refuses other senders, as SES does).
    pub async fn provision(&self, sdk: &aws_config::SdkConfig) {
        create_table_from_template(&aws_sdk_dynamodb::Client::new(sdk), &self.table).await;
        let events = aws_sdk_eventbridge::Client::new(sdk);
        let bus = events
            .create_event_bus()
            .name(&self.bus)
            .send()
            .await
            .expect("moto creates the bus");
        events
            .create_archive()
            .archive_name(self.archive())
            .event_source_arn(bus.event_bus_arn().expect("bus arn"))
            .send()
            .await
            .expect("moto creates the archive");
        aws_sdk_sesv2::Client::new(sdk)
            .create_email_identity()
            .email_identity(&self.sender)
            .send()
            .await
            .expect("moto verifies the sender");
    }

    /// Moto's own record of everything (`/moto-api/data.json`).
    ///
    /// Moto builds this page by walking its models while other tests' requests
    /// change them; the walk then fails with a 500. Such a read is tried again
    /// (a few times, at once): it is moto's page, not our code, that raced.
    pub async fn moto_data(client: &reqwest::Client) -> serde_json::Value {
        let mut last = String::new();
        for _ in 0..10 {
            let response = client
                .get(format!("{}/moto-api/data.json", moto_endpoint()))
                .send()
                .await
                .expect("moto answers");
            let status = response.status();
            let body = response.text().await.expect("moto's page is read");
            if status.is_success() {
                if let Ok(data) = serde_json::from_str(&body) {
                    return data;
                }
            }
            last = format!("{status}: {}", body.chars().take(200).collect::<String>());
        }
        panic!("moto's /moto-api/data.json kept failing; last answer {last}");
    }

    /// The e-mails SES accepted from this run's sender, oldest first, in the
    /// shape of local mode's outbox (read from the MIME message itself).
    pub fn emails(&self, data: &serde_json::Value) -> Vec<serde_json::Value> {
        data["ses"]["RawMessage"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["source"].as_str() == Some(self.sender.as_str()))
            .map(|m| crate::mime::outbox_shape(m["raw_data"].as_str().expect("raw_data")))
            .collect()
    }

    /// The SMS SNS accepted for `phones` (E.164, with the appointment each
    /// belongs to), oldest first, in the shape of local mode's outbox. Moto
    /// keeps only the number and the text, so each test's patients have numbers
    /// of their own ([`crate::mobile`]) and the kind is read from the wording.
    pub fn sms(
        &self,
        data: &serde_json::Value,
        phones: &std::collections::HashMap<String, String>,
    ) -> Vec<serde_json::Value> {
        data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let to = m["phone_number"].as_str()?;
                let appointment_id = phones.get(to)?;
                let text = m["message"].as_str().unwrap_or_default();
                let links = crate::mime::links(text);
                let kind = if links.iter().any(|l| l.contains("/r/"))
                    || text.contains("annul")
                    || text.contains("cancelled")
                {
                    "practitioner_cancellation"
                } else {
                    "reminder"
                };
                Some(serde_json::json!({
                    "channel": "sms", "to": to, "text": text, "links": links,
                    "appointment_id": appointment_id, "kind": kind,
                }))
            })
            .collect()
    }

    /// The `detail` of every event published on this run's bus, oldest first.
    pub fn events(&self, data: &serde_json::Value) -> Vec<serde_json::Value> {
        data["events"]["Archive"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["name"].as_str() == Some(self.archive().as_str()))
            .flat_map(|a| a["events"].as_array().cloned().unwrap_or_default())
            .map(|e| e["detail"].clone())
            .collect()
    }
}

impl Default for MotoRun {
    fn default() -> Self {
        Self::new()
    }
}

/// Unique, lower case, valid in table, bus and e-mail names.
fn ulid_like() -> String {
    domain::ids::AppointmentId::new().to_string().to_lowercase()
}
