//! TLS trust: the client trusts the system's trust store as well as the bundled webpki roots,
//! so a corporate CA (or a TLS-inspecting proxy) that the machine trusts is trusted too.
//!
//! Its own test binary, because it points `SSL_CERT_FILE` (which the system store honours on
//! Linux) at a test CA for the whole process. The server is `openssl s_server` with a
//! certificate that CA signed (`fixtures/tls`, valid until 2125).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use procore::{ClientConfig, CompanyId, Credentials};

/// Held by each test while it sets `SSL_CERT_FILE`, which is process-wide.
static TRUST_STORE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl s_server` on a free port, answering `GET /` with 200 over TLS.
fn tls_server() -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = fixtures();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.join("server.pem"))
        .arg("-key")
        .arg(dir.join("server.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs the `openssl` command line tool ({e})"));
    let server = Server(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "openssl s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

fn http() -> reqwest::Client {
    let config = ClientConfig::custom(
        "https://localhost",
        CompanyId(1),
        Credentials::client_credentials("id", "secret"),
    )
    .unwrap();
    procore::auth::build_http(&config).unwrap()
}

#[tokio::test]
async fn a_server_signed_by_a_ca_in_the_system_trust_store_is_trusted() {
    let _trust = TRUST_STORE.lock().await;
    let (_server, port) = tls_server();
    let url = format!("https://localhost:{port}/");

    // Not in any trust store yet: refused.
    std::env::set_var("SSL_CERT_FILE", fixtures().join("does-not-exist.pem"));
    let refused = http().get(&url).send().await.unwrap_err();
    let text = format!("{refused:?}");
    assert!(
        text.contains("certificate") || text.contains("UnknownIssuer"),
        "{text}"
    );

    // The machine trusts the CA (as with a corporate CA installed system-wide): accepted.
    std::env::set_var("SSL_CERT_FILE", fixtures().join("ca.pem"));
    let resp = http()
        .get(&url)
        .send()
        .await
        .expect("the system's CA is trusted");
    assert!(resp.status().is_success(), "{}", resp.status());
}

#[tokio::test]
async fn a_login_server_whose_certificate_is_not_trusted_is_reported_as_such_with_what_to_do() {
    let _trust = TRUST_STORE.lock().await;
    let (_server, port) = tls_server();
    std::env::set_var("SSL_CERT_FILE", fixtures().join("does-not-exist.pem"));
    let config = ClientConfig::custom(
        &format!("https://localhost:{port}"),
        CompanyId(1),
        Credentials::client_credentials("id", "secret-not-shown-42"),
    )
    .unwrap()
    .with_retry(procore::RetryConfig {
        max_retries: 0,
        ..procore::RetryConfig::default()
    });
    let err = procore::Client::new(config)
        .unwrap()
        .me()
        .await
        .unwrap_err();
    let procore::Error::Transport { ref message, .. } = err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("certificate") && message.contains("UnknownIssuer"),
        "the cause is named: {message}"
    );
    assert!(
        message.contains("system trust store"),
        "and what to do: {message}"
    );
    assert!(!format!("{err:?}").contains("secret-not-shown-42"));
}
