//! Document uploads through Procore's v2.1 unified flow, against the simulator.

use bytes::Bytes;
use futures::TryStreamExt;
use procore::{Client, ClientConfig, CompanyId, Credentials, Error, ProjectId};
use procore_sim::{demo, Faults, Running};
use serde_json::json;

use crate::{cc_client, count, demo_sim, fast_retry};

const MIB: usize = 1024 * 1024;

/// A client that cuts uploads into 5 MiB parts (Procore's smallest non-final part), so a
/// multi-part upload needs megabytes, not hundreds of them.
fn small_parts_client(url: &str, segment: u64) -> Client {
    let config = ClientConfig::custom(
        url,
        CompanyId(demo::COMPANY_ID),
        Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
    )
    .expect("config")
    .with_retry(fast_retry())
    .with_upload_segment_size(segment);
    Client::new(config).expect("client")
}

async fn first_project(client: &Client) -> ProjectId {
    client
        .projects()
        .list()
        .stream()
        .try_next()
        .await
        .unwrap()
        .unwrap()
        .id
}

fn stored_bytes(app: &Running, version_id: i64) -> Vec<u8> {
    app.sim().read(|w| {
        let v = &w.file_versions[&version_id];
        w.blobs[&v.blob].bytes.clone()
    })
}

#[tokio::test]
async fn a_file_larger_than_the_part_size_is_uploaded_in_parts_and_becomes_a_file() {
    let app = demo_sim().await;
    let client = small_parts_client(&app.url(), 5 * MIB as u64);
    let project = first_project(&client).await;
    let docs = client.documents(project);
    let bytes: Vec<u8> = (0..11 * MIB).map(|i| (i % 251) as u8).collect();
    app.sim().clear_request_log();

    let file = docs
        .upload_file(
            None,
            "big.pdf",
            Bytes::from(bytes.clone()),
            "application/pdf",
        )
        .await
        .unwrap();

    let sim = app.sim();
    let uploads = format!(
        "/rest/v2.1/companies/{}/projects/{project}/uploads",
        demo::COMPANY_ID
    );
    assert_eq!(count(sim, "POST", &uploads), 1);
    assert_eq!(count(sim, "PUT", "/_sim/s3/unified/"), 3, "5 + 5 + 1 MiB");
    assert_eq!(count(sim, "PATCH", &uploads), 1);
    assert_eq!(
        count(sim, "GET", &uploads),
        1,
        "available on the first read"
    );
    assert_eq!(count(sim, "POST", "/rest/v1.1/"), 0, "not the older flow");
    assert!(sim
        .request_log()
        .iter()
        .filter(|e| e.path.starts_with("/_sim/s3/"))
        .all(|e| e.client_id.is_none() && e.status == 200));
    let version = file.file_versions.first().expect("a version").id;
    assert_eq!(stored_bytes(&app, version.get()), bytes);
}

#[tokio::test]
async fn a_failing_part_is_retried_and_a_slow_upload_is_polled_until_available() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let project = first_project(&client).await;
    let docs = client.documents(project);
    let file = docs
        .upload_file(
            None,
            "form.pdf",
            Bytes::from_static(b"%PDF-1.7 v1"),
            "application/pdf",
        )
        .await
        .unwrap();
    app.sim().set_faults(Faults {
        storage_errors: 2,
        upload_processing_polls: 2,
        ..Faults::default()
    });
    app.sim().clear_request_log();

    let version = docs
        .add_noted_version(
            file.id,
            "form.pdf",
            "rev 2",
            Bytes::from_static(b"%PDF-1.7 v2"),
            "application/pdf",
        )
        .await
        .unwrap();

    let log = app.sim().request_log();
    let puts: Vec<u16> = log
        .iter()
        .filter(|e| e.method == "PUT")
        .map(|e| e.status)
        .collect();
    assert_eq!(puts, [503, 503, 200]);
    let reads: Vec<_> = log
        .iter()
        .filter(|e| e.method == "GET" && e.path.contains("/uploads/"))
        .collect();
    assert_eq!(reads.len(), 3, "complete, complete, available");
    assert_eq!(version.notes.as_deref(), Some("rev 2"));
    assert_eq!(stored_bytes(&app, version.id.get()), b"%PDF-1.7 v2");
}

#[tokio::test]
async fn parts_smaller_than_procore_allows_are_refused_before_any_bytes_are_sent() {
    let app = demo_sim().await;
    let client = small_parts_client(&app.url(), 1024);
    let project = first_project(&client).await;
    let err = client
        .documents(project)
        .upload("a.pdf", Bytes::from(vec![0u8; 3000]), "application/pdf")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert_eq!(count(app.sim(), "PUT", "/_sim/s3/"), 0);

    let zero = small_parts_client(&app.url(), 0);
    let err = zero
        .documents(project)
        .upload("a.pdf", Bytes::new(), "application/pdf")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
}

#[tokio::test]
async fn the_older_v11_flow_is_still_available() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let project = first_project(&client).await;
    let upload = client
        .documents(project)
        .upload_v11(
            "old.pdf",
            Bytes::from_static(b"%PDF old"),
            "application/pdf",
        )
        .await
        .unwrap();
    let file = client
        .raw(procore::Method::POST, "rest/v1.0/files")
        .query("project_id", project)
        .json(json!({"file": {"name": "old.pdf", "upload_uuid": upload.uuid}}))
        .send()
        .await
        .unwrap();
    assert_eq!(file["name"], "old.pdf");
    assert_eq!(count(app.sim(), "POST", "/rest/v1.1/projects/"), 1);
}
