//! v2.1 unified uploads (NOTES §8): create, part PUTs, completion, status, association.

use std::time::Duration;

use procore_sim::world::{Level, Permissions};
use procore_sim::{demo, Faults};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

const MIB: usize = 1024 * 1024;

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn uploads(pid: i64) -> String {
    format!(
        "/rest/v2.1/companies/{}/projects/{pid}/uploads",
        demo::COMPANY_ID
    )
}

fn declaration(name: &str, parts: &[&[u8]]) -> Value {
    let whole: Vec<u8> = parts.concat();
    json!({
        "file_name": name,
        "file_size": whole.len(),
        "content_type": "application/pdf",
        "sha256": sha(&whole),
        "segments": parts.iter().map(|p| json!({"size": p.len(), "sha256": sha(p), "md5": "ignored"})).collect::<Vec<_>>(),
    })
}

/// Declares an upload of `parts` and returns its `data`.
async fn declare(t: &T, pid: i64, name: &str, parts: &[&[u8]]) -> Value {
    let (s, v) = t
        .json(t.post(&uploads(pid)).json(&declaration(name, parts)))
        .await;
    assert_eq!(s, 201, "{v}");
    v["data"].clone()
}

/// PUTs one part exactly as told (URL and headers), without a token.
async fn put(t: &T, segment: &Value, bytes: &[u8]) -> reqwest::Response {
    let mut req = t
        .http
        .put(segment["url"].as_str().unwrap())
        .body(bytes.to_vec());
    for (k, v) in segment["headers"].as_object().unwrap() {
        req = req.header(k.as_str(), v.as_str().unwrap());
    }
    req.send().await.unwrap()
}

async fn put_all(t: &T, data: &Value, parts: &[&[u8]]) -> Vec<String> {
    let mut etags = Vec::new();
    for (seg, bytes) in data["segments"].as_array().unwrap().iter().zip(parts) {
        let r = put(t, seg, bytes).await;
        assert_eq!(r.status().as_u16(), 200);
        let etag = header(&r, "etag").expect("an ETag");
        etags.push(etag.trim_matches('"').to_owned());
    }
    etags
}

/// Declares, sends and completes `parts`; reads the status once (turning it `available`).
async fn available(t: &T, pid: i64, name: &str, parts: &[&[u8]]) -> String {
    let data = declare(t, pid, name, parts).await;
    let etags = put_all(t, &data, parts).await;
    let id = data["upload_id"].as_str().unwrap().to_owned();
    let (s, v) = t
        .json(
            t.patch(&format!("{}/{id}", uploads(pid)))
                .json(&json!({ "part_etags": etags })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = t.json(t.get(&format!("{}/{id}", uploads(pid)))).await;
    assert_eq!(v["data"]["status"], "available");
    id
}

#[tokio::test]
async fn a_unified_upload_is_available_after_its_parts_are_completed_and_can_become_a_file() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let first = vec![b'a'; 5 * MIB];
    let second = b"%PDF-1.7 tail".to_vec();
    let parts: [&[u8]; 2] = [&first, &second];
    let data = declare(&t, pid, "Big Form.pdf", &parts).await;
    assert_eq!(data["status"], "ready");
    assert_eq!(data["total_parts"], 2);
    assert!(data["upload_id"].is_string(), "v2 ids are strings");
    let segs = data["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[0]["headers"]["Content-Length"], (5 * MIB).to_string());
    let id = data["upload_id"].as_str().unwrap().to_owned();
    let path = format!("{}/{id}", uploads(pid));

    let etags = put_all(&t, &data, &parts).await;
    // Repeating a part PUT is harmless and answers the same ETag.
    let again = put(&t, &segs[1], &second).await;
    assert_eq!(
        header(&again, "etag").unwrap().trim_matches('"'),
        etags[1].as_str()
    );

    // Partial progress: a null ETag leaves the upload `receiving`.
    let (s, v) = t
        .json(
            t.patch(&path)
                .json(&json!({"part_etags": [etags[0], null]})),
        )
        .await;
    assert_eq!((s, v["data"]["status"].as_str()), (200, Some("receiving")));
    // The NOTES §8 body shape is accepted too.
    let (s, v) = t
        .json(t.patch(&path).json(
            &json!({"segments": [{"etag": format!("\"{}\"", etags[0])}, {"etag": etags[1]}]}),
        ))
        .await;
    assert_eq!((s, v["data"]["status"].as_str()), (200, Some("complete")));

    // Not usable until a status read has seen it `available`.
    let (s, v) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .json(&json!({"file": {"upload_uuid": id}})),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["errors"]["upload_uuid"][0], "upload is not available");
    let (s, v) = t.json(t.get(&path)).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["status"], "available");
    assert_eq!(v["data"]["file_size"], 5 * MIB + second.len());
    assert_eq!(v["data"]["segments"], json!([]));

    let (s, f) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .json(&json!({"file": {"upload_uuid": id}})),
        )
        .await;
    assert_eq!(s, 201, "{f}");
    assert_eq!(f["name"], "Big Form.pdf", "named after the upload");
    let url = f["file_versions"][0]["url"].as_str().unwrap();
    let r = t.http.get(url).bearer_auth(&t.token).send().await.unwrap();
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), 5 * MIB + second.len());
    assert_eq!(&body[5 * MIB..], second.as_slice());

    // New versions through both version endpoints.
    let v2 = available(&t, pid, "v2.pdf", &[b"%PDF v2"]).await;
    let (s, _) = t
        .json(
            t.patch(&format!("/rest/v1.0/files/{}?project_id={pid}", f["id"]))
                .json(&json!({"file": {"upload_uuid": v2}})),
        )
        .await;
    assert_eq!(s, 200);
    let v3 = available(&t, pid, "v3.pdf", &[b"%PDF v3"]).await;
    let (s, v) = t
        .json(
            t.post(&format!(
                "/rest/v1.0/file_versions?project_id={pid}&file_id={}",
                f["id"]
            ))
            .json(&json!({"file_version": {"notes": "rev 3", "upload_uuid": v3}})),
        )
        .await;
    assert_eq!(s, 201, "{v}");

    // Storage PUTs are logged without a client; the API calls with one.
    let log = t.sim().request_log();
    let storage: Vec<_> = log
        .iter()
        .filter(|e| e.path.starts_with("/_sim/s3/unified/"))
        .collect();
    assert_eq!(storage.len(), 5);
    assert!(storage.iter().all(|e| e.client_id.is_none()));
    assert!(log
        .iter()
        .filter(|e| e.path.starts_with("/rest/v2.1/"))
        .all(|e| e.client_id.as_deref() == Some(demo::CLIENT_ID)));
}

#[tokio::test]
async fn a_part_whose_checksum_does_not_match_is_refused() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let data = declare(&t, pid, "a.pdf", &[b"right bytes"]).await;
    let seg = &data["segments"][0];

    let r = put(&t, seg, b"wrong bytes").await;
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(v["errors"]["sha256"][0].is_string(), "{v}");

    // A body of another size than declared (sent without the declared Content-Length).
    let r = t
        .http
        .put(seg["url"].as_str().unwrap())
        .body(b"short".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(v["errors"]["size"][0].is_string(), "{v}");

    // Presigned URLs take no token.
    let r = t
        .http
        .put(seg["url"].as_str().unwrap())
        .bearer_auth(&t.token)
        .body(b"right bytes".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // The declared whole-file checksum is checked at completion.
    let mut decl = declaration("b.pdf", &[b"part"]);
    decl["sha256"] = json!(sha(b"something else"));
    let (_, v) = t.json(t.post(&uploads(pid)).json(&decl)).await;
    let data = &v["data"];
    let etags = put_all(&t, data, &[b"part"]).await;
    let (s, v) = t
        .json(
            t.patch(&format!(
                "{}/{}",
                uploads(pid),
                data["upload_id"].as_str().unwrap()
            ))
            .json(&json!({ "part_etags": etags })),
        )
        .await;
    assert_eq!(s, 422);
    assert!(v["errors"]["sha256"][0].is_string(), "{v}");
}

#[tokio::test]
async fn completing_with_a_wrong_etag_is_refused_and_unknown_uploads_are_404() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let data = declare(&t, pid, "a.pdf", &[b"bytes"]).await;
    let path = format!("{}/{}", uploads(pid), data["upload_id"].as_str().unwrap());
    // Before the PUT no ETag can match.
    let (s, v) = t
        .json(t.patch(&path).json(&json!({"part_etags": ["nope"]})))
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["errors"]["part_etags"][0].is_string());
    put_all(&t, &data, &[b"bytes"]).await;
    let (s, _) = t
        .json(t.patch(&path).json(&json!({"part_etags": ["nope"]})))
        .await;
    assert_eq!(s, 422);
    let (s, _) = t
        .json(t.patch(&path).json(&json!({"part_etags": []})))
        .await;
    assert_eq!(s, 422, "one ETag per part");

    let unknown = format!("{}/NO-SUCH-UPLOAD", uploads(pid));
    let (s, v) = t.json(t.get(&unknown)).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(
        t.json(t.patch(&unknown).json(&json!({"part_etags": ["x"]})))
            .await
            .0,
        404
    );
    let r = t
        .http
        .put(t.url("/_sim/s3/unified/NO-SUCH-UPLOAD/1"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let (s, _) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .json(&json!({"file": {"name": "x.pdf", "upload_uuid": "NO-SUCH-UPLOAD"}})),
        )
        .await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn declarations_outside_procore_limits_are_refused() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let seg = |size: usize| json!({"size": size, "sha256": sha(b"x")});
    let cases = [
        (
            "segment over 100 MiB",
            json!([seg(100 * MIB + 1)]),
            100 * MIB + 1,
        ),
        ("small first part", json!([seg(MIB), seg(10)]), MIB + 10),
        ("sizes do not add up", json!([seg(10)]), 11),
        ("no segments", json!([]), 0),
    ];
    for (what, segments, size) in cases {
        let (s, v) = t
            .json(t.post(&uploads(pid)).json(&json!({
                "file_name": "a.pdf", "file_size": size, "sha256": sha(b"x"), "segments": segments,
            })))
            .await;
        assert_eq!(s, 422, "{what}: {v}");
        assert!(v["errors"].is_object(), "{what}: {v}");
    }
    let (s, v) = t
        .json(t.post(&uploads(pid)).json(&json!({
            "file_name": "a.pdf", "file_size": 1, "sha256": "not-hex", "segments": [seg(1)],
        })))
        .await;
    assert_eq!(s, 422);
    assert!(v["errors"]["sha256"][0].is_string());
    // A single segment of exactly 100 MiB is fine (only declared here, never sent).
    let (s, _) = t
        .json(t.post(&uploads(pid)).json(&json!({
            "file_name": "a.pdf", "file_size": 100 * MIB, "sha256": sha(b"x"), "segments": [seg(100 * MIB)],
        })))
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn uploads_need_documents_write_the_company_and_the_header() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let body = declaration("a.pdf", &[b"x"]);
    let r = t
        .http
        .post(t.url(&uploads(pid)))
        .bearer_auth(&t.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "no Procore-Company-Id");
    let r = t
        .http
        .post(t.url(&uploads(pid)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let secret = t.project(demo::UNPERMITTED_PROJECT_NAME);
    assert_eq!(t.json(t.post(&uploads(secret)).json(&body)).await.0, 404);
    let other_company = format!("/rest/v2.1/companies/1/projects/{pid}/uploads");
    assert_eq!(t.json(t.post(&other_company).json(&body)).await.0, 403);

    let r = t
        .http
        .put(t.url(&format!(
            "/_sim/apps/{}/companies/{}/permissions",
            demo::CLIENT_ID,
            demo::COMPANY_ID
        )))
        .json(&Permissions {
            documents: Level::ReadOnly,
            ..Permissions::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, v) = t.json(t.post(&uploads(pid)).json(&body)).await;
    assert_eq!(s, 403);
    assert_eq!(v["reason"], "forbidden");
}

#[tokio::test]
async fn an_upload_not_associated_within_24_hours_is_gone() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let id = available(&t, pid, "a.pdf", &[b"bytes"]).await;
    t.sim().advance_clock(Duration::from_secs(24 * 3600 + 1));
    // The token expired with the clock too.
    let token = client_credentials(&t.http, &t.run.url()).await;
    let t = T { token, ..t };
    assert_eq!(
        t.json(t.get(&format!("{}/{id}", uploads(pid)))).await.0,
        404
    );
    let (s, v) = t
        .json(
            t.post(&format!("/rest/v1.0/files?project_id={pid}"))
                .json(&json!({"file": {"upload_uuid": id}})),
        )
        .await;
    assert_eq!(s, 422, "{v}");
}

#[tokio::test]
async fn faults_make_storage_fail_and_processing_take_several_reads() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    t.sim().set_faults(Faults {
        storage_errors: 1,
        upload_processing_polls: 2,
        ..Faults::default()
    });
    let data = declare(&t, pid, "a.pdf", &[b"bytes"]).await;
    let r = put(&t, &data["segments"][0], b"bytes").await;
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("1"));
    let etags = put_all(&t, &data, &[b"bytes"]).await;
    let path = format!("{}/{}", uploads(pid), data["upload_id"].as_str().unwrap());
    let (s, _) = t
        .json(t.patch(&path).json(&json!({ "part_etags": etags })))
        .await;
    assert_eq!(s, 200);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (_, v) = t.json(t.get(&path)).await;
        seen.push(v["data"]["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["complete", "complete", "available"]);
}
