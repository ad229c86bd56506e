use procore_sim::demo;
use serde_json::{json, Value};

use crate::helpers::*;

async fn upload(t: &T, pid: i64, name: &str, bytes: &'static [u8]) -> String {
    let (s, u) = t
        .json(
            t.post(&format!("/rest/v1.1/projects/{pid}/uploads")).json(
                &json!({"response_filename": name, "response_content_type": "application/pdf"}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let url = u["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&t.run.url()));
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in u["fields"].as_object().unwrap() {
        form = form.text(k.clone(), v.as_str().unwrap().to_owned());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    // No bearer token on the storage POST.
    let r = t.http.post(&url).multipart(form).send().await.unwrap();
    assert!(r.status().is_success());
    u["uuid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn upload_then_file_create_makes_bytes_downloadable_with_the_token() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let (s, folder) = t
        .json(
            t.post(&format!("/rest/v1.0/folders?project_id={pid}"))
                .json(&json!({"folder": {"name": "06 Corfix Forms"}})),
        )
        .await;
    assert_eq!(s, 201);
    let uuid = upload(&t, pid, "Form 2026-11-01.pdf", b"%PDF-1.7 hello").await;
    let (s, f) = t
        .json(t.post(&format!("/rest/v1.0/files?project_id={pid}")).json(&json!({"file": {"name": "Form 2026-11-01.pdf", "parent_id": folder["id"], "upload_uuid": uuid}})))
        .await;
    assert_eq!(s, 201, "{f}");
    let url = f["file_versions"][0]["url"].as_str().unwrap();
    let r = t.http.get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = t.http.get(url).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.7 hello");
    // New version through PATCH with another upload.
    let uuid2 = upload(&t, pid, "v2.pdf", b"%PDF-1.7 v2").await;
    let (s, f2) = t
        .json(
            t.patch(&format!("/rest/v1.0/files/{}?project_id={pid}", f["id"]))
                .json(&json!({"file": {"upload_uuid": uuid2}})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(f2["file_versions"].as_array().unwrap().len(), 2);
    assert_eq!(f2["name"], "Form 2026-11-01.pdf");
}

#[tokio::test]
async fn file_name_collision_is_renamed_with_a_counter_before_the_extension() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let mut names = Vec::new();
    for _ in 0..3 {
        let form = reqwest::multipart::Form::new()
            .text("file[name]", "Form 2026-11-01.pdf")
            .part(
                "file[data]",
                reqwest::multipart::Part::bytes(&b"pdf"[..]).file_name("x.pdf"),
            );
        let (s, v) = t
            .json(
                t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                    .multipart(form),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        names.push(v["name"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        names,
        [
            "Form 2026-11-01.pdf",
            "Form 2026-11-01 (1).pdf",
            "Form 2026-11-01 (2).pdf"
        ]
    );
    let form = reqwest::multipart::Form::new()
        .text("file[name]", "Form 2026-11-01.pdf")
        .text("file[unique_name]", "false")
        .part("file[data]", reqwest::multipart::Part::bytes(&b"pdf"[..]));
    let (s, v) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(v["errors"]["name"][0], "has already been taken");
}

#[tokio::test]
async fn folder_name_collision_is_422_and_root_lists_direct_children() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let (s, v) = t
        .json(
            t.post(&format!("/rest/v1.0/folders?project_id={pid}"))
                .json(&json!({"folder": {"name": "Drawings"}})),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(v["errors"]["name"][0], "has already been taken");
    let (_, root) = t
        .json(t.get(&format!("/rest/v1.0/folders?project_id={pid}")))
        .await;
    assert_eq!(root["name"], "Root Folder");
    let drawings = root["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Drawings")
        .unwrap()
        .clone();
    assert_eq!(drawings["files"], json!([]));
    let (_, inner) = t
        .json(t.get(&format!(
            "/rest/v1.0/folders/{}?project_id={pid}",
            drawings["id"]
        )))
        .await;
    assert_eq!(inner["files"][0]["name"], "Site Plan.pdf");
    let _ = demo::COMPANY_ID;
    let _: Option<Value> = None;
}
