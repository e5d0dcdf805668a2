//! `GET /api/v1/users/{id}/sessions` and `DELETE /api/v1/users/{id}/sessions/{session_id}`
//! for administrators (accounts in scope) and heads (the volunteers they manage).

use actix_web::{delete, get, web, HttpResponse};
use serde_json::json;

use super::{session_list, SessionList};
use crate::audit::{self, Action};
use crate::auth::sessions::{self, ClientInfo};
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::volunteers::find_managed_user;

/// List an account's sign-ins (administrators; heads for their volunteers)
#[utoipa::path(
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account's live sign-ins", body = SessionList),
        (status = 403, description = "Not an administrator or head (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account within reach (`user-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}/sessions")]
pub async fn list_user_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ttl = chrono::Duration::from_std(state.settings.auth.refresh_token_ttl)
        .map_err(ApiError::internal)?;
    let user_id = id.into_inner().to_string();
    let current = caller.session_id.clone();
    let rows = state
        .db
        .read(move |conn| {
            let user = find_managed_user(conn, &caller, &user_id)?;
            sessions::list_live(conn, &user.id, ttl)
        })
        .await?;
    Ok(HttpResponse::Ok().json(session_list(rows, Some(&current))?))
}

/// Revoke one sign-in of an account (administrators; heads for their volunteers)
#[utoipa::path(
    tag = "sessions",
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("session_id" = uuid::Uuid, Path, description = "Session id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an administrator or head (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account within reach or live sign-in (`user-not-found`, `session-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}/sessions/{session_id}")]
pub async fn revoke_user_session(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, session_id) = path.into_inner();
    let (user_id, session_id) = (user_id.to_string(), session_id.to_string());
    state
        .db
        .write(move |conn| {
            let user = find_managed_user(conn, &caller, &user_id)?;
            sessions::revoke_owned(conn, &user.id, &session_id)?;
            audit::record_for_user(
                conn,
                &caller.actor(&client),
                Action::SessionRevoked,
                &user.id,
                json!({"session_id": session_id}),
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
