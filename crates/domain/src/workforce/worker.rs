//! A worker and its lifecycle.
//!
//! Corfix documents five states: Pending Account Activation, Pending Email Verification, Active,
//! Active for Kiosk and Blocked. trestle keeps them as two facts: how far the worker got through
//! activation ([`Activation`]) and whether they are blocked. Blocking then never forgets the
//! activation state, so a worker whose Procore user comes back is restored to where they were,
//! which is what "an existing worker keeps its activation state" asks for.

use serde::{Deserialize, Serialize};

/// How far a worker got through activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// Created, never activated.
    PendingAccountActivation,
    /// Activated with an email; the invitation is not yet accepted.
    PendingEmailVerification,
    /// Verified; signs in on their own device.
    Active,
    /// Activated without an email; signs forms on someone else's device.
    ActiveForKiosk,
}

impl Activation {
    /// What activating a worker leads to: with an email an invitation goes out (Pending Email
    /// Verification); without one the worker can only use a kiosk (Active for Kiosk).
    pub fn on_activation(email: Option<&str>) -> Activation {
        match email.map(str::trim) {
            Some(e) if !e.is_empty() => Activation::PendingEmailVerification,
            _ => Activation::ActiveForKiosk,
        }
    }

    /// Whether the worker was ever activated. The seed keeps never-activated workers pending
    /// instead of blocking them.
    pub fn was_activated(self) -> bool {
        self != Activation::PendingAccountActivation
    }
}

/// The status shown to a site administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WorkerStatus {
    PendingAccountActivation,
    PendingEmailVerification,
    Active,
    ActiveForKiosk,
    Blocked,
}

impl WorkerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerStatus::PendingAccountActivation => "Pending Account Activation",
            WorkerStatus::PendingEmailVerification => "Pending Email Verification",
            WorkerStatus::Active => "Active",
            WorkerStatus::ActiveForKiosk => "Active for Kiosk",
            WorkerStatus::Blocked => "Blocked",
        }
    }
}

impl From<Activation> for WorkerStatus {
    fn from(a: Activation) -> Self {
        match a {
            Activation::PendingAccountActivation => WorkerStatus::PendingAccountActivation,
            Activation::PendingEmailVerification => WorkerStatus::PendingEmailVerification,
            Activation::Active => WorkerStatus::Active,
            Activation::ActiveForKiosk => WorkerStatus::ActiveForKiosk,
        }
    }
}

/// The fields the workforce app keeps for a worker, all mapped from Procore.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkerFields {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub employee_number: Option<String>,
    pub email: Option<String>,
}

/// A worker as the app holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub id: i64,
    pub fields: WorkerFields,
    pub activation: Activation,
    pub blocked: bool,
}

impl Worker {
    pub fn status(&self) -> WorkerStatus {
        if self.blocked {
            WorkerStatus::Blocked
        } else {
            self.activation.into()
        }
    }
}

/// Normalises an email for comparison: Procore and the app may differ in case and spacing.
pub fn email_key(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    (!e.is_empty()).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activating_with_an_email_waits_for_verification_and_without_one_uses_the_kiosk() {
        assert_eq!(
            Activation::on_activation(Some("a@b.c")),
            Activation::PendingEmailVerification
        );
        assert_eq!(Activation::on_activation(None), Activation::ActiveForKiosk);
        assert_eq!(
            Activation::on_activation(Some("  ")),
            Activation::ActiveForKiosk
        );
    }

    #[test]
    fn a_blocked_worker_shows_blocked_but_remembers_its_activation() {
        let w = Worker {
            id: 1,
            fields: WorkerFields::default(),
            activation: Activation::Active,
            blocked: true,
        };
        assert_eq!(w.status(), WorkerStatus::Blocked);
        assert_eq!(w.activation, Activation::Active);
    }

    #[test]
    fn emails_compare_without_case_or_surrounding_space() {
        assert_eq!(
            email_key(" Ann@Example.COM "),
            Some("ann@example.com".into())
        );
        assert_eq!(email_key(""), None);
    }
}
