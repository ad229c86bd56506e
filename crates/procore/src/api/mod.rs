//! Resource handlers: `client.<area>()` → builder → `stream()` / `send()`.
//!
//! Handlers borrow nothing: each holds a clone of the [`Client`] and its scope (project,
//! vendor), so builders and streams are `'static` and can be moved into tasks. A list
//! builder's fields *are* its query string (serialised with `serde_urlencoded`), and each
//! builder has a unit test asserting that string.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::Client;
use crate::list::convert;

pub mod commitments;
pub mod custom_fields;
pub mod directory;
pub mod documents;
pub mod identity;
pub mod insurances;
pub mod projects;
pub mod webhooks;

/// GET one record and convert it.
pub(crate) async fn get_one<T: DeserializeOwned>(
    client: &Client,
    path: &str,
    query: &str,
    kind: &'static str,
) -> Result<T> {
    let url = client.url_with_query(path, query)?;
    let (value, _) = client.get_json(url).await?;
    let value = unwrap_data(value);
    convert(kind, value).map_err(Error::from)
}

/// v2.0 wraps single records and lists in `{"data": ...}`.
pub(crate) fn unwrap_data(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("data") => {
            map.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Converts a write's answer.
pub(crate) fn from_answer<T: DeserializeOwned>(kind: &'static str, value: Value) -> Result<T> {
    convert(kind, unwrap_data(value)).map_err(Error::from)
}

#[cfg(test)]
pub(crate) fn test_client() -> Client {
    use crate::config::{ClientConfig, Credentials};
    Client::new(
        ClientConfig::custom(
            "http://127.0.0.1:9",
            crate::ids::CompanyId(42),
            Credentials::client_credentials("id", "secret"),
        )
        .unwrap(),
    )
    .unwrap()
}
