//! Request encodings and error answers: Procore (a Rails application) reads JSON, form and
//! multipart bodies alike, with bracket keys, and answers every refusal as JSON.

use procore_sim::demo;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::helpers::*;

fn users() -> String {
    format!("/rest/v1.0/companies/{}/users", demo::COMPANY_ID)
}

#[tokio::test]
async fn a_user_created_from_a_form_body_has_the_fields_of_its_bracket_keys() {
    let t = start().await;
    let (s, u) = t
        .json(t.post(&users()).form(&[
            ("user[first_name]", "Ada"),
            ("user[last_name]", "Lovelace"),
            ("user[email_address]", "ada@example.com"),
            ("user[job_title]", "Engineer"),
        ]))
        .await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(u["first_name"], "Ada");
    assert_eq!(u["last_name"], "Lovelace");
    assert_eq!(u["email_address"], "ada@example.com");
    assert_eq!(u["job_title"], "Engineer");
}

#[tokio::test]
async fn a_multipart_user_update_changes_the_user_and_ignores_an_avatar_file() {
    let t = start().await;
    let (_, u) = t
        .json(t.post(&users()).json(&json!({"user": {
            "last_name": "Hopper", "email_address": "grace@example.com"}})))
        .await;
    let form = Form::new().text("user[first_name]", "Grace").part(
        "user[avatar]",
        Part::bytes(vec![0x89, b'P', b'N', b'G', 0xff]).file_name("a.png"),
    );
    let (s, v) = t
        .json(t.patch(&format!("{}/{}", users(), u["id"])).multipart(form))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["first_name"], "Grace");
    assert_eq!(v["last_name"], "Hopper");
}

#[tokio::test]
async fn a_form_encoded_user_sync_reads_repeated_bracket_keys_as_one_update_each() {
    let t = start().await;
    let body = "updates[][origin_id]=hr-1&updates[][last_name]=One&updates[][email_address]=one%40example.com\
                &updates[][origin_id]=hr-2&updates[][last_name]=Two&updates[][email_address]=two%40example.com";
    let (s, v) = t
        .json(
            t.patch(&format!("{}/sync", users()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let names: Vec<&str> = v["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["One", "Two"], "{v}");
    assert_eq!(v["errors"], json!([]));
}

#[tokio::test]
async fn a_form_encoded_project_create_reads_its_bracket_keys() {
    let t = start().await;
    let (s, p) = t
        .json(t.post("/rest/v1.0/projects").form(&[
            ("company_id", demo::COMPANY_ID.to_string()),
            ("project[name]", "Form Encoded Tower".to_owned()),
            ("project[project_number]", "F-1".to_owned()),
        ]))
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["name"], "Form Encoded Tower");
    assert_eq!(p["project_number"], "F-1");
}

#[tokio::test]
async fn a_multipart_file_data_part_is_stored_as_the_files_content() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let bytes: Vec<u8> = vec![b'%', b'P', b'D', b'F', 0x00, 0xff, 0xfe, 0x80];
    let form = Form::new().text("file[name]", "binary.pdf").part(
        "file[data]",
        Part::bytes(bytes.clone())
            .file_name("binary.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let (s, f) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 201, "{f}");
    let url = f["file_versions"][0]["url"].as_str().unwrap();
    let r = t.http.get(url).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let form = Form::new()
        .text("file_version[notes]", "second")
        .part("file_version[data]", Part::bytes(&b"v2"[..]));
    let (s, v) = t
        .json(
            t.post(&format!(
                "/rest/v1.0/file_versions?project_id={pid}&file_id={}",
                f["id"]
            ))
            .multipart(form),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let r = t
        .http
        .get(v["url"].as_str().unwrap())
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"v2");
}

#[tokio::test]
async fn the_token_endpoint_takes_json_form_and_multipart_bodies() {
    let t = start().await;
    let url = t.url("/oauth/token");
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
    ];
    let json_body: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let mut multipart = Form::new();
    for (k, v) in fields {
        multipart = multipart.text(k, v);
    }
    for b in [
        t.http.post(&url).json(&json_body),
        t.http.post(&url).form(&fields),
        t.http.post(&url).multipart(multipart),
    ] {
        let (s, v) = t.json(b).await;
        assert_eq!(s, 200, "{v}");
        assert!(v["access_token"].is_string(), "{v}");
    }
}

#[tokio::test]
async fn an_unsupported_content_type_is_a_json_406() {
    let t = start().await;
    let (s, v) = t
        .json(
            t.post(&users())
                .header("Content-Type", "text/xml")
                .body("<user><last_name>X</last_name></user>"),
        )
        .await;
    assert_eq!(s, 406);
    assert_eq!(v["error"]["code"], "not_acceptable", "{v}");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_rails_400_param_missing() {
    let t = start().await;
    for body in [
        "\"str\"",
        "[]",
        "42",
        "null",
        "{\"user\": \"str\"}",
        "{\"user\": [1]}",
    ] {
        let (s, v) = t
            .json(
                t.post(&users())
                    .header("Content-Type", "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(s, 400, "{body}: {v}");
        assert_eq!(
            v["errors"]["base"][0], "param is missing or the value is empty: user",
            "{body}"
        );
    }
    let (s, v) = t
        .json(
            t.post(&users())
                .header("Content-Type", "application/json")
                .body("{\"user\": "),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v["errors"]["base"][0]
        .as_str()
        .unwrap()
        .starts_with("Malformed JSON"));
}

#[tokio::test]
async fn a_property_of_the_wrong_type_is_dropped_as_rails_unpermitted_parameters_are() {
    let t = start().await;
    let (s, v) = t
        .json(t.post(&users()).json(&json!({"user": {
            "last_name": {"nested": true}, "email_address": "x@example.com"}})))
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["errors"]["last_name"][0], "can't be blank");
    let (_, u) = t
        .json(t.post(&users()).json(&json!({"user": {
            "last_name": "Kept", "email_address": "kept@example.com"}})))
        .await;
    let (s, v) = t
        .json(
            t.patch(&format!("{}/{}", users(), u["id"]))
                .json(&json!({"user": {"last_name": ["a"], "job_title": {"x": 1}}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["last_name"], "Kept");
    assert_eq!(v["job_title"], Value::Null);
}

#[tokio::test]
async fn a_method_the_route_does_not_take_is_a_json_404_as_an_unmatched_rails_route() {
    let t = start().await;
    let (s, v) = t
        .json(t.auth(t.http.put(t.url("/rest/v1.0/projects"))))
        .await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "not_found", "{v}");
}

#[tokio::test]
async fn an_oversized_body_is_a_json_413() {
    let t = start().await;
    let big = format!(
        "{{\"user\": {{\"last_name\": \"{}\"}}}}",
        "x".repeat(3 << 20)
    );
    let (s, v) = t
        .json(
            t.post(&users())
                .header("Content-Type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!(s, 413);
    assert_eq!(v["error"]["code"], "payload_too_large", "{v}");
}

#[tokio::test]
async fn a_v11_upload_is_declared_from_a_multipart_body() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let form = Form::new()
        .text("response_filename", "drawing.pdf")
        .text("response_content_type", "application/pdf");
    let (s, u) = t
        .json(
            t.post(&format!("/rest/v1.1/projects/{pid}/uploads"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    assert!(u["uuid"].is_string(), "{u}");
    assert_eq!(u["fields"]["Content-Type"], "application/pdf", "{u}");
}
