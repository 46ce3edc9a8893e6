//! Patients' data rights (SPEC §6.2, GDPR): what the practice holds about
//! one contact, found through the patients' index of keyed hashes (never a
//! scan). The export is recorded in the practice's history with who asked.

use super::booking::{AppointmentDetails, BookingError, BookingService};
use crate::contact::{Email, Mobile};
use crate::grants::Actor;
use crate::history::{HistoryEntry, PracticeChange, PracticeChangeKind};
use crate::ids::PractitionerId;
use crate::keyed::{ContactHash, HashKey};
use crate::ports::{Clock, Store};
use crate::validation::FieldError;
use std::sync::Arc;

/// Whose data: an e-mail address or a mobile, as the practice typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Email(Email),
    Mobile(Mobile),
}

impl Contact {
    /// Exactly one of `email` and `mobile`, valid; else every invalid field.
    pub fn parse(email: Option<&str>, mobile: Option<&str>) -> Result<Contact, Vec<FieldError>> {
        let error = |field: &str, message: String| {
            vec![FieldError {
                field: field.into(),
                message,
            }]
        };
        match (email, mobile) {
            (Some(email), None) => Email::parse(email)
                .map(Contact::Email)
                .map_err(|e| error("email", e.to_string())),
            (None, Some(mobile)) => Mobile::parse(mobile)
                .map(Contact::Mobile)
                .map_err(|e| error("mobile", e.to_string())),
            _ => Err(error("email", "give either email or mobile".into())),
        }
    }

    fn hash(&self, key: &HashKey) -> ContactHash {
        match self {
            Contact::Email(email) => ContactHash::of_email(key, email),
            Contact::Mobile(mobile) => ContactHash::of_mobile(key, mobile),
        }
    }

    fn field(&self) -> &'static str {
        match self {
            Contact::Email(_) => "email",
            Contact::Mobile(_) => "mobile",
        }
    }
}

/// One appointment of the contact, with its log and its history.
#[derive(Debug, Clone)]
pub struct Exported {
    pub details: AppointmentDetails,
    pub history: Vec<HistoryEntry>,
}

#[derive(Clone)]
pub struct DataRights {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    key: Arc<HashKey>,
    booking: BookingService,
}

impl DataRights {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, key: HashKey) -> Self {
        Self {
            booking: BookingService::new(store.clone(), clock.clone()),
            store,
            clock,
            key: Arc::new(key),
        }
    }

    /// Every appointment of `contact` with `practitioner`, with its
    /// communications and history; the export is recorded with who asked.
    pub async fn export(
        &self,
        practitioner: &PractitionerId,
        contact: &Contact,
        by: &Actor,
    ) -> Result<Vec<Exported>, BookingError> {
        let settings = self.booking.settings(practitioner).await?;
        let appointments = self
            .store
            .appointments_of_contact(practitioner, &contact.hash(&self.key))
            .await?;
        let mut exported = Vec::new();
        for appointment in appointments {
            let communications = self
                .store
                .communications(practitioner, &appointment.id)
                .await?;
            let history = self.store.history(practitioner, &appointment.id).await?;
            exported.push(Exported {
                details: self
                    .booking
                    .details(&appointment, &settings, communications),
                history,
            });
        }
        let line = PracticeChange {
            at: self.clock.now(),
            by: by.clone(),
            change: PracticeChangeKind::Exported,
            fields: vec![contact.field().to_string()],
            member: None,
        };
        self.store
            .record_practice_change(practitioner, &line)
            .await?;
        tracing::info!(practitioner = %practitioner, appointments = exported.len(), "patient's data exported");
        Ok(exported)
    }
}
