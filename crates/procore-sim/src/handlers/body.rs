//! The one request-body extractor every `/rest/` handler uses. Procore is a Rails application,
//! so any action reads its parameters from a JSON, `application/x-www-form-urlencoded` or
//! `multipart/form-data` body alike (its OpenAPI file declares multipart for users, files,
//! file versions and uploads); this turns each into the same `serde_json::Value`, with Rails'
//! bracket keys (`user[first_name]`, `updates[][id]`) made into nested objects and arrays.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use serde_json::{Map, Value};

use crate::error::{default_error, ApiError};

/// A binary part of a multipart body (`file[data]`), kept out of the JSON value.
#[derive(Debug)]
pub(crate) struct FilePart {
    /// The Rails field name as sent, e.g. `file[data]`.
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
}

/// A request body in any encoding Procore takes, as JSON plus its binary parts.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) value: Value,
    pub(crate) files: Vec<FilePart>,
    /// The size of the body as sent, for limits that Procore's gateway applies to the bytes.
    pub(crate) len: usize,
}

impl Body {
    /// Removes and returns the binary part named `name`.
    pub(crate) fn take_file(&mut self, name: &str) -> Option<FilePart> {
        let i = self.files.iter().position(|f| f.name == name)?;
        Some(self.files.remove(i))
    }
}

/// How a body is read, from its `Content-Type`; none at all is read as JSON, as the
/// simulator always has.
enum Kind {
    Json,
    Form,
    Multipart,
}

fn kind_of(content_type: Option<&str>) -> Result<Kind, ApiError> {
    let Some(ct) = content_type else {
        return Ok(Kind::Json);
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" | "text/json" => Ok(Kind::Json),
        s if s.starts_with("application/") && s.ends_with("+json") => Ok(Kind::Json),
        "application/x-www-form-urlencoded" => Ok(Kind::Form),
        "multipart/form-data" => Ok(Kind::Multipart),
        _ => Err(unsupported()),
    }
}

/// Procore's error reference lists 406 for an unsupported content type.
fn unsupported() -> ApiError {
    ApiError::Raw(
        StatusCode::NOT_ACCEPTABLE,
        default_error(
            "not_acceptable",
            "Unsupported content type: send application/json, application/x-www-form-urlencoded or multipart/form-data",
        ),
    )
}

fn too_large() -> ApiError {
    ApiError::Raw(
        StatusCode::PAYLOAD_TOO_LARGE,
        default_error("payload_too_large", "The request body is too large"),
    )
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        match kind_of(ct.as_deref())? {
            Kind::Multipart => multipart(req, state).await,
            kind => {
                let bytes = Bytes::from_request(req, state).await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        ApiError::BadRequest(format!("Unreadable body: {e}"))
                    }
                })?;
                let value = match kind {
                    Kind::Form => form(&bytes),
                    _ => json(&bytes)?,
                };
                Ok(Body {
                    value,
                    files: Vec::new(),
                    len: bytes.len(),
                })
            }
        }
    }
}

/// An empty body is no parameters, as in Rails.
pub(crate) fn json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))
}

fn form(bytes: &[u8]) -> Value {
    let mut root = Map::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        insert(&mut root, &k, Value::String(v.into_owned()));
    }
    Value::Object(root)
}

async fn multipart<S: Send + Sync>(req: Request, state: &S) -> Result<Body, ApiError> {
    let bad = |e: String| ApiError::BadRequest(format!("Malformed multipart body: {e}"));
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| bad(e.body_text()))?;
    let mut root = Map::new();
    let mut files = Vec::new();
    let mut len = 0;
    while let Some(field) = mp.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            bad(e.body_text())
        }
    })? {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                bad(e.body_text())
            }
        })?;
        len += bytes.len();
        // `file[data]` is binary by definition, even when sent without a file name.
        let binary = filename.is_some() || name.ends_with("[data]");
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) if !binary => insert(&mut root, &name, Value::String(text)),
            _ => {
                // Rails puts an uploaded file among the params; here its name stands in for it
                // so the wrapper object (`file`) exists even when the file is its only part.
                let shown = filename.clone().unwrap_or_default();
                insert(&mut root, &name, Value::String(shown));
                files.push(FilePart {
                    name,
                    bytes: bytes.to_vec(),
                    filename,
                    content_type,
                });
            }
        }
    }
    Ok(Body {
        value: Value::Object(root),
        files,
        len,
    })
}

/// Splits a Rails parameter name into its key and bracket segments: `a[b][]` is `a`, `b`, ``.
/// A name whose brackets do not close is a plain key, as Rack treats it.
fn segments(name: &str) -> (String, Vec<String>) {
    let Some(open) = name.find('[').filter(|&i| i > 0) else {
        return (name.to_owned(), Vec::new());
    };
    let (key, mut rest) = name.split_at(open);
    let mut segs = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let Some(close) = r.find(']') else {
            return (name.to_owned(), Vec::new());
        };
        segs.push(r[..close].to_owned());
        rest = &r[close + 1..];
    }
    if !rest.is_empty() {
        return (name.to_owned(), Vec::new());
    }
    (key.to_owned(), segs)
}

/// Adds one `name=value` pair the way Rack's `normalize_params` does: `a[b]` nests an object,
/// `a[]` appends, and `a[][b]` starts a new object in the array when the last one already has
/// `b` (so `updates[][id]=1&updates[][name]=x&updates[][id]=2` is two updates).
pub(crate) fn insert(root: &mut Map<String, Value>, name: &str, value: Value) {
    let (key, segs) = segments(name);
    assign(root, &key, &segs, value);
}

fn assign(target: &mut Map<String, Value>, key: &str, rest: &[String], value: Value) {
    let Some((next, after)) = rest.split_first() else {
        target.insert(key.to_owned(), value);
        return;
    };
    let entry = target.entry(key.to_owned()).or_insert(Value::Null);
    if next.is_empty() {
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        let Value::Array(arr) = entry else { return };
        let Some((child, deeper)) = after.split_first() else {
            arr.push(value);
            return;
        };
        let reuse = matches!(arr.last(), Some(Value::Object(m)) if !has_path(m, child, deeper));
        if !reuse {
            arr.push(Value::Object(Map::new()));
        }
        if let Some(Value::Object(m)) = arr.last_mut() {
            assign(m, child, deeper, value);
        }
    } else {
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(m) = entry {
            assign(m, next, after, value);
        }
    }
}

/// Whether `m` already holds `key[rest..]`; a path through an array never counts as held, so
/// `a[][b][]` keeps appending to the same object, as in Rack.
fn has_path(m: &Map<String, Value>, key: &str, rest: &[String]) -> bool {
    if rest.iter().any(String::is_empty) {
        return false;
    }
    let mut cur = match m.get(key) {
        Some(v) => v,
        None => return false,
    };
    for seg in rest {
        match cur.get(seg.as_str()) {
            Some(v) => cur = v,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(body: &str) -> Value {
        form(body.as_bytes())
    }

    #[test]
    fn bracket_keys_nest_objects() {
        assert_eq!(
            parsed("user[first_name]=Ada&user[last_name]=L%C3%B6w&project[custom_fields][x]=1"),
            json!({"user": {"first_name": "Ada", "last_name": "Löw"}, "project": {"custom_fields": {"x": "1"}}})
        );
    }

    #[test]
    fn repeated_array_object_keys_start_a_new_element() {
        assert_eq!(
            parsed("updates[][id]=1&updates[][name]=a&updates[][id]=2&updates[][name]=b"),
            json!({"updates": [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]})
        );
    }

    #[test]
    fn empty_brackets_append_to_an_array() {
        assert_eq!(
            parsed("ids[]=1&ids[]=2&a[b][]=x&a[b][]=y"),
            json!({"ids": ["1", "2"], "a": {"b": ["x", "y"]}})
        );
    }

    #[test]
    fn unclosed_or_leading_brackets_are_plain_keys() {
        assert_eq!(
            parsed("a[b=1&[c]=2&d]=3&e[f]g=4"),
            json!({"a[b": "1", "[c]": "2", "d]": "3", "e[f]g": "4"})
        );
    }

    #[test]
    fn a_later_scalar_replaces_a_nested_value_and_back() {
        assert_eq!(parsed("a[b]=1&a=2"), json!({"a": "2"}));
        assert_eq!(parsed("a=2&a[b]=1"), json!({"a": {"b": "1"}}));
        assert_eq!(parsed("a[]=1&a[b]=2"), json!({"a": {"b": "2"}}));
    }

    #[test]
    fn content_types_map_to_their_parsers_and_others_are_refused() {
        assert!(matches!(kind_of(None), Ok(Kind::Json)));
        assert!(matches!(
            kind_of(Some("application/json; charset=utf-8")),
            Ok(Kind::Json)
        ));
        assert!(matches!(
            kind_of(Some("application/vnd.api+json")),
            Ok(Kind::Json)
        ));
        assert!(matches!(
            kind_of(Some("Application/X-WWW-Form-Urlencoded")),
            Ok(Kind::Form)
        ));
        assert!(matches!(
            kind_of(Some("multipart/form-data; boundary=x")),
            Ok(Kind::Multipart)
        ));
        assert!(kind_of(Some("text/xml")).is_err());
    }
}
