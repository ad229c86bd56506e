//! What can stop a sync, said so that the person running it knows what to do.

/// A sync that could not finish. Per-record problems are not errors: they are skips with a
/// reason in the run log, and the rest of the sync goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("Procore: {0}")]
    Procore(#[from] procore::Error),
    #[error("the store: {0}")]
    Store(#[from] store::StoreError),
    #[error("rendering a form: {0}")]
    Pdf(#[from] pdf::PdfError),
    #[error("no connection for Procore company {0}; run `trestle connect` first")]
    NotConnected(i64),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
