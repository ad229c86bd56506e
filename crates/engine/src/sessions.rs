//! The web UI's sessions: signing in with an API token gives a session cookie that stands for
//! the token for a working day, so the token itself is typed once and never kept in the
//! browser. The session is refused as soon as its token is revoked.
//!
//! A session carries an anti-forgery value (CSRF) that every form of the UI sends back: a
//! page on another site can make the browser send the cookie, but cannot read the value.

use crate::tokens::{authenticate, hash, Refused, TokenError};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use store::{ApiToken, NewUiSession, SessionRequest, Store};

/// How long a session lasts: a working day, so a phone left signed in overnight is not.
pub const SESSION_HOURS: i64 = 12;

/// A session just started: the cookie (only now at hand) and when it ends.
#[derive(Debug)]
pub struct Started {
    pub cookie: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: ApiToken,
    pub csrf: String,
}

fn random() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs in with an API token: a new session for it, or why the token was refused.
///
/// # Errors
/// The store failed.
pub async fn sign_in(
    store: &Store,
    token: &SecretString,
    now: DateTime<Utc>,
) -> Result<Result<Started, Refused>, TokenError> {
    let token = match authenticate(store, token, now).await? {
        Ok(token) => token,
        Err(refused) => return Ok(Err(refused)),
    };
    let cookie = random();
    let csrf = random();
    let expires_at = now + Duration::hours(SESSION_HOURS);
    store
        .create_ui_session(&NewUiSession {
            id_hash: &hash(&cookie),
            token_id: token.id,
            csrf: &csrf,
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(Ok(Started {
        cookie: SecretString::from(cookie),
        expires_at,
    }))
}

/// The live session a cookie names, if any; `request` says whether it is the token's use.
///
/// # Errors
/// The store failed.
pub async fn session(
    store: &Store,
    cookie: &SecretString,
    now: DateTime<Utc>,
    request: SessionRequest,
) -> Result<Option<Session>, TokenError> {
    let Some((token, csrf)) = store
        .ui_session(&hash(cookie.expose_secret()), now, request)
        .await?
    else {
        return Ok(None);
    };
    // A worker blocked since signing in is signed out.
    if !crate::tokens::may_act(store, &token).await? {
        return Ok(None);
    }
    Ok(Some(Session { token, csrf }))
}

/// Ends the session a cookie names (signing out).
///
/// # Errors
/// The store failed.
pub async fn sign_out(store: &Store, cookie: &SecretString) -> Result<(), TokenError> {
    Ok(store.end_ui_session(&hash(cookie.expose_secret())).await?)
}
