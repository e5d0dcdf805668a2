//! The OpenAPI 3.1 contract, generated from the handlers. The problem responses every
//! operation can produce (bad input, missing token, server trouble) are added here once
//! rather than repeated on every handler. `openapi/openapi.json` is this document,
//! committed; a test keeps the two equal.

use actix_web::App;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::problem::{FieldProblem, Problem, PROBLEM_CONTENT_TYPE};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "eid-adoption",
        description = "Door-to-door tracking of electronic identity (VNeID) and digital-signature \
            adoption for Vietnamese wards: households, adults, visits and statuses recorded by \
            volunteers, lists for neighbourhood heads, adoption rates for officials.\n\n\
            Errors are RFC 9457 problem details (`application/problem+json`) with a stable \
            `code`; `title` and `detail` follow `Accept-Language` (`vi` by default, `en`).",
        license(name = "MIT"),
    ),
    // Query-parameter enums: their schemas are referenced but not collected on their own.
    components(schemas(
        Problem,
        FieldProblem,
        crate::conflicts::list::ConflictStatus,
        crate::households::export::ExportFormat,
        crate::adoption::export::FiguresTable,
        crate::adoption::children::Order,
        crate::adoption::children::RankBy,
        crate::residents::list::SignatureFilter,
        crate::households::activation::ActivationFormat,
        crate::residents::list::ResidentSort,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, token refresh and sign-out"),
        (name = "users", description = "Accounts, roles, scopes and assignments"),
        (name = "sessions", description = "Sign-ins per device, and revoking them"),
        (name = "volunteers", description = "Heads and administrators manage volunteers"),
        (name = "invitations", description = "Inviting people by e-mail"),
        (name = "audit", description = "The audit log"),
        (name = "households", description = "Households of a neighbourhood"),
        (name = "residents", description = "People of a household, their statuses, erasure"),
        (name = "visits", description = "Door-to-door visits and what was recorded at them"),
        (name = "duplicates", description = "Suspected duplicate residents, merged or dismissed by heads"),
        (name = "adoption", description = "Adoption figures against the targets (aggregates, no names)"),
        (name = "targets", description = "Adoption targets per area, inherited from the nearest ancestor"),
        (name = "imports", description = "Importing the household register from CSV or XLSX"),
        (name = "status", description = "Dated e-ID, signature and broadband events"),
        (name = "sync", description = "Offline sync for the volunteers' phones: push, pull, state"),
        (name = "conflicts", description = "Phone edits that met newer server values, for heads to resolve"),
        (name = "areas", description = "The area tree: province → ward (or town/district → ward) → neighbourhood"),
        (name = "reorganisations", description = "Dated merges, splits, renames, moves and dissolutions of areas"),
        (name = "sign-offs", description = "Signed-off monthly figures (chốt số liệu): frozen, reported vs now, reopened with a reason"),
        (name = "reports", description = "Monthly reports in the province's spreadsheet template, from signed-off figures"),
        (name = "data-protection", description = "Duties under Law 91/2025/QH15 and Decree 356/2025/NĐ-CP: data subjects' requests, breaches, the processing record"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
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
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`EID_METRICS_TOKEN`, when the server sets one"))
                    .build(),
            ),
        );
    }
}

/// The contract of this build.
pub fn spec() -> OpenApiDoc {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for item in api.paths.paths.values_mut() {
        if let Some(post) = item.post.as_mut() {
            if post.security.as_ref().is_some_and(|s| !s.is_empty()) {
                accept_idempotency_key(post);
            }
        }
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_common_problems(operation);
        }
    }
    api
}

/// The contract as committed and served: the generated document with what the derives
/// cannot say (`crate::openapi_tighten`), pretty JSON with a final newline.
pub fn spec_json() -> String {
    let generated = serde_json::to_value(spec()).unwrap_or_default();
    let mut json = serde_json::to_string_pretty(&crate::openapi_tighten::tighten(generated))
        .unwrap_or_default();
    json.push('\n');
    json
}

/// Authenticated POSTs take an optional `Idempotency-Key` (see `crate::idempotency`).
fn accept_idempotency_key(operation: &mut Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Send the same key again (with the same request) to get the stored answer instead \
             of acting twice; kept 24 hours per user. A sync push sends the same key for every \
             resend of one batch.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(255)),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter);
    for (status, description) in [
        ("409", "A request with this `Idempotency-Key` is still being answered (`idempotency-key-in-progress`); \
                 send it again after `Retry-After` seconds (at most 10: the mark of a request cut off by a crash lapses by then)"),
        ("422", "This `Idempotency-Key` was used for a different request (`idempotency-key-reused`)"),
    ] {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| with_retry_after(problem_response(description), status == "409").into());
    }
}

fn add_common_problems(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut common: Vec<(&str, &str)> = Vec::new();
    if has_body || has_params {
        common.push((
            "400",
            "Malformed JSON (`malformed-json`), unparseable query/path parameters \
             (`invalid-query`, `invalid-path-parameter`) or a malformed `If-Match` \
             (`invalid-if-match`)",
        ));
    }
    if secured {
        common.push((
            "401",
            "Missing, invalid or expired access token, or a sign-in that has been revoked \
             (`unauthenticated`, `invalid-token`, `token-expired`, `session-revoked`)",
        ));
    }
    if has_body {
        common.push((
            "413",
            "The body exceeds the size limit (`payload-too-large`)",
        ));
        common.push((
            "415",
            "The body is not `application/json` (`unsupported-media-type`)",
        ));
    }
    if has_body || has_params {
        common.push((
            "422",
            "Invalid fields, one entry per field in `errors` (`validation-failed`)",
        ));
    }
    if operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "sync"))
    {
        common.push((
            "429",
            "Too many requests (`too-many-requests`): this server does not limit sync itself, \
             but a rate-limiting proxy in front of it may; wait `Retry-After` seconds and send \
             the same request again (a push with the same `Idempotency-Key`)",
        ));
    }
    common.push(("500", "Internal error (`internal-error`)"));
    common.push((
        "503",
        "A transient failure of the database or the machine (`service-unavailable`): the \
         request did not complete (only a connection lost during the commit itself can leave \
         it done); send the same request again (with the same `Idempotency-Key`) after \
         `Retry-After` seconds",
    ));
    for (status, description) in common {
        if !operation.responses.responses.contains_key(status) {
            let response = with_retry_after(
                problem_response(description),
                status == "503" || status == "429",
            );
            operation
                .responses
                .responses
                .insert(status.to_owned(), response.into());
        }
    }
}

/// Adds the `Retry-After` header (seconds) to a documented response.
fn with_retry_after(
    mut response: utoipa::openapi::Response,
    retry: bool,
) -> utoipa::openapi::Response {
    if retry {
        let seconds = utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .build();
        response.headers.insert(
            "Retry-After".to_owned(),
            utoipa::openapi::HeaderBuilder::new()
                .schema(seconds)
                .description(Some("Seconds to wait before sending the request again"))
                .build(),
        );
    }
    response
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}
