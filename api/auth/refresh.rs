//! `POST /api/v1/auth/refresh`: a refresh token for a new pair. The presented token is
//! spent; presenting it again revokes every token of its sign-in.

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::sessions::{self, ClientInfo, Rotation, TokenResponse};
use crate::audit::{self, Action, Actor};
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

/// Exchange a refresh token for a new token pair
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the presented refresh token is spent", body = TokenResponse),
        (status = 401, description = "Unknown, expired or revoked token (`invalid-refresh-token`), \
            or a spent one (`refresh-token-reused`, the whole sign-in is revoked)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    let ttl = chrono::Duration::from_std(state.settings.auth.refresh_token_ttl)
        .map_err(ApiError::internal)?;
    let rotation = state
        .db
        .write(move |conn| {
            let rotation = sessions::rotate(conn, &presented, ttl)?;
            match &rotation {
                Rotation::Rotated {
                    user_id, session, ..
                } => audit::record_for_user(
                    conn,
                    &Actor::new(Some(user_id), client.ip.as_deref()),
                    Action::TokenRefreshed,
                    user_id,
                    json!({"session_id": session.session_id}),
                )?,
                // Whoever presented it is not known to be the account's owner.
                Rotation::Reused { user_id } => audit::record_for_user(
                    conn,
                    &Actor::new(None, client.ip.as_deref()),
                    Action::RefreshTokenReused,
                    user_id,
                    json!({}),
                )?,
                Rotation::Invalid => {}
            }
            Ok(rotation)
        })
        .await?;
    match rotation {
        Rotation::Rotated {
            user_id,
            role,
            session,
        } => Ok(HttpResponse::Ok().json(TokenResponse::issue(
            &state.tokens,
            &user_id,
            role,
            session,
        )?)),
        Rotation::Invalid => Err(ApiError::unauthorized(ProblemCode::InvalidRefreshToken)),
        Rotation::Reused { .. } => Err(ApiError::unauthorized(ProblemCode::RefreshTokenReused)),
    }
}
