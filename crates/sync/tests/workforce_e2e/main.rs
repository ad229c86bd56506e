//! The workforce integration end to end: the `sync` crate against procore-sim over real HTTP,
//! with a SQLite store in a temporary folder. Each test states the rule it proves.
//!
//! # Layout
//! - `harness`: [`harness::TestApp`], worlds, forms, and a tampering front for the simulator.
//! - `projects`, `users`: the initial sync and the seed's mapping and skip rules.
//! - `incremental`: what later syncs pick up, and what a quiet sync costs.
//! - `malformed`: one bad record skips itself; the rest of the sync goes on.
//! - `nulls`: fields Procore may send as `null`, nulled at random, never make a record malformed.
//! - `forms`: completed forms into Procore Documents, never twice.
//! - `access`: `connect`'s permission checks.
//! - `tokens`: the database token store when two processes refresh at once.
//! - `targeted`: syncs of the records webhook deliveries named.

mod access;
mod forms;
mod harness;
mod incremental;
mod malformed;
mod nulls;
mod projects;
mod targeted;
mod tokens;
mod users;
