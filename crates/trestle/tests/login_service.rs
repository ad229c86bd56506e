//! What a person sees when Procore's login service fails: what happened, said once.

use common::{spawn_demo_sim, text, Setup};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

/// A server that answers every request `503 Service Unavailable`, as a login service behind a
/// failing gateway does.
async fn unavailable() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let _ = conn
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 11\r\nconnection: close\r\n\r\nunavailable")
                    .await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_service_answering_503_is_reported_as_such_once_and_the_sync_fails() {
    let running = spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    // From now on Procore's login service answers 503.
    let down = unavailable().await;
    let config = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace(&running.url(), &down);
    std::fs::write(&setup.config, config).unwrap();

    let out = setup.trestle(&["sync", "workforce"], None).await;
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = "Procore's login service (POST /oauth/token) answered HTTP 503";
    assert_eq!(stderr.matches(said).count(), 1, "said once:\n{stderr}");
    assert!(!stderr.contains("Check the network"), "{stderr}");
}
