//! Rendering problems on the way out, and the answer for requests that match no route.
//!
//! Handlers and extractors return `ApiError` without seeing the request's language; this
//! middleware renders the body in that language, adds the request path and id, and turns
//! any other error response (actix's plain-text ones) into a problem too.

use actix_router::ResourceDef;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use tracing_actix_web::RequestId;

use super::{ApiError, ProblemCode, PROBLEM_CONTENT_TYPE};
use crate::i18n::{Lang, Localized, Text};

pub async fn localize_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = Lang::from_headers(req.headers());
    let res = next.call(req).await?.map_into_boxed_body();
    if !res.status().is_client_error() && !res.status().is_server_error() {
        return Ok(res);
    }
    let error = match res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        Some(api_error) => api_error.clone(),
        None => ApiError::from(code_for_status(res.status())),
    };
    let request_id = res
        .request()
        .extensions()
        .get::<RequestId>()
        .map(|id| id.to_string());
    let path = res.request().path().to_owned();
    // Both renderings: a stored answer (Idempotency-Key) replays in the resend's language.
    let bodies = Localized::render(|lang| {
        serde_json::to_string(&error.to_problem(lang, Some(&path), request_id.as_deref()))
    })
    .map_err(actix_web::error::ErrorInternalServerError)?;
    let body = bodies.get(lang).to_owned();
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::with_body(old.status(), BoxBody::new(body));
    new.extensions_mut().insert(bodies);
    for (name, value) in old.headers() {
        if name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    new.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    new.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.as_str()),
    );
    Ok(ServiceResponse::new(req, new))
}

fn code_for_status(status: StatusCode) -> ProblemCode {
    match status {
        StatusCode::NOT_FOUND => ProblemCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ProblemCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ProblemCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemCode::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ProblemCode::Unauthenticated,
        StatusCode::FORBIDDEN => ProblemCode::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => ProblemCode::ServiceUnavailable,
        s if s.is_client_error() => ProblemCode::BadRequest,
        _ => ProblemCode::InternalError,
    }
}

/// Every route of the contract with its methods, so a request for a known path with the
/// wrong method gets 405 and `Allow` instead of 404. Built from the OpenAPI document the
/// handlers generate, so it cannot drift from the routes.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_openapi(openapi: &utoipa::openapi::OpenApi) -> RouteTable {
        let routes = openapi
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        RouteTable { routes }
    }

    fn allowed_methods(&self, path: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if methods.contains(&Method::GET) {
            methods.push(Method::HEAD);
        }
        methods.dedup();
        methods
    }
}

impl RouteTable {
    /// The methods of a path the contract names literally (`/households/export`), if it is
    /// one: such a path is never an `{id}` of its neighbour (`/households/{id}`).
    fn methods_of_literal(&self, path: &str) -> Option<Vec<Method>> {
        self.routes
            .iter()
            .find(|(def, _)| !def.pattern().unwrap_or_default().contains('{') && def.is_match(path))
            .map(|(_, methods)| {
                let mut methods = methods.clone();
                if methods.contains(&Method::GET) {
                    methods.push(Method::HEAD);
                }
                methods
            })
    }
}

/// Middleware: a request for a literal path of the contract with a method that path does
/// not have is 405 with its `Allow`, before routing could hand it to an `{id}` route
/// beside it (`PATCH /households/export` is not `PATCH /households/{id}` with a bad id).
pub async fn literal_paths_first(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let methods = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|routes| routes.methods_of_literal(req.path()));
    let refused = methods
        .filter(|methods| req.method() != Method::OPTIONS && !methods.contains(req.method()));
    match refused {
        Some(methods) => {
            let (request, _) = req.into_parts();
            let error: actix_web::Error = method_not_allowed(&methods).into();
            Ok(ServiceResponse::new(request, error.error_response()))
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
    }
}

fn method_not_allowed(allowed: &[Method]) -> ApiError {
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let names = allow.clone();
    ApiError::from(ProblemCode::MethodNotAllowed)
        .with_detail(Text::owned(
            format!("Địa chỉ này chỉ nhận các phương thức: {names}"),
            format!("This resource only accepts: {names}"),
        ))
        .with_header(
            header::ALLOW,
            HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("GET")),
        )
}

/// The default service: 405 with `Allow` for a known path, 404 otherwise.
pub async fn not_found_or_method_not_allowed(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    let allowed = routes
        .methods_of_literal(req.path())
        .unwrap_or_else(|| routes.allowed_methods(req.path()));
    if allowed.is_empty() {
        return Err(ProblemCode::NotFound.into());
    }
    Err(method_not_allowed(&allowed))
}
