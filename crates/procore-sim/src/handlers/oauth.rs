//! `/oauth/token`, `/oauth/authorize`, `/oauth/token/info`, `/oauth/revoke`.
//!
//! Access tokens last 5400 s of the simulated clock; refresh tokens are single-use and are
//! consumed by any refresh call, successful or not; codes last 600 s and are single-use.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{json, Value};

use super::Req;
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::world::{AccessToken, AuthCode, RefreshToken, Secret, World};
use crate::Sim;

/// Access-token lifetime in seconds.
pub const ACCESS_TOKEN_TTL: i64 = 5400;
/// Authorization-code lifetime in seconds.
pub const CODE_TTL: i64 = 600;
pub(crate) const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Reads form, JSON or multipart fields.
pub(crate) async fn fields(req: Request) -> HashMap<String, String> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if ct.starts_with("multipart/form-data") {
        let mut out = HashMap::new();
        if let Ok(mut mp) = Multipart::from_request(req, &()).await {
            while let Ok(Some(field)) = mp.next_field().await {
                let name = field.name().unwrap_or("").to_owned();
                if let Ok(text) = field.text().await {
                    out.insert(name, text);
                }
            }
        }
        return out;
    }
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    if ct.starts_with("application/json") || bytes.first() == Some(&b'{') {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&bytes) {
            return m
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect();
        }
        return HashMap::new();
    }
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn issue(
    w: &mut World,
    client_id: &str,
    user_id: Option<i64>,
    with_refresh: bool,
    now: i64,
) -> Value {
    let access = random_token();
    let refresh = with_refresh.then(random_token);
    if let Some(r) = &refresh {
        w.oauth.refresh_tokens.insert(
            r.clone(),
            RefreshToken {
                client_id: client_id.to_owned(),
                user_id,
                used: false,
            },
        );
    }
    w.oauth.access_tokens.insert(
        access.clone(),
        AccessToken {
            client_id: client_id.to_owned(),
            user_id,
            created_at: now,
            expires_at: now + ACCESS_TOKEN_TTL,
            revoked: false,
            refresh_token: refresh.clone().map(Secret),
        },
    );
    let mut body = json!({"access_token": access, "token_type": "bearer", "expires_in": ACCESS_TOKEN_TTL, "created_at": now});
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    body
}

fn check_client(w: &World, f: &HashMap<String, String>) -> ApiResult<String> {
    let id = f.get("client_id").ok_or(ApiError::InvalidClient)?;
    let secret = f.get("client_secret").ok_or(ApiError::InvalidClient)?;
    let app = w.apps.get(id).ok_or(ApiError::InvalidClient)?;
    if app.client_secret.expose() != secret {
        return Err(ApiError::InvalidClient);
    }
    Ok(id.clone())
}

/// The client id and secret of HTTP Basic client authentication (RFC 6749 §2.3.1: each
/// form-urlencoded, then `id:secret` in base64); `None` without a Basic header.
fn basic_credentials(req: &Request) -> Option<ApiResult<(String, String)>> {
    use base64::Engine;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Some(Err(ApiError::InvalidClient));
    };
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(Ok((unescape(id), unescape(secret))))
}

pub(crate) async fn token(State(sim): State<Sim>, req: Request) -> ApiResult {
    let basic = basic_credentials(&req).transpose()?;
    let mut f = fields(req).await;
    // A client may authenticate with Basic or with body fields, not both (RFC 6749 §2.3).
    if let Some((id, secret)) = basic {
        if f.contains_key("client_secret") {
            return Err(ApiError::InvalidClient);
        }
        f.insert("client_id".into(), id);
        f.insert("client_secret".into(), secret);
    }
    let now = sim.now_unix();
    let body = sim.write(|w| -> ApiResult<Value> {
        match f.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {
                let client = check_client(w, &f)?;
                Ok(issue(w, &client, None, false, now))
            }
            Some("authorization_code") => {
                let client = check_client(w, &f)?;
                let code = f
                    .get("code")
                    .ok_or(ApiError::InvalidGrant("The authorization code is invalid"))?;
                let c = w
                    .oauth
                    .codes
                    .get_mut(code)
                    .ok_or(ApiError::InvalidGrant("The authorization code is invalid"))?;
                let valid = !c.used
                    && c.client_id == client
                    && now < c.expires_at
                    && f.get("redirect_uri").is_some_and(|r| *r == c.redirect_uri);
                c.used = true;
                let user = c.user_id;
                if !valid {
                    return Err(ApiError::InvalidGrant("The authorization code is invalid"));
                }
                Ok(issue(w, &client, Some(user), true, now))
            }
            Some("refresh_token") => {
                let rt = f.get("refresh_token").cloned().unwrap_or_default();
                // Consumed by any refresh call, successful or not.
                let entry = w.oauth.refresh_tokens.get_mut(&rt).map(|r| {
                    let was_used = r.used;
                    r.used = true;
                    (was_used, r.client_id.clone(), r.user_id)
                });
                let client = check_client(w, &f)?;
                match entry {
                    Some((false, owner, user)) if owner == client => {
                        Ok(issue(w, &client, user, true, now))
                    }
                    _ => Err(ApiError::InvalidGrant("The refresh token is invalid")),
                }
            }
            _ => Err(ApiError::UnsupportedGrant),
        }
    })?;
    Ok(axum::Json(body).into_response())
}

pub(crate) async fn authorize(State(sim): State<Sim>, req: Req) -> Response {
    let q = &req.q;
    let client_id = q.get("client_id").unwrap_or("").to_owned();
    let redirect = q.get("redirect_uri").unwrap_or("").to_owned();
    let state = q.get("state").map(str::to_owned);
    if q.get("response_type").unwrap_or("code") != "code" {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_response_type"})),
        )
            .into_response();
    }
    let now = sim.now_unix();
    let issued = sim.write(|w| -> Result<String, &'static str> {
        let app = w.apps.get(&client_id).ok_or("invalid_client")?;
        if redirect != OOB && app.redirect_uri.as_deref() != Some(redirect.as_str()) {
            return Err("invalid_redirect_uri");
        }
        let user = app
            .installations
            .values()
            .find_map(|i| i.installed_by_user_id)
            .or_else(|| app.installations.values().map(|i| i.service_user_id).next())
            .ok_or("app_not_installed")?;
        let code = random_token();
        w.oauth.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.clone(),
                redirect_uri: redirect.clone(),
                user_id: user,
                expires_at: now + CODE_TTL,
                used: false,
            },
        );
        Ok(code)
    });
    match issued {
        Err(e) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": e}))).into_response(),
        Ok(code) if redirect == OOB => Html(format!(
            "<!doctype html><title>Authorization code</title><p>Authorization code:</p><code id=\"code\">{code}</code>\n"
        ))
        .into_response(),
        Ok(code) => {
            let mut url = match url::Url::parse(&redirect) {
                Ok(u) => u,
                Err(_) => return (StatusCode::BAD_REQUEST, "invalid redirect_uri").into_response(),
            };
            url.query_pairs_mut().append_pair("code", &code);
            if let Some(s) = state {
                url.query_pairs_mut().append_pair("state", &s);
            }
            (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
        }
    }
}

pub(crate) async fn token_info(State(sim): State<Sim>, req: Req) -> ApiResult {
    let now = sim.now_unix();
    sim.read(|w| {
        let (client, user) = auth::token(w, &req.headers, now)?;
        let t = auth::bearer(&req.headers)
            .and_then(|t| w.oauth.access_tokens.get(t))
            .ok_or(ApiError::InvalidToken)?;
        let owner = user.or_else(|| {
            w.apps
                .get(&client)
                .and_then(|a| a.installations.values().next())
                .map(|i| i.service_user_id)
        });
        let mut body = json!({
            "scopes": [],
            "expires_in_seconds": t.expires_at - now,
            "application": {"uid": client},
            "created_at": t.created_at,
        });
        if let Some(o) = owner {
            body["resource_owner_id"] = json!(o);
        }
        Ok(axum::Json(body).into_response())
    })
}

pub(crate) async fn revoke(State(sim): State<Sim>, req: Request) -> Response {
    let f = fields(req).await;
    let token = f.get("token").cloned().unwrap_or_default();
    sim.write(|w| {
        if let Some(at) = w.oauth.access_tokens.get_mut(&token) {
            at.revoked = true;
            if let Some(r) = at.refresh_token.clone() {
                if let Some(rt) = w.oauth.refresh_tokens.get_mut(r.expose()) {
                    rt.used = true;
                }
            }
        } else if let Some(rt) = w.oauth.refresh_tokens.get_mut(&token) {
            rt.used = true;
            for at in w.oauth.access_tokens.values_mut() {
                if at
                    .refresh_token
                    .as_ref()
                    .is_some_and(|r| r.expose() == token)
                {
                    at.revoked = true;
                }
            }
        }
    });
    axum::Json(json!({})).into_response()
}
