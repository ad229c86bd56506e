//! trestle's app-side records and the pure rules that govern them.
//!
//! trestle holds the workforce app (projects, workers, forms) and the compliance app itself, so
//! these types are the "app side" of every sync. Nothing here performs I/O or reads a clock:
//! "today" is always an argument, which keeps every rule a table test.
//!
//! # Layout
//! - [`workforce`]: projects and their status, workers and their activation lifecycle, form
//!   templates and submissions.
//! - [`compliance`]: parties, projects, profiles, certificates, waivers; `evaluate`, which gives
//!   every requirement, subject and party a status, and the Procore insurance records made from it.

#![forbid(unsafe_code)]

pub mod compliance;
pub mod workforce;
