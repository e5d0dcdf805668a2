//! Password reset by e-mail. The request always answers 202 the same way, so nobody learns
//! whether an address has an account; an active account gets a mail with a single-use
//! link (the token is stored only as a digest and expires after an hour). Confirming sets
//! the new password and signs the account out of every device.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::sessions::{self, ClientInfo};
use super::throttle::{self, Limit};
use super::tokens;
use crate::areas::ward_name_of;
use crate::audit::{self, Action, Actor, Entry};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::Lang;
use crate::mail::{self, templates};
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::{password_resets, users};
use crate::state::AppState;
use crate::users::{check_password_policy, normalize_email, User};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`.
    pub status: String,
}

/// Ask for a password-reset link
///
/// Always answers 202 in the same way; a mail is sent only if the address belongs to an
/// active account.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the address has an account)", body = Accepted),
        (status = 429, description = "Too many requests for this address or client (`too-many-requests`)",
            body = crate::problem::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: ApiJson<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = normalize_email(&body.0.email);
    let settings = state.settings.clone();
    let account_limit = Limit::reset_requests(&settings.throttle, &email);
    let ip_limit = Limit::client_ip(&settings.throttle, client.ip.as_deref());
    state
        .db
        .write(move |conn| {
            // Every request counts: each one may send a mail.
            if let Some(wait) =
                throttle::attempt(conn, &settings.throttle, &[&account_limit, &ip_limit])?
            {
                return Err(throttle::too_many_requests(wait));
            }
            let actor = Actor::new(None, client.ip.as_deref());
            let user: Option<User> = users::table
                .filter(users::email.eq(&email))
                .filter(users::active.eq(true))
                .filter(users::password_hash.ne(""))
                .select(User::as_select())
                .first(conn)
                .optional()?;
            let Some(user) = user else {
                return audit::record(
                    conn,
                    &actor,
                    Entry {
                        action: Action::PasswordResetRequested,
                        entity_id: None,
                        area_id: None,
                        changes: json!({"account_known": false}),
                    },
                );
            };
            // A new link replaces any earlier one.
            diesel::delete(
                password_resets::table
                    .filter(password_resets::user_id.eq(&user.id))
                    .filter(password_resets::used_at.is_null()),
            )
            .execute(conn)?;
            let token = tokens::new_opaque_token();
            let at = now();
            let ttl =
                chrono::Duration::from_std(settings.mail.reset_ttl).map_err(ApiError::internal)?;
            diesel::insert_into(password_resets::table)
                .values((
                    password_resets::id.eq(new_id()),
                    password_resets::user_id.eq(&user.id),
                    password_resets::token_hash.eq(tokens::digest(&token)),
                    password_resets::created_at.eq(at),
                    password_resets::expires_at.eq(at + ttl),
                ))
                .execute(conn)?;
            let ward = ward_name_of(conn, user.area_id.as_deref())?;
            let lang = Lang::parse(&user.language).unwrap_or_default();
            let link = settings.mail.link(&format!(
                "/reset-password?token={token}&lang={}",
                lang.as_str()
            ));
            let mail = templates::password_reset(
                &templates::Context {
                    lang,
                    to: &email,
                    recipient_name: &user.name,
                    ward: &ward,
                },
                &link,
                settings.mail.reset_ttl.as_secs() / 60,
            );
            mail::enqueue(conn, &mail)?;
            audit::record_for_user(
                conn,
                &actor,
                Action::PasswordResetRequested,
                &user.id,
                json!({}),
            )
        })
        .await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        status: "accepted".into(),
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// At least 10 characters, not the e-mail, not a common password.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

#[derive(Queryable)]
struct ResetWithUser {
    id: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    user_id: String,
    email: Option<String>,
    phone: Option<String>,
}

/// Set a new password with the token from a reset link
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password changed; every sign-in of the account is revoked"),
        (status = 400, description = "Unknown token (`invalid-reset-token`), or malformed input",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The link was already used (`reset-token-used`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link has expired (`reset-token-expired`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bad tokens from this client (`too-many-requests`)",
            body = crate::problem::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: ApiJson<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let PasswordResetConfirm { token, password } = body.0;
    let settings = state.settings.clone();
    let ip_limit = Limit::client_ip(&settings.throttle, client.ip.as_deref());
    let digest = tokens::digest(&token);
    let lookup = (ip_limit.clone(), digest.clone(), settings.throttle.clone());
    let (locked, reset) = state
        .db
        .write(move |conn| {
            // Counted before the token is looked at; a good token gives it back below.
            let locked = throttle::attempt(conn, &lookup.2, &[&lookup.0])?;
            let reset: Option<ResetWithUser> = password_resets::table
                .inner_join(users::table)
                .filter(password_resets::token_hash.eq(&lookup.1))
                .select((
                    password_resets::id,
                    password_resets::expires_at,
                    password_resets::used_at,
                    users::id,
                    users::email,
                    users::phone,
                ))
                .first(conn)
                .optional()?;
            Ok((locked, reset))
        })
        .await?;
    if let Some(wait) = locked {
        return Err(throttle::too_many_requests(wait));
    }
    let refusal = match &reset {
        None => Some(ProblemCode::InvalidResetToken),
        Some(r) if r.used_at.is_some() => Some(ProblemCode::ResetTokenUsed),
        Some(r) if r.expires_at <= now() => Some(ProblemCode::ResetTokenExpired),
        Some(_) => None,
    };
    if let Some(code) = refusal {
        return Err(code.into());
    }
    let Some(reset) = reset else {
        return Err(ProblemCode::InvalidResetToken.into());
    };
    check_password_policy(&password, reset.email.as_deref(), reset.phone.as_deref())?;
    let password_hash = state.passwords.hash(password).await?;
    state
        .db
        .write(move |conn| {
            complete_reset(conn, &settings.throttle, &reset, &password_hash, &client)?;
            throttle::forgive(conn, &ip_limit)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn complete_reset(
    conn: &mut DbConnection,
    throttle_settings: &crate::config::ThrottleSettings,
    reset: &ResetWithUser,
    password_hash: &str,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    // Conditional on still unused: of two concurrent confirmations, one wins.
    let used = diesel::update(
        password_resets::table
            .filter(password_resets::id.eq(&reset.id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now()))
    .execute(conn)?;
    if used != 1 {
        return Err(ProblemCode::ResetTokenUsed.into());
    }
    diesel::update(users::table.find(&reset.user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::version.eq(users::version + 1),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    sessions::revoke_all_for_user(conn, &reset.user_id, "password-reset")?;
    throttle::clear(
        conn,
        &Limit::login_account(throttle_settings, &reset.user_id),
    )?;
    audit::record_for_user(
        conn,
        &Actor::new(Some(&reset.user_id), client.ip.as_deref()),
        Action::PasswordResetCompleted,
        &reset.user_id,
        json!({}),
    )
}
