//! The REST API's tokens: making one (shown once), listing, revoking, and checking one a
//! request presents.
//!
//! A token is `trestle_` and 32 random bytes in URL-safe base64: enough entropy that a fast
//! hash (SHA-256) is a safe way to keep it, as GitHub and Stripe keep theirs, so a lookup costs
//! one indexed read instead of a password hash per request. The prefix makes a leaked token
//! easy to recognise for secret scanners and people.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{ApiScope, ApiToken, NewApiToken, Store, StoreError};

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "trestle_";
/// How many characters of a token a list shows.
const SHOWN: usize = TOKEN_PREFIX.len() + 6;
/// The longest name a token may have.
const MAX_NAME: usize = 100;

/// A token just made: the only time the token itself is at hand.
#[derive(Debug)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Give it to whoever will use it; trestle keeps only its hash.
    pub secret: SecretString,
}

/// What a person asked for, before it is checked.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub name: &'a str,
    pub scope: ApiScope,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token's name is empty; give it a name that says who or what uses it")]
    NameEmpty,
    #[error("the token's name is {0} characters long; keep it to {MAX_NAME}")]
    NameTooLong(usize),
    #[error(
        "company {company_id} has no worker {worker_id}; a worker token is for an existing worker"
    )]
    NoSuchWorker { company_id: i64, worker_id: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The hash trestle keeps of a token (or of a UI session's cookie), in hex.
pub(crate) fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes a token with `request`'s name and scope.
///
/// # Errors
/// An empty or overlong name, a worker token for a worker the company does not have, or the
/// store failed.
pub async fn create(
    store: &Store,
    request: &TokenRequest<'_>,
    now: DateTime<Utc>,
) -> Result<CreatedToken, TokenError> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(TokenError::NameEmpty);
    }
    let length = name.chars().count();
    if length > MAX_NAME {
        return Err(TokenError::NameTooLong(length));
    }
    if let ApiScope::Worker {
        company_id,
        worker_id,
    } = request.scope
    {
        if store.worker(company_id, worker_id).await?.is_none() {
            return Err(TokenError::NoSuchWorker {
                company_id,
                worker_id,
            });
        }
    }
    let bytes: [u8; 32] = rand::random();
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let token = store
        .create_api_token(&NewApiToken {
            name,
            scope: request.scope,
            prefix: &secret[..SHOWN],
            token_hash: &hash(&secret),
            created_at: now,
        })
        .await?;
    Ok(CreatedToken {
        token,
        secret: SecretString::from(secret),
    })
}

/// Every token, revoked ones included, oldest first.
///
/// # Errors
/// The store failed.
pub async fn list(store: &Store) -> Result<Vec<ApiToken>, TokenError> {
    Ok(store.api_tokens().await?)
}

/// Revokes a token: it answers no request from now on.
///
/// # Errors
/// No such token, it was revoked already, or the store failed.
pub async fn revoke(store: &Store, id: i64, now: DateTime<Utc>) -> Result<ApiToken, TokenError> {
    Ok(store.revoke_api_token(id, now).await?)
}

/// Why a presented token was not taken. Deliberately vague towards the caller: which part
/// was wrong helps an attacker more than a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Refused {
    /// Not a trestle token at all (a typo, another service's token).
    Malformed,
    /// Well formed, but no token trestle made and has not revoked.
    Unknown,
    /// A worker token whose worker is blocked (or no longer in the app): a blocked worker
    /// fills and signs no form. It works again once the worker is unblocked.
    WorkerBlocked,
}

/// The token a request presented, checked: the token's record, or why it was refused.
///
/// # Errors
/// The store failed.
pub async fn authenticate(
    store: &Store,
    presented: &SecretString,
    now: DateTime<Utc>,
) -> Result<Result<ApiToken, Refused>, TokenError> {
    let presented = presented.expose_secret();
    let well_formed = presented
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(rest)
                .ok()
        })
        .is_some_and(|bytes| bytes.len() == 32);
    if !well_formed {
        return Ok(Err(Refused::Malformed));
    }
    let Some(token) = store.use_api_token(&hash(presented), now).await? else {
        return Ok(Err(Refused::Unknown));
    };
    if !may_act(store, &token).await? {
        return Ok(Err(Refused::WorkerBlocked));
    }
    Ok(Ok(token))
}

/// Whether `token` may act now: any token but a worker's, whose worker must be in the app
/// and not blocked. Checked on every request, so a block takes effect at once.
///
/// # Errors
/// The store failed.
pub async fn may_act(store: &Store, token: &ApiToken) -> Result<bool, TokenError> {
    Ok(match token.scope {
        ApiScope::Worker {
            company_id,
            worker_id,
        } => store
            .worker(company_id, worker_id)
            .await?
            .is_some_and(|w| !w.blocked),
        ApiScope::Admin | ApiScope::ReadOnly => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_hash_is_the_hex_sha256_of_the_whole_token() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
