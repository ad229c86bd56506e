//! trestle's use cases, shared by its faces: the CLI (`trestle`), the server (`trestle serve`)
//! and, later, the REST API and web UI. Each use case returns a typed result that the face
//! renders in its own words, and never prints: a message fit for a terminal ("run `trestle
//! connect`") is wrong on a web page, so errors name the setting or the record to change and
//! each face adds its own advice.
//!
//! # Layout
//! - [`settings`]: the layered settings (defaults, TOML, `TRESTLE_*`), including the server's.
//! - [`connect`]: checking what trestle may do in a Procore company, and saving the
//!   connection.
//! - [`open`]: the store and its key file, the company's sync lock, Procore clients, and
//!   picking the connection a request is about.
//! - [`run`]: one sync of either integration for a connected company, returning its report.
//! - [`hooks`]: the company's Procore webhook: registered after a connect, repaired on demand,
//!   removed when the company is disconnected.
//! - [`jobs`]: the work queue as a person sees it: listing jobs, retrying one.
//! - [`records`]: entering and changing compliance records one at a time (profiles,
//!   certificates, waivers, a party's profile), and finding one by id or name.
//! - [`status`]: each company's health, webhook, queue and last syncs, from the store alone.
//! - [`mapping`]: a person's decision about a Procore project or company: import, link, or
//!   do not add.
//! - [`views`]: the compliance side looked over: parties, projects and mapping decisions.
//! - [`explain`]: why a record is as it is: what trestle holds for it, and what the syncs
//!   decided about it and why.
//! - [`forms`]: form templates (versioned), filling, signing and completing forms, the PDF,
//!   and where a form is in Procore.
//! - [`tokens`]: the REST API's tokens: made and shown once, listed, revoked, checked.
//! - [`sessions`]: the web UI's sign-in sessions, each standing for an API token.
//! - [`workforce`]: the workers and what an administrator does to them, and the Procore
//!   records waiting for a decision (link, import, ignore) with a preview of each.
#![forbid(unsafe_code)]

pub mod connect;
pub mod explain;
pub mod forms;
pub mod hooks;
pub mod jobs;
pub mod mapping;
pub mod open;
pub mod records;
pub mod run;
pub mod sessions;
pub mod settings;
pub mod status;
pub mod tokens;
pub mod views;
pub mod workforce;

pub use open::OpenError;
pub use settings::{Settings, SettingsError};

/// trestle's two integrations (the queue's jobs name them too).
pub use sync::jobs::Integration;
