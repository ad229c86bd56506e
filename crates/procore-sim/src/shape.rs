//! Every JSON response completed to the shape Procore documents for it.
//!
//! Procore sends every property of a response schema, `null` where a record has no value, and
//! nothing else. Handlers render what the world model knows; this layer, run after the handler
//! of every routed operation, makes the body match the documented shape: a documented property
//! that is missing becomes `null`, a property the schema does not document is removed, nested
//! objects and arrays of objects are completed the same way. So a route added later gets the
//! treatment without its handler knowing the schema.
//!
//! The shapes come from `shapes.json` beside this file, generated from the OpenAPI subset by the
//! conformance suite (`tests/conformance/shapes.rs`), which fails with the refresh command when
//! the file is stale: the simulator must not read `../shared` at run time.
//!
//! The same pass can also null present, non-required properties of read answers at random
//! ([`crate::SimConfig::null_probability`]), so a client can be tested against every field
//! Procore is allowed to leave empty.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use serde_json::{Map, Value};

use crate::Sim;

/// A response schema reduced to what completion needs.
#[derive(Debug, PartialEq)]
pub(crate) enum Shape {
    /// A scalar, a generator placeholder, or an object whose properties are not documented:
    /// kept as it is.
    Any,
    Array(Box<Shape>),
    Object(Obj),
}

#[derive(Debug, PartialEq)]
pub(crate) struct Obj {
    /// `(name, required, shape)`, in the file's order.
    props: Vec<(String, bool, Shape)>,
    /// Free-form `additionalProperties`: undocumented keys stay.
    open: bool,
    /// Templated names such as `custom_field_%{definition_id}`, as their literal prefix: keys
    /// that start with one stay.
    prefixes: Vec<String>,
}

/// Reads one shape of the data file: `0` is [`Shape::Any`], `[s]` an array of `s`, an object
/// maps property names to shapes, with `"!"` listing the required ones, `"*": 1` for free-form
/// additional properties and `"~"` the prefixes of templated names.
pub(crate) fn parse(v: &Value) -> Shape {
    match v {
        Value::Array(items) => Shape::Array(Box::new(items.first().map_or(Shape::Any, parse))),
        Value::Object(map) => {
            let strings = |k: &str| -> Vec<String> {
                map.get(k)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let required = strings("!");
            let props = map
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "!" | "*" | "~"))
                .map(|(k, s)| (k.clone(), required.contains(k), parse(s)))
                .collect();
            Shape::Object(Obj {
                props,
                open: map.contains_key("*"),
                prefixes: strings("~"),
            })
        }
        _ => Shape::Any,
    }
}

/// `(METHOD, path template with every parameter written `{}`, status)` as one key.
fn key(method: &str, template: &str, status: u16) -> String {
    format!("{method} {} {status}", normalize(template))
}

/// Path parameters are named differently by the router and the spec (`{id}`, `{hook_id}`).
fn normalize(template: &str) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn table() -> &'static HashMap<String, Shape> {
    static TABLE: OnceLock<HashMap<String, Shape>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let doc: Value = serde_json::from_str(include_str!("shapes.json")).unwrap_or(Value::Null);
        doc.as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), parse(v))).collect())
            .unwrap_or_default()
    })
}

/// The documented shape of an answer, if the subset documents a JSON body for it.
pub(crate) fn lookup(method: &str, template: &str, status: u16) -> Option<&'static Shape> {
    table().get(&key(method, template, status))
}

/// Nulls present, non-required properties with probability `p`.
pub(crate) struct Nuller<'a, R: Rng> {
    pub(crate) p: f64,
    pub(crate) rng: &'a mut R,
}

/// Properties never nulled at random: a record's identity and the v2 `data` envelope. The
/// subset marks almost nothing `required` (its generator kept Procore's sparse `required`
/// lists), yet Procore identifies every record it returns; nulling an `id` would test a
/// response Procore does not send.
const SPARED: &[&str] = &["id", "data"];

/// Completes `value` to `shape` (see the module doc). With `fill` false (a compact view, which
/// Procore documents as a few fields of the full schema) undocumented properties still go but
/// missing ones are not added.
pub(crate) fn complete<R: Rng>(
    shape: &Shape,
    value: &mut Value,
    fill: bool,
    nuller: &mut Option<Nuller<R>>,
) {
    match (shape, value) {
        (Shape::Array(item), Value::Array(values)) => {
            for v in values {
                complete(item, v, fill, nuller);
            }
        }
        (Shape::Object(obj), Value::Object(map)) => complete_object(obj, map, fill, nuller),
        _ => {}
    }
}

fn complete_object<R: Rng>(
    obj: &Obj,
    map: &mut Map<String, Value>,
    fill: bool,
    nuller: &mut Option<Nuller<R>>,
) {
    if !obj.open {
        map.retain(|k, _| {
            obj.props.iter().any(|(name, _, _)| name == k)
                || obj.prefixes.iter().any(|p| k.starts_with(p.as_str()))
        });
    }
    for (name, required, shape) in &obj.props {
        if !fill && !map.contains_key(name) {
            continue;
        }
        let v = map.entry(name.clone()).or_insert(Value::Null);
        if let Some(n) = nuller {
            if !required
                && !v.is_null()
                && !SPARED.contains(&name.as_str())
                && n.rng.random_bool(n.p)
            {
                *v = Value::Null;
                continue;
            }
        }
        complete(shape, v, fill, nuller);
    }
}

/// Answers whose blank values Procore leaves out instead of sending `null`: its OAuth server
/// (Doorkeeper) drops blank members of the token response, and Procore's documented
/// client-credentials answer has no `refresh_token`.
const BLANKS_OMITTED: &[(&str, &str)] = &[("POST", "/oauth/token")];

/// The axum layer (a `route_layer`, so the matched route is known).
pub(crate) async fn layer(
    State(sim): State<Sim>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_owned();
    let compact = req.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|kv| matches!(kv, "view=compact" | "serializer_view=compact"))
    });
    let resp = next.run(req).await;
    let Some(template) = matched else {
        return resp;
    };
    let Some(shape) = lookup(&method, template.as_str(), resp.status().as_u16()) else {
        return resp;
    };
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let p = sim.inner.config.null_probability.clamp(0.0, 1.0);
    // Only reads: a write's answer echoes what the client just sent (an insurance sync is
    // matched back by the `origin_id` it was given), and OAuth answers are not records
    // (RFC 6749 requires their members).
    if p > 0.0 && !compact && method == "GET" && !template.as_str().starts_with("/oauth/") {
        let mut rng = sim.lock_nuller();
        let mut nuller = Some(Nuller { p, rng: &mut *rng });
        complete(shape, &mut value, true, &mut nuller);
    } else {
        complete::<rand::rngs::SmallRng>(shape, &mut value, !compact, &mut None);
    }
    if BLANKS_OMITTED.contains(&(method.as_str(), template.as_str())) {
        if let Value::Object(map) = &mut value {
            map.retain(|_, v| !v.is_null());
        }
    }
    let out = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;

    fn run(shape: Value, mut value: Value) -> Value {
        complete::<rand::rngs::SmallRng>(&parse(&shape), &mut value, true, &mut None);
        value
    }

    #[test]
    fn a_missing_documented_property_becomes_null_and_an_undocumented_one_goes() {
        let out = run(
            json!({"id": 0, "name": 0, "!": ["id"]}),
            json!({"id": 1, "secret": true}),
        );
        assert_eq!(out, json!({"id": 1, "name": null}));
    }

    #[test]
    fn nested_objects_and_arrays_of_objects_are_completed_too() {
        let out = run(
            json!([{"company": {"id": 0, "name": 0}, "tags": [{"a": 0}]}]),
            json!([{"company": {"id": 3, "x": 1}, "tags": [{"b": 2}]}]),
        );
        assert_eq!(
            out,
            json!([{"company": {"id": 3, "name": null}, "tags": [{"a": null}]}])
        );
    }

    #[test]
    fn free_form_objects_placeholders_and_templated_keys_keep_what_they_hold() {
        let out = run(
            json!({"meta": {"a": 0, "*": 1}, "deep": 0,
                   "custom_fields": {"~": ["custom_field_"]}}),
            json!({"meta": {"b": 1}, "deep": {"x": 1},
                   "custom_fields": {"custom_field_7": {"value": 1}, "other": 2}}),
        );
        assert_eq!(
            out,
            json!({"meta": {"a": null, "b": 1}, "deep": {"x": 1},
                   "custom_fields": {"custom_field_7": {"value": 1}}})
        );
    }

    #[test]
    fn a_compact_view_loses_undocumented_keys_but_gains_no_nulls() {
        let mut v = json!([{"id": 1, "name": "a", "x": 2}]);
        complete::<rand::rngs::SmallRng>(
            &parse(&json!([{"id": 0, "name": 0, "city": 0}])),
            &mut v,
            false,
            &mut None,
        );
        assert_eq!(v, json!([{"id": 1, "name": "a"}]));
    }

    #[test]
    fn the_nuller_at_certainty_nulls_every_optional_property_but_ids() {
        let shape = parse(&json!({"id": 0, "name": 0, "code": 0, "!": ["code"]}));
        let mut v = json!({"id": 1, "name": "a", "code": "c"});
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        complete(
            &shape,
            &mut v,
            true,
            &mut Some(Nuller {
                p: 1.0,
                rng: &mut rng,
            }),
        );
        assert_eq!(v, json!({"id": 1, "name": null, "code": "c"}));
    }

    #[test]
    fn route_and_spec_parameter_names_meet_in_one_key() {
        assert_eq!(
            key("GET", "/rest/v1.0/webhooks/hooks/{id}/triggers", 200),
            key("GET", "/rest/v1.0/webhooks/hooks/{hook_id}/triggers", 200)
        );
    }
}
