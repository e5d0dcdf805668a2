//! `POST /api/v1/auth/login`: e-mail and password for a token pair. An unknown e-mail, a
//! wrong password and a disabled account all give the same 401 after the same work.

use actix_web::{post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::sessions::{self, ClientInfo, TokenResponse};
use super::Role;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::users;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 3, max = 254))]
    #[schema(example = "volunteer@demo.local")]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

/// Sign in with e-mail and password
///
/// Returns a short-lived access token and a single-use refresh token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password (`invalid-credentials`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.0;
    let email = crate::users::normalize_email(&email);
    let user: Option<(String, String, String, bool)> = state
        .db
        .read(move |conn| {
            Ok(users::table
                .filter(users::email.eq(&email))
                .select((users::id, users::password_hash, users::role, users::active))
                .first(conn)
                .optional()?)
        })
        .await?;
    let stored_hash = user.as_ref().map(|(_, hash, _, _)| hash.clone());
    let password_ok = state.passwords.verify(password, stored_hash).await?;
    let Some((user_id, _, role, true)) = user.filter(|_| password_ok) else {
        return Err(ApiError::unauthorized(ProblemCode::InvalidCredentials));
    };
    let role = Role::parse(&role).ok_or_else(|| ApiError::internal("unknown role stored"))?;
    let client = ClientInfo::of(&req);
    let ttl = chrono::Duration::from_std(state.settings.auth.refresh_token_ttl)
        .map_err(ApiError::internal)?;
    let session_user = user_id.clone();
    let session = state
        .db
        .write(move |conn| sessions::start(conn, &session_user, &client, ttl))
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: state.tokens.issue(&user_id, role, &session.session_id)?,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl_secs(),
        refresh_token: session.refresh_token,
    }))
}
