//! Authentication and the caller's scope. Sign-in issues a short access token (JWT) and an
//! opaque refresh token; every protected request carries the access token, and the
//! `Caller` extractor turns it into the caller's role and area scope, read fresh from the
//! database so a disabled account or a changed scope takes effect at once.

mod jwt_crypto;
pub mod login;
pub mod logout;
pub mod password;
pub mod password_reset;
pub mod refresh;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::i18n::Text;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{areas, users};
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Official,
    Head,
    Volunteer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Official => "official",
            Role::Head => "head",
            Role::Volunteer => "volunteer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "official" => Some(Role::Official),
            "head" => Some(Role::Head),
            "volunteer" => Some(Role::Volunteer),
            _ => None,
        }
    }
}

/// The part of the area tree a user may see: their area and everything below it, or the
/// whole country for a national administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub area_id: Option<String>,
    /// The materialised path of the scope's root area (`/id/…/id/`).
    pub area_path: Option<String>,
}

impl Scope {
    pub fn national() -> Scope {
        Scope {
            area_id: None,
            area_path: None,
        }
    }

    pub fn is_national(&self) -> bool {
        self.area_path.is_none()
    }

    /// Whether the area at `path` lies in this scope.
    pub fn contains(&self, path: &str) -> bool {
        self.area_path
            .as_deref()
            .is_none_or(|root| path.starts_with(root))
    }

    /// A `LIKE` pattern matching the paths in scope (paths hold only hex digits, '-' and '/').
    pub fn path_pattern(&self) -> String {
        format!("{}%", self.area_path.as_deref().unwrap_or("/"))
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: String,
    pub role: Role,
    pub session_id: String,
    pub scope: Scope,
}

impl Caller {
    /// The caller as the audit log records them.
    pub fn actor(&self, client: &sessions::ClientInfo) -> crate::audit::Actor {
        crate::audit::Actor::new(Some(&self.user_id), client.ip.as_deref())
    }

    /// 403 unless the caller has one of the roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(role_forbidden())
        }
    }
}

/// The roles that work on households, residents, visits and statuses (officials see
/// figures only).
pub const RECORD_WORKERS: &[Role] = &[Role::Volunteer, Role::Head, Role::Admin];

/// 403 for a role that may not do something at all.
pub fn role_forbidden() -> ApiError {
    ApiError::from(ProblemCode::Forbidden).with_detail(Text::new(
        "Vai trò của bạn không được phép thực hiện thao tác này",
        "Your role is not allowed to do this",
    ))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState missing"))?;
            let token = bearer?;
            let claims = state.tokens.verify(&token)?;
            let (user_id, session_id) = (claims.sub.clone(), claims.sid.clone());
            let (role, scope) = state
                .db
                .read(move |conn| load_caller(conn, &user_id, &session_id))
                .await??;
            Ok(Caller {
                user_id: claims.sub,
                role,
                session_id: claims.sid,
                scope,
            })
        })
    }
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case).
pub fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized(ProblemCode::Unauthenticated))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized(ProblemCode::InvalidToken))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::unauthorized(ProblemCode::InvalidToken)),
    }
}

/// The role and scope of an active user whose sign-in still holds: an access token is
/// refused at once after logout, a revoked session, a reused refresh token, a password
/// reset or disabling, not when it expires.
fn load_caller(
    conn: &mut crate::db::DbConnection,
    user_id: &str,
    session_id: &str,
) -> Result<Result<(Role, Scope), ApiError>, ApiError> {
    let row: Option<(String, Option<String>, bool, Option<String>)> = users::table
        .left_join(areas::table)
        .filter(users::id.eq(user_id))
        .select((
            users::role,
            users::area_id,
            users::active,
            areas::path.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some(caller) = row.and_then(|(role, area_id, active, area_path)| {
        let role = Role::parse(&role)?;
        active.then_some((role, Scope { area_id, area_path }))
    }) else {
        return Ok(Err(ApiError::unauthorized(ProblemCode::InvalidToken)));
    };
    let session_holds: i64 = crate::schema::refresh_families::table
        .filter(crate::schema::refresh_families::id.eq(session_id))
        .filter(crate::schema::refresh_families::user_id.eq(user_id))
        .filter(crate::schema::refresh_families::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    if session_holds == 0 {
        return Ok(Err(ApiError::unauthorized(ProblemCode::SessionRevoked)));
    }
    Ok(Ok(caller))
}
