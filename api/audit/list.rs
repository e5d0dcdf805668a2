//! `GET /api/v1/audit`: the trail for administrators, newest first, limited to their scope
//! (a national administrator also sees rows filed under no area, such as failed logins of
//! unknown e-mails).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::areas::find_in_scope;
use crate::auth::{Caller, Role};
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::{areas, audit_log};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only actions by this user.
    pub actor_id: Option<uuid::Uuid>,
    /// Only this action, e.g. `auth.login_failed`.
    #[validate(length(max = 64))]
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// Only rows about this kind of record, e.g. `user`, `invitation`, `area`.
    #[validate(length(max = 32))]
    #[param(max_length = 32)]
    pub entity: Option<String>,
    /// Only rows about this record.
    pub entity_id: Option<uuid::Uuid>,
    /// Only rows filed under this area or any area below it.
    pub area_id: Option<uuid::Uuid>,
    /// From this instant (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: String,
    occurred_at: NaiveDateTime,
    actor_id: Option<String>,
    action: String,
    entity: String,
    entity_id: Option<String>,
    area_id: Option<String>,
    client_ip: Option<String>,
    changes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The user who acted; `null` for anonymous actions (a failed login, a reset request).
    pub actor_id: Option<uuid::Uuid>,
    /// e.g. `auth.login`, `user.updated`, `invitation.accepted`.
    pub action: String,
    /// The kind of record: `user`, `invitation`, `session`, `area`.
    pub entity: String,
    pub entity_id: Option<String>,
    pub area_id: Option<uuid::Uuid>,
    pub client_ip: Option<String>,
    /// What changed, e.g. `{"name": {"from": "A", "to": "B"}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn parse_optional_uuid(value: Option<String>) -> Result<Option<uuid::Uuid>, ApiError> {
    value
        .map(|v| uuid::Uuid::parse_str(&v).map_err(ApiError::internal))
        .transpose()
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = ApiError;

    fn try_from(row: AuditRow) -> Result<Self, ApiError> {
        Ok(AuditEntry {
            id: uuid::Uuid::parse_str(&row.id).map_err(ApiError::internal)?,
            occurred_at: row.occurred_at.and_utc(),
            actor_id: parse_optional_uuid(row.actor_id)?,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            area_id: parse_optional_uuid(row.area_id)?,
            client_ip: row.client_ip,
            changes: serde_json::from_str(&row.changes).map_err(ApiError::internal)?,
        })
    }
}

/// Read the audit log (administrators)
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of audit entries, newest first", body = AuditPage),
        (status = 403, description = "Only administrators read the audit log (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`area_id` is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.0;
    let page = PageParams {
        cursor: query.cursor.clone(),
        limit: query.limit,
    };
    let before = page.after()?;
    let limit = page.limit();
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            let area_pattern = match query.area_id {
                Some(area_id) => Some(format!(
                    "{}%",
                    find_in_scope(conn, &caller.scope, &area_id.to_string())?.path
                )),
                None if caller.scope.is_national() => None,
                None => Some(caller.scope.path_pattern()),
            };
            let mut select = audit_log::table
                .left_join(areas::table.on(areas::id.nullable().eq(audit_log::area_id)))
                .select(AuditRow::as_select())
                .order(audit_log::id.desc())
                .limit(limit + 1)
                .into_boxed();
            if let Some(pattern) = area_pattern {
                select = select.filter(areas::path.like(pattern));
            }
            if let Some(actor) = query.actor_id {
                select = select.filter(audit_log::actor_id.eq(actor.to_string()));
            }
            if let Some(action) = query.action {
                select = select.filter(audit_log::action.eq(action));
            }
            if let Some(entity) = query.entity {
                select = select.filter(audit_log::entity.eq(entity));
            }
            if let Some(entity_id) = query.entity_id {
                select = select.filter(audit_log::entity_id.eq(entity_id.to_string()));
            }
            if let Some(from) = query.from {
                select = select.filter(audit_log::occurred_at.ge(from.naive_utc()));
            }
            if let Some(to) = query.to {
                select = select.filter(audit_log::occurred_at.lt(to.naive_utc()));
            }
            if let Some(before) = before {
                select = select.filter(audit_log::id.lt(before));
            }
            let rows: Vec<AuditRow> = select.load(conn)?;
            Ok(pagination::finish(rows, limit, |r| &r.id))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(AuditEntry::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor }))
}
