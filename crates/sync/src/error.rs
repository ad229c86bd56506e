//! What can stop a sync, said so that the person running it knows what to do.

/// A sync that could not finish. Per-record problems are not errors: they are skips with a
/// reason in the run log, and the rest of the sync goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    // The inner error's text is part of this one's, so it is not also its `source`: a caller
    // printing the chain (`anyhow`'s `{:#}`) would print it twice.
    #[error("Procore: {0}")]
    Procore(procore::Error),
    #[error("the store: {0}")]
    Store(store::StoreError),
    #[error("rendering a form: {0}")]
    Pdf(pdf::PdfError),
    #[error("no connection for Procore company {0}; connect it to Procore first")]
    NotConnected(i64),
    #[error("{0}")]
    Invalid(String),
}

impl From<procore::Error> for SyncError {
    fn from(e: procore::Error) -> Self {
        SyncError::Procore(e)
    }
}

impl From<store::StoreError> for SyncError {
    fn from(e: store::StoreError) -> Self {
        SyncError::Store(e)
    }
}

impl From<pdf::PdfError> for SyncError {
    fn from(e: pdf::PdfError) -> Self {
        SyncError::Pdf(e)
    }
}

impl SyncError {
    /// Whether the failure is about the connection to Procore as a whole (credentials, rate
    /// limits, Procore or the network unavailable) rather than about one record. A drain stops
    /// at the first such failure instead of failing, and pushing back, every item in turn.
    pub fn is_about_the_connection(&self) -> bool {
        match self {
            SyncError::Procore(e) => match e {
                procore::Error::ReconnectNeeded { .. }
                | procore::Error::Unauthorized { .. }
                | procore::Error::RateLimited { .. }
                | procore::Error::Transport { .. }
                | procore::Error::LoginService { .. }
                | procore::Error::TokenStore(_)
                | procore::Error::Config(_) => true,
                procore::Error::Api(api) => api.status >= 500,
                _ => false,
            },
            SyncError::Store(_) => true,
            _ => false,
        }
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::SyncError;

    #[test]
    fn credentials_and_rate_limits_stop_a_drain_but_one_records_problem_does_not() {
        let reconnect = SyncError::Procore(procore::Error::ReconnectNeeded {
            reason: "invalid_grant".into(),
        });
        let rate_limited = SyncError::Procore(procore::Error::RateLimited {
            method: "PATCH".into(),
            path: "/rest/v1.0/insurances/sync".into(),
            attempts: 3,
            wait: std::time::Duration::from_secs(60),
        });
        let unknown = SyncError::Procore(procore::Error::WriteOutcomeUnknown {
            method: "POST".into(),
            path: "/rest/v1.0/files".into(),
            idempotency_token: "t".into(),
            cause: "connection reset".into(),
        });
        let login_down = SyncError::Procore(procore::Error::LoginService {
            attempts: 6,
            what: "answered HTTP 503".into(),
        });
        assert!(reconnect.is_about_the_connection());
        assert!(
            login_down.is_about_the_connection(),
            "no token, no call: every item would fail the same way"
        );
        assert!(rate_limited.is_about_the_connection());
        assert!(
            !unknown.is_about_the_connection(),
            "a lost answer is about one write"
        );
        assert!(!SyncError::Invalid("form 3 no longer exists".into()).is_about_the_connection());
    }
}
