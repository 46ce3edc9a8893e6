//! SDK clients that note every AWS operation they send, as the IAM action that
//! authorises it, so a test can hold what the adapters really call against the
//! IAM actions they declare. Test-only: the adapters take already-built
//! clients, and Lambda binaries build theirs without this interceptor.

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The IAM actions the recording clients needed, e.g. `dynamodb:PutItem`,
/// and how many times each.
#[derive(Debug, Clone, Default)]
pub struct Recorded(Arc<Mutex<BTreeMap<String, usize>>>);

impl Recorded {
    pub fn actions(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().keys().cloned().collect()
    }

    /// How many requests needed `action` (a paginated query counts each page).
    pub fn count(&self, action: &str) -> usize {
        self.0.lock().unwrap().get(action).copied().unwrap_or(0)
    }

    fn note(&self, action: String) {
        *self.0.lock().unwrap().entry(action).or_default() += 1;
    }

    pub fn dynamodb(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(self.by("dynamodb"))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    pub fn ses(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
        let config = aws_sdk_sesv2::config::Builder::from(sdk)
            .interceptor(self.by("ses"))
            .build();
        aws_sdk_sesv2::Client::from_conf(config)
    }

    pub fn sns(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
        let config = aws_sdk_sns::config::Builder::from(sdk)
            .interceptor(self.by("sns"))
            .build();
        aws_sdk_sns::Client::from_conf(config)
    }

    pub fn eventbridge(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_eventbridge::Client {
        let config = aws_sdk_eventbridge::config::Builder::from(sdk)
            .interceptor(self.by("events"))
            .build();
        aws_sdk_eventbridge::Client::from_conf(config)
    }

    fn by(&self, iam_prefix: &'static str) -> RecordIamActions {
        RecordIamActions {
            iam_prefix,
            recorded: self.clone(),
        }
    }
}

/// Notes the IAM actions of each operation before it runs
/// ([`aws_adapters::iam_guard::iam_actions_of`]).
#[derive(Debug)]
struct RecordIamActions {
    /// The service's IAM prefix (`ses` for SES v2, `events` for EventBridge).
    iam_prefix: &'static str,
    recorded: Recorded,
}

impl Intercept for RecordIamActions {
    fn name(&self) -> &'static str {
        "RecordIamActions"
    }

    // Not `read_before_execution`: client interceptors run that before the
    // operation's own configuration (and its Metadata) is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        for action in aws_adapters::iam_guard::iam_actions_of(self.iam_prefix, context, cfg)? {
            self.recorded.note(action);
        }
        Ok(())
    }
}
