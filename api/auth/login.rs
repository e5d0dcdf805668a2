//! `POST /api/v1/auth/login`: e-mail (or phone number) and password for a token pair. An
//! unknown account, a wrong password and a disabled account all give the same 401 after
//! the same work.
//! Failures are counted per account and per client IP; past the limit the answer is 429
//! with `Retry-After`, even for the right password, and no password is hashed.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::sessions::{self, ClientInfo, TokenResponse};
use super::throttle::{self, Limit};
use super::Role;
use crate::audit::{self, Action, Actor, Entry};
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::users;
use crate::state::AppState;
use crate::users::{normalize_email, normalize_phone};

/// Who is signing in, as stored.
enum Account {
    Email(String),
    Phone(String),
}

impl Account {
    /// The throttle's key for this account: a phone number and an e-mail never collide.
    fn key(&self) -> &str {
        match self {
            Account::Email(name) | Account::Phone(name) => name,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's e-mail; or give `phone` instead (one of the two).
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    #[schema(example = "volunteer@demo.local")]
    pub email: Option<String>,
    /// The account's phone number (`0912 345 678` or `+84 912 345 678`), for accounts
    /// without e-mail; used when `email` is absent.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub phone: Option<String>,
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// Sign in with e-mail (or phone number) and password
///
/// Returns a short-lived access token and a single-use refresh token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail, phone number or password (`invalid-credentials`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither e-mail nor phone, or a field too long (`validation-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts for this account or client (`too-many-requests`)",
            body = crate::problem::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        email,
        phone,
        password,
    } = body.0;
    let account = match (email, phone) {
        (Some(email), _) => Account::Email(normalize_email(&email)),
        // A text that is no phone number finds no account (same 401 after the same work).
        (None, Some(phone)) => Account::Phone(normalize_phone(&phone).unwrap_or(phone)),
        (None, None) => {
            return Err(ApiError::invalid_field(
                "/email",
                "required",
                Text::new(
                    "Cần email hoặc số điện thoại",
                    "An e-mail address or a phone number is required",
                ),
            ))
        }
    };
    let throttle_settings = state.settings.throttle.clone();
    let ip_limit = Limit::client_ip(&throttle_settings, client.ip.as_deref());
    let anonymous = Actor::new(None, client.ip.as_deref());

    // Counted before the password is hashed (see `throttle::attempt`).
    let ip_limits = ip_limit.clone();
    let actor = anonymous.clone();
    let (locked, user, account_limit) = state
        .db
        .write(move |conn| {
            let query = users::table.into_boxed();
            let query = match &account {
                Account::Email(email) => query.filter(users::email.eq(email)),
                Account::Phone(phone) => query.filter(users::phone.eq(phone)),
            };
            let user: Option<(String, String, String, bool, Option<String>)> = query
                .select((
                    users::id,
                    users::password_hash,
                    users::role,
                    users::active,
                    users::area_id,
                ))
                .first(conn)
                .optional()?;
            let user_id = user.as_ref().map(|(id, ..)| id.as_str());
            // One count per account, whether it is named by its e-mail or its phone; an
            // unknown name is counted under itself, apart.
            let account_limit = match &user {
                Some((id, ..)) => Limit::login_account(&throttle_settings, id),
                None => Limit::login_unknown(&throttle_settings, account.key()),
            };
            let locked =
                throttle::attempt(conn, &throttle_settings, &[&account_limit, &ip_limits])?;
            if locked.is_some() {
                audit_attempt(conn, &actor, Action::LoginThrottled, user_id)?;
            }
            Ok((locked, user, account_limit))
        })
        .await?;
    if let Some(wait) = locked {
        return Err(throttle::too_many_requests(wait));
    }

    let user_id = user.as_ref().map(|(id, ..)| id.clone());
    let stored_hash = user.as_ref().map(|(_, hash, ..)| hash.clone());
    let password_ok = state.passwords.verify(password, stored_hash).await?;
    let Some((user_id, _, role, true, area_id)) = user.filter(|_| password_ok) else {
        let actor = anonymous.clone();
        state
            .db
            .write(move |conn| audit_attempt(conn, &actor, Action::LoginFailed, user_id.as_deref()))
            .await?;
        return Err(ApiError::unauthorized(ProblemCode::InvalidCredentials));
    };
    let role = Role::parse(&role).ok_or_else(|| ApiError::internal("unknown role stored"))?;
    let ttl = chrono::Duration::from_std(state.settings.auth.refresh_token_ttl)
        .map_err(ApiError::internal)?;
    let session_user = user_id.clone();
    let session = state
        .db
        .write(move |conn| {
            throttle::clear(conn, &account_limit)?;
            throttle::forgive(conn, &ip_limit)?;
            let session = sessions::start(conn, &session_user, &client, ttl)?;
            audit::record(
                conn,
                &Actor::new(Some(&session_user), client.ip.as_deref()),
                Entry {
                    action: Action::Login,
                    entity_id: Some(&session_user),
                    area_id: area_id.as_deref(),
                    changes: json!({"session_id": session.session_id}),
                },
            )?;
            Ok(session)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse::issue(
        &state.tokens,
        &user_id,
        role,
        session,
    )?))
}

/// A refused attempt, filed under the account when the e-mail is known (the e-mail itself
/// is not recorded: an unknown one may be somebody's mistyped personal address).
fn audit_attempt(
    conn: &mut crate::db::DbConnection,
    actor: &Actor,
    action: Action,
    user_id: Option<&str>,
) -> Result<(), ApiError> {
    match user_id {
        Some(user_id) => audit::record_for_user(conn, actor, action, user_id, json!({})),
        None => audit::record(
            conn,
            actor,
            Entry {
                action,
                entity_id: None,
                area_id: None,
                changes: json!({"account_known": false}),
            },
        ),
    }
}
