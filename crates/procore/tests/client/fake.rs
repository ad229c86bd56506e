//! A tiny stand-in for Procore, for answers the simulator never gives (a hostile or broken
//! server): the test supplies an axum router, this serves it on an ephemeral port.

use axum::Router;
use procore::{Client, ClientConfig, CompanyId, Credentials};

use crate::fast_retry;

/// The client secret the fake server's clients send; tests check it never leaks.
pub const SECRET: &str = "s3cr3t-client-value-0123456789";

/// A server on 127.0.0.1, dropped with the test's runtime.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

/// A client_credentials client for the fake server (company 1, [`SECRET`]).
pub fn client(url: &str) -> Client {
    let config = ClientConfig::custom(
        url,
        CompanyId(1),
        Credentials::client_credentials("fake-client", SECRET),
    )
    .unwrap()
    .with_retry(fast_retry());
    Client::new(config).unwrap()
}

/// The usual token answer.
pub fn token_json() -> serde_json::Value {
    serde_json::json!({"access_token": "fake-access", "token_type": "bearer", "expires_in": 5400, "created_at": 1_700_000_000})
}
