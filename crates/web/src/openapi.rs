//! The OpenAPI document (`/openapi.json`) and its interactive docs (`/docs`), served from the
//! binary: the Swagger UI files are vendored, so the docs work offline.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "icf — Instagram Content Factory",
        description = "Publish one post to many Instagram accounts, each in its own language. \
                       Sign in with `POST /api/auth/login`, then send `Authorization: Bearer <token>`. \
                       Errors always look like `{\"error\":{\"code\",\"message\",\"field\"}}`."
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::auth::login,
        routes::auth::logout,
        routes::auth::me,
        routes::users::list,
        routes::users::create,
        routes::users::get_one,
        routes::users::update,
        routes::users::delete,
        routes::posts::list,
        routes::posts::create,
        routes::posts::get_one,
        routes::posts::update,
        routes::posts::delete,
        routes::post_translations::translate,
        routes::post_translations::list,
        routes::post_translations::edit,
        routes::publish::preview,
        routes::publish::publish,
        routes::publish::executions,
        routes::publish::cancel,
        routes::publish::retry_failed,
        routes::bulk::import,
        routes::reviews::history,
        routes::reviews::submit,
        routes::reviews::approve,
        routes::reviews::reject,
        routes::snippets::list,
        routes::snippets::create,
        routes::snippets::get_one,
        routes::snippets::update,
        routes::snippets::delete,
        routes::logs::list,
        routes::queue::overview,
        routes::events::events,
        routes::stats::overview,
        routes::stats::accounts,
        routes::stats::posts,
        routes::accounts::list,
        routes::accounts::create,
        routes::accounts::get_one,
        routes::accounts::update,
        routes::accounts::delete,
        routes::instagram::login,
        routes::instagram::last_login,
        routes::accounts::history,
        routes::accounts::set_totp,
        routes::instagram::challenge,
        routes::instagram::status,
        routes::instagram::check_status,
        routes::instagram::last_check,
        routes::instagram::export_session,
        routes::instagram::import_session,
        routes::accounts::import,
        routes::groups::list,
        routes::groups::create,
        routes::groups::get_one,
        routes::groups::update,
        routes::groups::delete,
        routes::groups::accounts,
        routes::proxies::list,
        routes::proxies::create,
        routes::proxies::get_one,
        routes::proxies::update,
        routes::proxies::delete,
        routes::proxies::check,
        routes::proxies::import,
        routes::translate::translate,
        routes::translate::stats,
        routes::translate::job,
        routes::glossaries::list,
        routes::glossaries::create,
        routes::glossaries::get_one,
        routes::glossaries::update,
        routes::glossaries::delete,
        routes::glossaries::import,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth, &CommonErrors),
    tags(
        (name = "auth", description = "Signing in"),
        (name = "users", description = "Operators (admins only)"),
        (name = "accounts", description = "Instagram accounts (editors read, admins write)"),
        (name = "groups", description = "Groups of accounts"),
        (name = "proxies", description = "The proxy pool (admins only)"),
        (name = "posts", description = "Posts and their media"),
        (name = "translation", description = "Machine translation of captions"),
        (name = "snippets", description = "Caption snippets and hashtag sets per group and language"),
        (name = "glossaries", description = "Forced translations of terms per language pair (editors read, admins write)"),
        (name = "monitoring", description = "Activity logs and statistics"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The errors any operation of a kind can answer, documented once instead of on each handler:
/// a signed-in operation answers 401 without a valid token; one that takes a path id, a query
/// or a body answers 400 to input it cannot read and 422 to a value it refuses; one that takes
/// a file answers 413 when it is too large. A handler's own description of a status wins.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let params = op.parameters.as_deref().unwrap_or_default();
                let takes_input = op.request_body.is_some()
                    || params.iter().any(|p| match p {
                        RefOr::T(p) => {
                            matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query)
                        }
                        RefOr::Ref(_) => true,
                    });
                let takes_file = op.request_body.as_ref().is_some_and(|b| match b {
                    RefOr::T(b) => b.content.contains_key("multipart/form-data"),
                    RefOr::Ref(_) => false,
                });
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(description));
                };
                if signed_in {
                    add("401", "No valid bearer token");
                }
                if takes_input {
                    add(
                        "400",
                        "The input cannot be read (malformed JSON, id or query)",
                    );
                    add("422", "A value is refused; `field` names it");
                }
                if takes_file {
                    add(
                        "413",
                        "A file, or the files together, exceed the upload limit",
                    );
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}
