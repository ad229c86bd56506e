//! A typed client for Procore's REST API, as trestle uses it.
//!
//! It handles what every Procore call needs (OAuth tokens and their rotation, the
//! `Procore-Company-Id` header, `Link`-header pages, rate-limit pacing, retries that never
//! duplicate a write) and models the resources trestle syncs: projects, company users and
//! people, vendors, commitments, insurances, documents, webhooks.
//!
//! ```no_run
//! # async fn demo() -> procore::Result<()> {
//! use futures::TryStreamExt;
//! use procore::{Client, ClientConfig, CompanyId, Credentials};
//!
//! let config = ClientConfig::custom(
//!     "http://127.0.0.1:3000",
//!     CompanyId(1),
//!     Credentials::client_credentials("client-id", "client-secret"),
//! )?;
//! let client = Client::new(config)?;
//! let projects: Vec<_> = client.projects().list().stream().try_collect().await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`config`]: [`ClientConfig`], [`Credentials`], environment presets.
//! - [`auth`]: OAuth grants, [`TokenStore`] ([`MemoryTokenStore`], [`FileTokenStore`]),
//!   [`auth::authorize_url`], [`auth::exchange_code`].
//! - [`http`]: [`Client`] and the request core (token, company header, pacing, retries).
//! - [`policy`]: pure pacing and retry decisions with their decision tables.
//! - [`tally`]: the bounded set of status labels requests are counted by.
//! - [`page`]: `Link` header parsing and [`Page`].
//! - [`list`]: [`List`], the lenient page walker (malformed records are skipped with a reason).
//! - [`api`]: resource handlers (`client.projects()`, `client.users()`, `client.vendors()`,
//!   `client.people()`, `client.commitments(p)`, `client.insurances()`,
//!   `client.documents(p)`, `client.webhooks()`, `client.me()`, `client.companies()`).
//! - [`models`]: typed records.
//! - [`ids`]: id newtypes.
//! - [`de`]: lenient field parsers (money, dates, timestamps).
//! - [`webhook`]: pure parser of webhook deliveries.
//! - [`error`]: [`Error`], [`ErrorBody`].

pub mod api;
pub mod auth;
pub mod config;
pub mod de;
pub mod error;
pub mod http;
pub mod ids;
pub mod list;
pub mod models;
pub mod page;
pub mod policy;
pub mod tally;
pub mod webhook;

pub use auth::{FileTokenStore, MemoryTokenStore, StoredTokens, TokenStore};
pub use config::{ClientConfig, Credentials, Environment};
pub use error::{ApiError, Error, ErrorBody, Malformed, Result};
pub use http::{Client, RawRequest, Stats};
pub use ids::*;
pub use list::List;
pub use page::{Collected, Page};
pub use policy::{RateLimit, RetryConfig};
pub use reqwest::Method;
