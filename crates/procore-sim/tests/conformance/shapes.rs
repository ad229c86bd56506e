//! `src/shapes.json`, the response shapes the simulator completes its answers to, is generated
//! from the OpenAPI subset here; the test fails with the refresh command when it is stale.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::spec::Spec;

/// One schema reduced to the data file's notation (see `src/shape.rs`'s `parse`).
pub fn shape_of(schema: &Value) -> Value {
    let Some(obj) = schema.as_object() else {
        return json!(0);
    };
    if obj.get("description").and_then(Value::as_str) == Some("(nested object)") {
        return json!(0);
    }
    if let Some(items) = obj.get("items") {
        let item = shape_of(items);
        return if item == json!(0) {
            item
        } else {
            json!([item])
        };
    }
    let Some(props) = obj.get("properties").and_then(Value::as_object) else {
        return json!(0);
    };
    if props.is_empty() {
        return json!(0);
    }
    let mut out = Map::new();
    let mut prefixes = Vec::new();
    for (name, prop) in props {
        match name.find("%{") {
            Some(at) => prefixes.push(Value::from(&name[..at])),
            None => {
                out.insert(name.clone(), shape_of(prop));
            }
        }
    }
    let required: Vec<Value> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter(|n| out.contains_key(n.as_str().unwrap_or("")))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if !required.is_empty() {
        out.insert("!".into(), Value::Array(required));
    }
    if free_form(obj.get("additionalProperties")) {
        out.insert("*".into(), json!(1));
    }
    if !prefixes.is_empty() {
        prefixes.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        prefixes.dedup();
        out.insert("~".into(), Value::Array(prefixes));
    }
    Value::Object(out)
}

/// `additionalProperties: true` or a schema: undocumented keys are allowed there.
pub fn free_form(additional: Option<&Value>) -> bool {
    match additional {
        None | Some(Value::Bool(false)) => false,
        Some(_) => true,
    }
}

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

/// The whole data file, one operation and status a line, sorted.
pub fn generate(spec: &Spec) -> String {
    let mut entries = BTreeMap::new();
    for (method, template) in spec.operations() {
        let Some(responses) = spec
            .operation(&method, &template)
            .and_then(|op| op.get("responses"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (status, response) in responses {
            if status.parse::<u16>().is_err() {
                continue;
            }
            if let Some(schema) = response.pointer("/content/application~1json/schema") {
                let key = format!("{method} {} {status}", normalize(&template));
                entries.insert(key, shape_of(schema));
            }
        }
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), v))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

fn data_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/shapes.json")
}

#[test]
fn the_shapes_file_is_generated_from_the_openapi_subset() {
    let fresh = generate(&Spec::load());
    if std::env::var_os("REFRESH_SHAPES").is_some() {
        std::fs::write(data_file(), &fresh).expect("write src/shapes.json");
    }
    let committed = std::fs::read_to_string(data_file()).unwrap_or_default();
    assert!(
        committed == fresh,
        "crates/procore-sim/src/shapes.json is stale; refresh it with \
         `REFRESH_SHAPES=1 cargo nextest run -p procore-sim --test conformance shapes_file`"
    );
}

#[test]
fn a_schema_reduces_to_names_nesting_arrays_and_required_flags() {
    let shape = shape_of(&json!({
        "type": "array",
        "items": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "integer"},
            "company": {"type": "object", "properties": {"name": {"type": "string"}}},
            "deep": {"type": "object", "description": "(nested object)"},
            "meta": {"type": "object", "additionalProperties": true, "properties": {"a": {}}},
            "custom_fields": {"type": "object", "properties": {
                "custom_field_%{definition_id}": {"type": "object"}}},
            "tags": {"type": "array", "items": {"type": "string"}}
        }}
    }));
    assert_eq!(
        shape,
        json!([{"id": 0, "company": {"name": 0}, "deep": 0, "meta": {"a": 0, "*": 1},
                "custom_fields": {"~": ["custom_field_"]}, "tags": 0, "!": ["id"]}])
    );
}
