//! Mailer adapters: SES v2 on AWS, the outbox in local mode.

pub mod outbox;
pub mod ses;
pub mod sns;

pub use outbox::{Outbox, OutboxMessage};
pub use ses::SesMailer;
pub use sns::{NoSms, SnsSmsSender};
