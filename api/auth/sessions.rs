//! Sign-in sessions: one refresh family per login, holding every refresh token that
//! descends from it. A refresh token is spent when used; presenting a spent one means it was
//! copied, so the whole family is revoked. Outcomes that must be committed even though the
//! client gets an error (a revocation) are returned as values, not errors, so the
//! transaction that records them is not rolled back.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{tokens, Role};
use crate::db::{new_id, now, DbConnection};
use crate::problem::ApiError;
use crate::schema::{refresh_families, refresh_tokens, users};

/// Access and refresh token as returned by login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single-use: exchange it at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
}

impl TokenResponse {
    /// The pair for a session that was just started or rotated.
    pub fn issue(
        tokens: &super::tokens::AccessTokens,
        user_id: &str,
        role: Role,
        session: NewSession,
    ) -> Result<TokenResponse, ApiError> {
        Ok(TokenResponse {
            access_token: tokens.issue(user_id, role, &session.session_id)?,
            token_type: "Bearer".into(),
            expires_in: tokens.ttl_secs(),
            refresh_token: session.refresh_token,
        })
    }
}

/// Where a sign-in came from, kept with the session for the user's device list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl ClientInfo {
    pub fn of(req: &actix_web::HttpRequest) -> ClientInfo {
        ClientInfo {
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(300).collect()),
            ip: client_ip(req).map(|ip| ip.to_string()),
        }
    }
}

impl actix_web::FromRequest for ClientInfo {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(ClientInfo::of(req)))
    }
}

/// The client's IP: the TCP peer, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` (the one the proxy itself added; earlier ones are the client's word).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let trusted = req
        .app_data::<actix_web::web::Data<crate::config::Settings>>()
        .is_some_and(|s| s.http.trusted_proxies.contains(&peer));
    if !trusted {
        return Some(peer);
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse().ok())
        .or(Some(peer))
}

pub struct NewSession {
    pub session_id: String,
    pub refresh_token: String,
}

/// Opens a refresh family for a user who just proved their password.
pub fn start(
    conn: &mut DbConnection,
    user_id: &str,
    client: &ClientInfo,
    ttl: Duration,
) -> Result<NewSession, ApiError> {
    let at = now();
    let session_id = new_id();
    diesel::insert_into(refresh_families::table)
        .values((
            refresh_families::id.eq(&session_id),
            refresh_families::user_id.eq(user_id),
            refresh_families::user_agent.eq(&client.user_agent),
            refresh_families::client_ip.eq(&client.ip),
            refresh_families::created_at.eq(at),
            refresh_families::last_used_at.eq(at),
        ))
        .execute(conn)?;
    let refresh_token = insert_token(conn, &session_id, at, ttl)?;
    Ok(NewSession {
        session_id,
        refresh_token,
    })
}

fn insert_token(
    conn: &mut DbConnection,
    session_id: &str,
    at: NaiveDateTime,
    ttl: Duration,
) -> Result<String, ApiError> {
    let token = tokens::new_opaque_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(new_id()),
            refresh_tokens::family_id.eq(session_id),
            refresh_tokens::token_hash.eq(tokens::digest(&token)),
            refresh_tokens::created_at.eq(at),
            refresh_tokens::expires_at.eq(at + ttl),
        ))
        .execute(conn)?;
    Ok(token)
}

pub enum Rotation {
    Rotated {
        user_id: String,
        role: Role,
        session: NewSession,
    },
    /// Unknown, expired, revoked, or its user is disabled.
    Invalid,
    /// Already spent: the family has now been revoked.
    Reused { user_id: String },
}

/// A presented refresh token with the state of its family.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct PresentedToken {
    #[diesel(column_name = id)]
    token_id: String,
    family_id: String,
    spent_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
    #[diesel(select_expression = refresh_families::revoked_at)]
    revoked_at: Option<NaiveDateTime>,
    #[diesel(select_expression = refresh_families::user_id)]
    user_id: String,
}

/// Spends a refresh token and issues its successor in the same family.
pub fn rotate(
    conn: &mut DbConnection,
    presented: &str,
    ttl: Duration,
) -> Result<Rotation, ApiError> {
    let at = now();
    let found: Option<PresentedToken> = refresh_tokens::table
        .inner_join(refresh_families::table)
        .filter(refresh_tokens::token_hash.eq(tokens::digest(presented)))
        .select(PresentedToken::as_select())
        .first(conn)
        .optional()?;
    let Some(PresentedToken {
        token_id,
        family_id,
        spent_at,
        expires_at,
        revoked_at,
        user_id,
    }) = found
    else {
        return Ok(Rotation::Invalid);
    };
    if revoked_at.is_some() || expires_at <= at {
        return Ok(Rotation::Invalid);
    }
    if spent_at.is_some() {
        revoke_family(conn, &family_id, "refresh-token-reused")?;
        return Ok(Rotation::Reused { user_id });
    }
    let user: Option<(String, bool)> = users::table
        .filter(users::id.eq(&user_id))
        .select((users::role, users::active))
        .first(conn)
        .optional()?;
    let Some(role) = user
        .filter(|(_, active)| *active)
        .and_then(|(role, _)| Role::parse(&role))
    else {
        return Ok(Rotation::Invalid);
    };
    // Conditional on not yet spent: of two concurrent refreshes with one token, one wins and
    // the other is treated as the reuse it is.
    let spent = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(&token_id))
            .filter(refresh_tokens::spent_at.is_null()),
    )
    .set(refresh_tokens::spent_at.eq(at))
    .execute(conn)?;
    if spent != 1 {
        revoke_family(conn, &family_id, "refresh-token-reused")?;
        return Ok(Rotation::Reused { user_id });
    }
    diesel::update(refresh_families::table.find(&family_id))
        .set(refresh_families::last_used_at.eq(at))
        .execute(conn)?;
    let refresh_token = insert_token(conn, &family_id, at, ttl)?;
    Ok(Rotation::Rotated {
        user_id,
        role,
        session: NewSession {
            session_id: family_id,
            refresh_token,
        },
    })
}

/// Revokes the family a refresh token belongs to (spent or not). Returns the family and
/// its user if it was live until now.
pub fn revoke_by_token(
    conn: &mut DbConnection,
    presented: &str,
    reason: &str,
) -> Result<Option<(String, String)>, ApiError> {
    let family: Option<(String, String)> = refresh_tokens::table
        .inner_join(refresh_families::table)
        .filter(refresh_tokens::token_hash.eq(tokens::digest(presented)))
        .select((refresh_tokens::family_id, refresh_families::user_id))
        .first(conn)
        .optional()?;
    match family {
        Some((family_id, user_id)) if revoke_family(conn, &family_id, reason)? => {
            Ok(Some((family_id, user_id)))
        }
        _ => Ok(None),
    }
}

/// Revokes one sign-in; returns whether it was still live.
pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    reason: &str,
) -> Result<bool, ApiError> {
    let revoked = diesel::update(
        refresh_families::table
            .filter(refresh_families::id.eq(family_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set((
        refresh_families::revoked_at.eq(now()),
        refresh_families::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(revoked == 1)
}

/// Revokes every sign-in of a user (account disabled).
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    reason: &str,
) -> Result<(), ApiError> {
    diesel::update(
        refresh_families::table
            .filter(refresh_families::user_id.eq(user_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set((
        refresh_families::revoked_at.eq(now()),
        refresh_families::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(())
}

/// A sign-in as its owner sees it in the device list.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_families)]
pub struct SessionRow {
    pub id: String,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// The most recent live sign-ins of a user (not revoked, refreshed within the refresh
/// token lifetime), newest first.
pub fn list_live(
    conn: &mut DbConnection,
    user_id: &str,
    ttl: Duration,
) -> Result<Vec<SessionRow>, ApiError> {
    Ok(refresh_families::table
        .filter(refresh_families::user_id.eq(user_id))
        .filter(refresh_families::revoked_at.is_null())
        .filter(refresh_families::last_used_at.gt(now() - ttl))
        .order(refresh_families::last_used_at.desc())
        .limit(MAX_LISTED_SESSIONS)
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// More live sign-ins than this means something is wrong; the list shows the newest.
pub const MAX_LISTED_SESSIONS: i64 = 200;

/// Revokes one live sign-in of this user; `session-not-found` if there is none.
pub fn revoke_owned(
    conn: &mut DbConnection,
    user_id: &str,
    session_id: &str,
) -> Result<(), ApiError> {
    let owned: i64 = refresh_families::table
        .filter(refresh_families::id.eq(session_id))
        .filter(refresh_families::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    if owned == 0 || !revoke_family(conn, session_id, "revoked")? {
        return Err(crate::problem::ProblemCode::SessionNotFound.into());
    }
    Ok(())
}
