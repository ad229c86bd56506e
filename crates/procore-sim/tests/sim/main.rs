//! Integration tests: real HTTP against a spawned simulator.

mod auth;
mod custom_fields;
mod demo;
mod documents;
mod encodings;
mod faults;
mod fuzz;
mod helpers;
mod paging;
mod permissions;
mod ratelimit;
mod routes;
mod sdk;
mod sync;
mod unified_uploads;
mod webhooks;
