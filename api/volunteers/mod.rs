//! Volunteer management: neighbourhood heads list the volunteers of their neighbourhood,
//! assign them to it or unassign them, and disable them; administrators do the same for
//! every volunteer in their scope. A head sees a volunteer scoped to their neighbourhood or
//! assigned to it.

pub mod activity;
pub mod assignments;
pub mod disable;
pub mod list;

use diesel::prelude::*;

use crate::auth::{role_forbidden, Caller, Role, Scope};
use crate::db::DbConnection;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{areas, volunteer_assignments};
use crate::users::{find_in_scope_user, User};

/// Ids of the areas in a scope (small for a head: their neighbourhood).
fn area_ids_in(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<String>, ApiError> {
    Ok(areas::table
        .filter(areas::path.like(scope.path_pattern()))
        .select(areas::id)
        .load(conn)?)
}

/// The areas whose volunteers the caller manages, or `None` for a national scope (all).
fn managed_volunteer_filter(
    conn: &mut DbConnection,
    scope: &Scope,
) -> Result<Option<Vec<String>>, ApiError> {
    if scope.is_national() {
        Ok(None)
    } else {
        area_ids_in(conn, scope).map(Some)
    }
}

/// Keeps the volunteers scoped to, or assigned in, one of the areas (boxed `users` query).
macro_rules! filter_managed_volunteers {
    ($select:expr, $areas:expr) => {{
        let areas: Vec<String> = $areas;
        let assigned_here = $crate::schema::volunteer_assignments::table
            .filter($crate::schema::volunteer_assignments::area_id.eq_any(areas.clone()))
            .select($crate::schema::volunteer_assignments::user_id);
        $select.filter(
            $crate::schema::users::area_id
                .eq_any(areas)
                .or($crate::schema::users::id.eq_any(assigned_here)),
        )
    }};
}
use filter_managed_volunteers;

/// A user the caller may manage as a volunteer (and whose sign-ins they may revoke):
/// administrators reach every account in scope, heads the volunteers of their
/// neighbourhood. Others get 403; a user out of reach is `user-not-found`.
pub fn find_managed_user(
    conn: &mut DbConnection,
    caller: &Caller,
    user_id: &str,
) -> Result<User, ApiError> {
    match caller.role {
        Role::Admin => find_in_scope_user(conn, &caller.scope, user_id),
        Role::Head => {
            let user = find_in_scope_user(conn, &Scope::national(), user_id)?;
            if user.role == Role::Volunteer.as_str()
                && volunteer_reaches(conn, &caller.scope, &user)?
            {
                Ok(user)
            } else {
                Err(ProblemCode::UserNotFound.into())
            }
        }
        Role::Official | Role::Volunteer => Err(role_forbidden()),
    }
}

/// Whether a volunteer is scoped to, or assigned to, an area in the scope.
fn volunteer_reaches(
    conn: &mut DbConnection,
    scope: &Scope,
    user: &User,
) -> Result<bool, ApiError> {
    let in_scope = area_ids_in(conn, scope)?;
    if user.area_id.as_ref().is_some_and(|a| in_scope.contains(a)) {
        return Ok(true);
    }
    let assigned: i64 = volunteer_assignments::table
        .filter(volunteer_assignments::user_id.eq(&user.id))
        .filter(volunteer_assignments::area_id.eq_any(&in_scope))
        .count()
        .get_result(conn)?;
    Ok(assigned > 0)
}

/// A managed account that must be a volunteer.
pub fn find_managed_volunteer(
    conn: &mut DbConnection,
    caller: &Caller,
    user_id: &str,
) -> Result<User, ApiError> {
    let user = find_managed_user(conn, caller, user_id)?;
    if user.role == Role::Volunteer.as_str() {
        Ok(user)
    } else {
        Err(ProblemCode::UserNotFound.into())
    }
}

/// Assigns a volunteer to a neighbourhood unless already assigned: the assignment, the
/// start of its period, and the neighbourhood's records republished so the volunteer's
/// phone downloads them on its next pull. Returns whether anything changed.
pub fn start_assignment(
    conn: &mut DbConnection,
    user_id: &str,
    area_id: &str,
) -> Result<bool, ApiError> {
    start_assignment_since(conn, user_id, area_id, None)
}

/// `start_assignment` with the period starting at `since` instead of now: a reorganisation
/// carries an assignment to the area that replaced the old one, and what the phone recorded
/// while the volunteer was assigned there stays accepted.
pub fn start_assignment_since(
    conn: &mut DbConnection,
    user_id: &str,
    area_id: &str,
    since: Option<chrono::NaiveDateTime>,
) -> Result<bool, ApiError> {
    use crate::schema::assignment_periods;
    let already: i64 = volunteer_assignments::table
        .filter(volunteer_assignments::user_id.eq(user_id))
        .filter(volunteer_assignments::area_id.eq(area_id))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Ok(false);
    }
    let at = crate::db::now();
    diesel::insert_into(volunteer_assignments::table)
        .values((
            volunteer_assignments::user_id.eq(user_id),
            volunteer_assignments::area_id.eq(area_id),
            volunteer_assignments::created_at.eq(at),
        ))
        .execute(conn)?;
    diesel::insert_into(assignment_periods::table)
        .values((
            assignment_periods::id.eq(crate::db::new_id()),
            assignment_periods::user_id.eq(user_id),
            assignment_periods::area_id.eq(area_id),
            assignment_periods::assigned_at.eq(since.map_or(at, |since| since.min(at))),
        ))
        .execute(conn)?;
    crate::sync::feed::republish_area(conn, area_id)?;
    Ok(true)
}

/// Takes a volunteer off a neighbourhood: the open period ends, which is the tombstone
/// that makes their phone drop the neighbourhood's households. Returns whether anything
/// changed.
pub fn end_assignment(
    conn: &mut DbConnection,
    user_id: &str,
    area_id: &str,
) -> Result<bool, ApiError> {
    use crate::schema::assignment_periods;
    let removed = diesel::delete(
        volunteer_assignments::table
            .filter(volunteer_assignments::user_id.eq(user_id))
            .filter(volunteer_assignments::area_id.eq(area_id)),
    )
    .execute(conn)?;
    diesel::update(
        assignment_periods::table
            .filter(assignment_periods::user_id.eq(user_id))
            .filter(assignment_periods::area_id.eq(area_id))
            .filter(assignment_periods::unassigned_at.is_null()),
    )
    .set(assignment_periods::unassigned_at.eq(crate::db::now()))
    .execute(conn)?;
    Ok(removed > 0)
}

/// How long after being taken off a neighbourhood a volunteer's phone may still hand in
/// what it recorded there while assigned (it was offline when the head changed the list).
/// The moment of a visit is the phone's word; without this bound a volunteer taken off
/// could go on writing there for ever by back-dating.
pub const LATE_SYNC_GRACE_DAYS: i64 = 7;

/// Whether the volunteer was assigned to the neighbourhood at that moment, and — when the
/// assignment has ended — it ended no more than `LATE_SYNC_GRACE_DAYS` ago.
pub fn was_assigned(
    conn: &mut DbConnection,
    user_id: &str,
    area_id: &str,
    at: chrono::NaiveDateTime,
) -> Result<bool, ApiError> {
    use crate::schema::assignment_periods;
    let grace_since = crate::db::now() - chrono::Duration::days(LATE_SYNC_GRACE_DAYS);
    let periods: i64 = assignment_periods::table
        .filter(assignment_periods::user_id.eq(user_id))
        .filter(assignment_periods::area_id.eq(area_id))
        .filter(assignment_periods::assigned_at.le(at))
        .filter(
            assignment_periods::unassigned_at
                .is_null()
                .or(assignment_periods::unassigned_at
                    .gt(at)
                    .and(assignment_periods::unassigned_at.gt(grace_since))),
        )
        .count()
        .get_result(conn)?;
    Ok(periods > 0)
}
