//! `GET /api/v1/users/{id}`: one account in an administrator's scope.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use super::{find_in_scope_user, user_response, UserResponse};
use crate::auth::{Caller, Role};
use crate::etag;
use crate::problem::ApiError;
use crate::state::AppState;

/// Get an account (administrators)
#[utoipa::path(
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserResponse, headers(("ETag" = String))),
        (status = 403, description = "Only administrators read accounts (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account in the caller's scope (`user-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner().to_string();
    let user = state
        .db
        .read(move |conn| {
            let user = find_in_scope_user(conn, &caller.scope, &id)?;
            user_response(conn, user)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(user.version)))
        .json(user))
}
