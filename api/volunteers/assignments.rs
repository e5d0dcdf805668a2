//! `PUT` and `DELETE /api/v1/volunteers/{id}/assignments/{area_id}`: assign a volunteer to a
//! neighbourhood in the caller's scope, or take them off it. Both are idempotent and answer
//! with the volunteer's account.

use actix_web::http::header;
use actix_web::{delete, put, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::find_managed_volunteer;
use crate::areas::{find_in_scope, AreaKind};
use crate::audit::{self, Action};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Scope};
use crate::db::{now, DbConnection};
use crate::etag;
use crate::i18n::Text;
use crate::problem::ApiError;
use crate::schema::{areas, users};
use crate::state::AppState;
use crate::users::{user_response, User, UserResponse};

/// Assign a volunteer to a neighbourhood (heads and administrators)
#[utoipa::path(
    tag = "volunteers",
    params(
        ("id" = uuid::Uuid, Path, description = "Volunteer id"),
        ("area_id" = uuid::Uuid, Path, description = "Neighbourhood id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Assigned (or already was)", body = UserResponse, headers(("ETag" = String))),
        (status = 403, description = "Not a head or administrator (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Volunteer or neighbourhood out of reach (`user-not-found`, `area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/volunteers/{id}/assignments/{area_id}")]
pub async fn assign_volunteer(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, area_id) = path.into_inner();
    let (user_id, area_id) = (user_id.to_string(), area_id.to_string());
    let user = state
        .db
        .write(move |conn| {
            let volunteer = find_managed_volunteer(conn, &caller, &user_id)?;
            let area = find_in_scope(conn, &caller.scope, &area_id)?;
            area.require_live("/area_id")?;
            let volunteer_scope = scope_of(conn, &volunteer)?;
            if area.kind() != Some(AreaKind::Neighbourhood) || !volunteer_scope.contains(&area.path)
            {
                return Err(ApiError::invalid_field(
                    "/area_id",
                    "not-a-neighbourhood-in-area",
                    Text::new(
                        "Phải là một khu phố thuộc địa bàn của tình nguyện viên",
                        "Must be a neighbourhood inside the volunteer's area",
                    ),
                ));
            }
            if super::start_assignment(conn, &volunteer.id, &area.id)? {
                bump_version(conn, &volunteer)?;
                audit::record_for_user(
                    conn,
                    &caller.actor(&client),
                    Action::VolunteerAssigned,
                    &volunteer.id,
                    json!({"area_id": area.id}),
                )?;
            }
            reload(conn, &volunteer.id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(user.version)))
        .json(user))
}

/// Take a volunteer off a neighbourhood (heads and administrators)
#[utoipa::path(
    tag = "volunteers",
    params(
        ("id" = uuid::Uuid, Path, description = "Volunteer id"),
        ("area_id" = uuid::Uuid, Path, description = "Neighbourhood id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unassigned (or was not assigned)", body = UserResponse, headers(("ETag" = String))),
        (status = 403, description = "Not a head or administrator (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Volunteer or neighbourhood out of reach (`user-not-found`, `area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/volunteers/{id}/assignments/{area_id}")]
pub async fn unassign_volunteer(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, area_id) = path.into_inner();
    let (user_id, area_id) = (user_id.to_string(), area_id.to_string());
    let user = state
        .db
        .write(move |conn| {
            let volunteer = find_managed_volunteer(conn, &caller, &user_id)?;
            let area = find_in_scope(conn, &caller.scope, &area_id)?;
            if super::end_assignment(conn, &volunteer.id, &area.id)? {
                bump_version(conn, &volunteer)?;
                audit::record_for_user(
                    conn,
                    &caller.actor(&client),
                    Action::VolunteerUnassigned,
                    &volunteer.id,
                    json!({"area_id": area.id}),
                )?;
            }
            reload(conn, &volunteer.id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(user.version)))
        .json(user))
}

/// The volunteer's own area scope (where their assignments must lie).
fn scope_of(conn: &mut DbConnection, user: &User) -> Result<Scope, ApiError> {
    let path = match &user.area_id {
        Some(area_id) => Some(
            areas::table
                .find(area_id)
                .select(areas::path)
                .first::<String>(conn)?,
        ),
        None => None,
    };
    Ok(Scope {
        area_id: user.area_id.clone(),
        area_path: path,
    })
}

/// Assignments are part of the account: a change moves its `ETag`.
pub(super) fn bump_version(conn: &mut DbConnection, user: &User) -> Result<(), ApiError> {
    diesel::update(users::table.find(&user.id))
        .set((
            users::version.eq(users::version + 1),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn reload(conn: &mut DbConnection, user_id: &str) -> Result<UserResponse, ApiError> {
    let user: User = users::table
        .find(user_id)
        .select(User::as_select())
        .first(conn)?;
    user_response(conn, user)
}
