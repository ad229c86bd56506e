//! The OpenAPI subset in `../shared/procore-api/`, turned into JSON Schema validators.
//!
//! The subset was generated from Procore's own spec with simplifications (see its README): it
//! carries `nullable` on only a few properties, yet Procore answers with `null` for absent values
//! (a root folder's `parent_id`, a project without a number). So a property that is not `required`
//! may also be `null`, but it must be there, and nothing undocumented may be; everything else
//! (types, enums, formats of dates and timestamps) is checked as written.

use serde_json::{json, Map, Value};
use std::path::PathBuf;

pub struct Spec {
    doc: Value,
}

/// Where `../shared` sits: beside the repository root, in CI as on a developer's machine.
pub fn shared_dir() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidate = here.join("../../../shared");
    assert!(
        candidate
            .join("procore-api/procore-openapi-subset.json")
            .exists(),
        "the conformance suite needs ../shared/procore-api beside the repository (looked in {})",
        candidate.display()
    );
    candidate
}

impl Spec {
    pub fn load() -> Spec {
        let path = shared_dir().join("procore-api/procore-openapi-subset.json");
        let text = std::fs::read_to_string(&path).expect("read the OpenAPI subset");
        Spec {
            doc: serde_json::from_str(&text).expect("the OpenAPI subset is JSON"),
        }
    }

    /// Every (METHOD, path template) the subset documents.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for (method, _) in item.as_object().expect("path item") {
                if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                    out.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    pub fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.doc["paths"]
            .get(template)?
            .get(method.to_lowercase())
            .filter(|v| v.is_object())
    }

    /// The documented response for a status, falling back to `default` as OpenAPI does.
    pub fn response(&self, method: &str, template: &str, status: u16) -> Option<&Value> {
        let responses = self.operation(method, template)?.get("responses")?;
        responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
    }

    /// Header names the documented response declares, resolved through `components.headers`.
    pub fn response_headers(&self, method: &str, template: &str, status: u16) -> Vec<String> {
        self.response(method, template, status)
            .and_then(|r| r.get("headers"))
            .and_then(Value::as_object)
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The JSON body schema of a documented response, converted to JSON Schema.
    pub fn body_schema(&self, method: &str, template: &str, status: u16) -> Option<Value> {
        let schema = self
            .response(method, template, status)?
            .get("content")?
            .get("application/json")?
            .get("schema")?;
        Some(to_json_schema(schema))
    }
}

/// OpenAPI 3.0 schema object to JSON Schema: every documented property must be present
/// (Procore sends `null` rather than leaving one out), non-required properties accept `null`,
/// properties the schema does not document are refused, and the OpenAPI-only keywords are
/// dropped.
///
/// The subset's generator cut schemas deeper than three levels to a placeholder,
/// `{"type": "object", "description": "(nested object)"}`, which says nothing about the real
/// shape (a project's nested `id` is an integer, not an object), so a placeholder accepts any
/// value. An object with free-form `additionalProperties` or without `properties` keeps its
/// undocumented keys, and a templated name such as `custom_field_%{definition_id}` accepts any
/// key `custom_field_<digits>`.
pub fn to_json_schema(schema: &Value) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if obj.get("description").and_then(Value::as_str) == Some("(nested object)") {
        return json!({});
    }
    let mut out = Map::new();
    let required: Vec<String> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for (key, value) in obj {
        match key.as_str() {
            "properties" => {
                let mut props = Map::new();
                let mut patterns = Map::new();
                let mut present = Vec::new();
                for (name, prop) in value.as_object().into_iter().flatten() {
                    let converted = to_json_schema(prop);
                    let converted = if required.contains(name) {
                        converted
                    } else {
                        or_null(converted)
                    };
                    if let Some(at) = name.find("%{") {
                        patterns.insert(format!("^{}[0-9]+$", &name[..at]), converted);
                    } else {
                        present.push(Value::from(name.as_str()));
                        props.insert(name.clone(), converted);
                    }
                }
                let documents_properties = !props.is_empty() || !patterns.is_empty();
                out.insert(key.clone(), Value::Object(props));
                if !patterns.is_empty() {
                    out.insert("patternProperties".into(), Value::Object(patterns));
                }
                if documents_properties {
                    out.insert("required".into(), Value::Array(present));
                    if !crate::shapes::free_form(obj.get("additionalProperties")) {
                        out.insert("additionalProperties".into(), json!(false));
                    }
                }
            }
            "required" => {}
            "items" | "additionalProperties" => {
                if !out.contains_key(key) {
                    out.insert(key.clone(), to_json_schema(value));
                }
            }
            "example" | "x-source" | "nullable" | "deprecated" | "readOnly" | "writeOnly" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

fn or_null(schema: Value) -> Value {
    // An enum restricts values even when `type` allows null, so `null` joins the enum too.
    match schema {
        Value::Object(mut obj) => {
            if let Some(Value::Array(values)) = obj.get_mut("enum") {
                if !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
            }
            match obj.get("type").cloned() {
                Some(Value::String(t)) => {
                    obj.insert("type".into(), json!([t, "null"]));
                    Value::Object(obj)
                }
                Some(_) => Value::Object(obj),
                None => Value::Object(obj),
            }
        }
        other => other,
    }
}

/// Validates `instance` against `schema`, returning every violation with its JSON pointer.
pub fn violations(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the converted schema is valid JSON Schema");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn a_non_required_property_accepts_null_but_keeps_its_type() {
    let schema = to_json_schema(&json!({
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer"},
            "parent_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["a", "b"]}
        }
    }));
    assert!(violations(
        &schema,
        &json!({"id": 1, "parent_id": null, "status": null})
    )
    .is_empty());
    assert!(!violations(&schema, &json!({"id": null})).is_empty());
    assert!(!violations(&schema, &json!({"id": 1, "parent_id": "7"})).is_empty());
    assert!(!violations(&schema, &json!({"id": 1, "status": "c"})).is_empty());
}

#[test]
fn every_documented_property_must_be_present_and_no_other() {
    let schema = to_json_schema(&json!({
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}
    }));
    assert!(violations(&schema, &json!({"id": 1, "name": null})).is_empty());
    assert!(!violations(&schema, &json!({"id": 1})).is_empty());
    assert!(!violations(&schema, &json!({"id": 1, "name": null, "extra": 2})).is_empty());
}

#[test]
fn free_form_objects_and_templated_names_keep_their_own_keys() {
    let schema = to_json_schema(&json!({
        "type": "object",
        "properties": {
            "meta": {"type": "object", "additionalProperties": true, "properties": {"a": {}}},
            "loose": {"type": "object"},
            "custom_fields": {"type": "object", "properties": {
                "custom_field_%{definition_id}": {"type": "object"}}}
        }
    }));
    let ok = json!({"meta": {"a": 1, "b": 2}, "loose": {"x": 1},
                    "custom_fields": {"custom_field_12": {"value": 1}}});
    assert!(violations(&schema, &ok).is_empty());
    let bad = json!({"meta": {"a": 1}, "loose": {}, "custom_fields": {"other": 1}});
    assert!(!violations(&schema, &bad).is_empty());
    let wrong_type = json!({"meta": {"a": 1}, "loose": {},
                            "custom_fields": {"custom_field_12": "text"}});
    assert!(!violations(&schema, &wrong_type).is_empty());
}

#[test]
fn a_placeholder_cut_by_the_generator_accepts_any_value() {
    let schema = to_json_schema(&json!({
        "type": "object",
        "properties": {"project": {"type": "object", "properties": {
            "id": {"type": "object", "description": "(nested object)"}}}}
    }));
    assert!(violations(&schema, &json!({"project": {"id": 5000000019_i64}})).is_empty());
}

#[test]
fn dates_are_checked_as_dates() {
    let schema = to_json_schema(&json!({
        "type": "object",
        "properties": {"start_date": {"type": "string", "format": "date"}}
    }));
    assert!(violations(&schema, &json!({"start_date": "2026-11-22"})).is_empty());
    assert!(!violations(&schema, &json!({"start_date": "22/11/2026"})).is_empty());
}
