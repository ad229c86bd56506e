//! Who is calling: bearer tokens, the `Procore-Company-Id` header, installations, permitted
//! projects and tool permissions.
//!
//! Order of checks (each failure has its documented shape, see `error.rs`): token (401),
//! company header (400), app installed in that company (403), tool level (403), then the
//! record itself, where a project the app is not permitted on reads as absent (404) — Procore
//! answers 404 rather than 403 when the caller cannot see a resource.

use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::world::{Installation, Level, Project, Tool, World};

/// The authenticated caller of one `/rest/` request.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) client_id: String,
    pub(crate) app_id: i64,
    pub(crate) company_id: i64,
    /// The acting user: the token's user, or the app's service account for client_credentials.
    pub(crate) user_id: i64,
}

/// Whether a route needs `Procore-Company-Id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CompanyHeader {
    Required,
    /// Only `/me` and `/companies`: required for client_credentials tokens only.
    OptionalForUsers,
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim())
}

/// The client id owning the bearer token, even if expired (for rate limiting and the log).
pub(crate) fn token_client(world: &World, headers: &HeaderMap) -> Option<String> {
    let t = bearer(headers)?;
    world
        .oauth
        .access_tokens
        .get(t)
        .map(|a| a.client_id.clone())
}

/// Validates the token. Returns `(client_id, user_id)`.
pub(crate) fn token(
    world: &World,
    headers: &HeaderMap,
    now: i64,
) -> Result<(String, Option<i64>), ApiError> {
    let t = bearer(headers).ok_or(ApiError::InvalidToken)?;
    let at = world
        .oauth
        .access_tokens
        .get(t)
        .ok_or(ApiError::InvalidToken)?;
    if at.revoked || now >= at.expires_at {
        return Err(ApiError::InvalidToken);
    }
    Ok((at.client_id.clone(), at.user_id))
}

fn company_header(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("procore-company-id")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Full check for a `/rest/` call.
pub(crate) fn rest(
    world: &World,
    headers: &HeaderMap,
    now: i64,
    need: CompanyHeader,
) -> Result<Ctx, ApiError> {
    let (client_id, user) = token(world, headers, now)?;
    let app = world.apps.get(&client_id).ok_or(ApiError::InvalidToken)?;
    let company = match (company_header(headers), need, user) {
        (Some(c), _, _) => c,
        (None, CompanyHeader::OptionalForUsers, Some(_)) => {
            // A user token without the header: act in the first company the app is installed in.
            *app.installations.keys().next().ok_or_else(not_connected)?
        }
        (None, _, _) => return Err(ApiError::MissingCompany),
    };
    let inst = app.installations.get(&company).ok_or_else(not_connected)?;
    Ok(Ctx {
        client_id,
        app_id: app.id,
        company_id: company,
        user_id: user.unwrap_or(inst.service_user_id),
    })
}

pub(crate) fn not_connected() -> ApiError {
    ApiError::Forbidden("App is not connected to this company".into())
}

impl Ctx {
    pub(crate) fn installation<'w>(&self, world: &'w World) -> &'w Installation {
        static EMPTY: std::sync::OnceLock<Installation> = std::sync::OnceLock::new();
        world
            .apps
            .get(&self.client_id)
            .and_then(|a| a.installations.get(&self.company_id))
            .unwrap_or_else(|| EMPTY.get_or_init(Installation::default))
    }

    /// The company in a path or query must be the header's company, and the app installed there.
    pub(crate) fn same_company(&self, world: &World, company_id: i64) -> Result<(), ApiError> {
        let installed = world
            .apps
            .get(&self.client_id)
            .is_some_and(|a| a.installations.contains_key(&company_id));
        if !installed {
            return Err(not_connected());
        }
        if company_id != self.company_id {
            return Err(ApiError::not_found("Company"));
        }
        Ok(())
    }

    fn need(&self, world: &World, tool: Tool, min: Level) -> Result<(), ApiError> {
        let have = self.installation(world).permissions.level(tool);
        if have >= min {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "You do not have {} access to the {:?} tool",
                if min >= Level::Standard {
                    "write"
                } else {
                    "read"
                },
                tool
            )))
        }
    }

    pub(crate) fn can_read(&self, world: &World, tool: Tool) -> Result<(), ApiError> {
        self.need(world, tool, Level::ReadOnly)
    }

    pub(crate) fn can_write(&self, world: &World, tool: Tool) -> Result<(), ApiError> {
        self.need(world, tool, Level::Standard)
    }

    /// Whether the app may see project `pid` (in the caller's company and permitted).
    pub(crate) fn sees_project(&self, world: &World, pid: i64) -> bool {
        world
            .projects
            .get(&pid)
            .is_some_and(|p| p.company_id == self.company_id)
            && self.installation(world).permitted_projects.contains(&pid)
    }

    /// The project, or 404 when it is absent, in another company or not permitted.
    pub(crate) fn project<'w>(&self, world: &'w World, pid: i64) -> Result<&'w Project, ApiError> {
        if self.sees_project(world, pid) {
            world
                .projects
                .get(&pid)
                .ok_or_else(|| ApiError::not_found("Project"))
        } else {
            Err(ApiError::not_found("Project"))
        }
    }
}
