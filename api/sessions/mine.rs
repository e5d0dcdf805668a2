//! `GET /api/v1/me/sessions` and `DELETE /api/v1/me/sessions/{id}`.

use actix_web::{delete, get, web, HttpResponse};
use serde_json::json;

use super::{session_list, SessionList};
use crate::audit::{self, Action};
use crate::auth::sessions::{self, ClientInfo};
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::state::AppState;

/// List my sign-ins (one per device)
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's live sign-ins", body = SessionList))
)]
#[get("/me/sessions")]
pub async fn list_my_sessions(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let ttl = chrono::Duration::from_std(state.settings.auth.refresh_token_ttl)
        .map_err(ApiError::internal)?;
    let user_id = caller.user_id.clone();
    let rows = state
        .db
        .read(move |conn| sessions::list_live(conn, &user_id, ttl))
        .await?;
    Ok(HttpResponse::Ok().json(session_list(rows, Some(&caller.session_id))?))
}

/// Sign out one of my devices
#[utoipa::path(
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked: its refresh token no longer works"),
        (status = 404, description = "No such live sign-in of the caller (`session-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/sessions/{id}")]
pub async fn revoke_my_session(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let session_id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            sessions::revoke_owned(conn, &caller.user_id, &session_id)?;
            audit::record_for_user(
                conn,
                &caller.actor(&client),
                Action::SessionRevoked,
                &caller.user_id,
                json!({"session_id": session_id}),
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
