//! The engine's use cases against the bundled Procore simulator and a real SQLite store, as
//! every face calls them.

mod connect;
mod explain;
mod hooks;
mod run;
mod support;
