//! The OpenAPI 3.1 document, generated from the handlers' annotations so it cannot drift from
//! the code; the tests validate real answers against it.

use crate::auth::Caller;
use crate::Problem;
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "trestle",
        description = "trestle's REST API: the workforce app, the compliance app and their Procore integration. Every route takes an API token as `Authorization: Bearer TOKEN`; errors are application/problem+json (RFC 9457)."
    ),
    paths(
        crate::tokens::list,
        crate::tokens::create,
        crate::tokens::revoke,
        crate::parties::parties,
        crate::parties::party,
        crate::parties::projects,
        crate::parties::contacts,
        crate::parties::associations,
        crate::mapping::mappings,
        crate::mapping::preview,
        crate::mapping::map,
        crate::compliance::settings,
        crate::compliance::change_settings,
        crate::compliance::profiles,
        crate::compliance::profile,
        crate::compliance::put_profile,
        crate::compliance::remove_profile,
        crate::compliance::party_profile,
        crate::compliance::certificates,
        crate::compliance::add_certificate,
        crate::compliance::certificate,
        crate::compliance::replace_certificate,
        crate::compliance::remove_certificate,
        crate::compliance::set_policy,
        crate::compliance::remove_policy,
        crate::compliance::waivers,
        crate::compliance::add_waiver,
        crate::compliance::remove_waiver,
        crate::compliance::insurance,
        crate::compliance::import,
        crate::connections::list,
        crate::connections::show,
        crate::connections::connect,
        crate::connections::change,
        crate::connections::disconnect,
        crate::connections::repair_webhook,
        crate::activity::sync_now,
        crate::activity::preview,
        crate::activity::runs,
        crate::activity::run,
        crate::activity::explain,
        crate::jobs::list,
        crate::jobs::retry,
        crate::jobs::discard,
        crate::forms::templates,
        crate::forms::create_template,
        crate::forms::template,
        crate::forms::revise_template,
        crate::forms::list,
        crate::forms::start,
        crate::forms::get_form,
        crate::forms::answer,
        crate::forms::sign,
        crate::forms::complete,
        crate::forms::pdf,
        crate::workforce::workers,
        crate::workforce::worker,
        crate::workforce::activate,
        crate::workforce::block,
        crate::workforce::unblock,
        crate::workforce::projects,
        crate::workforce::waiting,
        crate::workforce::preview,
        crate::workforce::decide,
        document,
    ),
    components(schemas(Problem, crate::FieldError)),
    modifiers(&TokenAuth, &EveryOperation),
    tags(
        (name = "tokens", description = "API tokens (admin)"),
        (name = "connections", description = "Connected Procore companies"),
        (name = "compliance", description = "The compliance app: parties, projects, mapping, settings"),
        (name = "jobs", description = "The work queue"),
        (name = "activity", description = "Syncs run now or previewed, runs and their per-record entries, explain"),
        (name = "forms", description = "Safety forms: templates, filling, signing, completing, the PDF"),
        (name = "workforce", description = "The workforce app: projects, workers, records waiting for a decision"),
        (name = "meta", description = "This document"),
    )
)]
struct Doc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// What every operation shares, written once here rather than on each handler: the token's
/// 401 and 403, and on every POST the `Idempotency-Key` header with the 409 and 422 it can
/// answer. A handler that documents one of them itself keeps its own words.
struct EveryOperation;

impl Modify for EveryOperation {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let add = |op: &mut Operation, status: &str, description: &str| {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| problem(description).into());
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let secured = path != "/api/v1/openapi.json";
            for (post, op) in [
                (false, item.get.as_mut()),
                (true, item.post.as_mut()),
                (false, item.put.as_mut()),
                (false, item.patch.as_mut()),
                (false, item.delete.as_mut()),
            ] {
                let Some(op) = op else { continue };
                add(
                    op,
                    "401",
                    "No token, or one trestle did not make or that was revoked",
                );
                if secured {
                    add(op, "403", "The token's scope does not reach this operation");
                }
                if !post {
                    continue;
                }
                let params = op.parameters.get_or_insert_with(Vec::new);
                if !params.iter().any(|p| p.name == "Idempotency-Key") {
                    params.push(
                        ParameterBuilder::new()
                            .name("Idempotency-Key")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some(
                                "Sent again with the same key, the request gets the first answer and does nothing twice",
                            ))
                            .schema(Some(
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::String),
                            ))
                            .build(),
                    );
                }
                add(
                    op,
                    "409",
                    "The first request with this Idempotency-Key still runs",
                );
                add(op, "422", "A field is wrong (each is named), or the Idempotency-Key was used for another request");
            }
        }
    }
}

/// The API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = Doc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(("token" = [])),
    responses(
        (status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json"),
    )
)]
pub(crate) async fn document(_caller: Caller) -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
