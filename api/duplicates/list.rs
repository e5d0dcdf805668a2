//! `GET /api/v1/duplicates`: open suspected duplicates in the caller's scope.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::areas::parse_uuid;
use crate::auth::{Caller, Role};
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::residents::{Resident, ResidentResponse};
use crate::schema::{duplicate_pairs, households, residents};
use crate::state::AppState;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = duplicate_pairs)]
pub struct DuplicatePair {
    pub id: String,
    pub resident_a: String,
    pub resident_b: String,
    pub area_path: String,
    pub reason: String,
    pub status: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateResponse {
    pub id: uuid::Uuid,
    /// `citizen_id` (same citizen ID in the ward) or `name_and_birth_date` (in the neighbourhood).
    pub reason: String,
    /// `open`, `merged` or `dismissed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// The two records.
    pub residents: Vec<ResidentResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateList {
    pub items: Vec<DuplicateResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page. A page may hold fewer
    /// than `limit` pairs (even none) and still have a next one: only pairs whose two
    /// records are both in the caller's scope are shown.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DuplicateListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

pub fn duplicate_response(
    conn: &mut crate::db::DbConnection,
    pair: DuplicatePair,
) -> Result<DuplicateResponse, ApiError> {
    let pair_residents: Vec<Resident> = residents::table
        .filter(residents::id.eq_any([&pair.resident_a, &pair.resident_b]))
        .order(residents::id.asc())
        .select(Resident::as_select())
        .load(conn)?;
    Ok(DuplicateResponse {
        id: parse_uuid(&pair.id)?,
        reason: pair.reason,
        status: pair.status,
        created_at: pair.created_at.and_utc(),
        residents: pair_residents
            .into_iter()
            .map(ResidentResponse::try_from)
            .collect::<Result<_, _>>()?,
    })
}

/// List suspected duplicates (heads and administrators)
#[utoipa::path(
    tag = "duplicates",
    params(DuplicateListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Open pairs, oldest first", body = DuplicateList),
        (status = 403, description = "Only heads and administrators resolve duplicates (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/duplicates")]
pub async fn list_duplicates(
    state: web::Data<AppState>,
    caller: Caller,
    client: crate::auth::sessions::ClientInfo,
    query: ApiQuery<DuplicateListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Head, Role::Admin])?;
    let page = PageParams {
        cursor: query.0.cursor,
        limit: query.0.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let reader = caller.clone();
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            conn.transaction(|conn| {
                // One snapshot: a resident moved out of scope between the check below and
                // the records read after it is not shown.
                if matches!(conn, crate::db::DbConnection::Postgresql(_)) {
                    diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        .execute(conn)?;
                }
                let caller = &reader;
                let mut select = duplicate_pairs::table
                    .filter(duplicate_pairs::status.eq("open"))
                    .filter(duplicate_pairs::area_path.like(caller.scope.path_pattern()))
                    .order(duplicate_pairs::id.asc())
                    .limit(limit + 1)
                    .select(DuplicatePair::as_select())
                    .into_boxed();
                if let Some(after) = after.clone() {
                    select = select.filter(duplicate_pairs::id.gt(after));
                }
                let rows: Vec<DuplicatePair> = select.load(conn)?;
                let (rows, next_cursor) = pagination::finish(rows, limit, |p| &p.id);
                // Only pairs whose two records are both in scope (`residents_in_scope`); a page
                // may hold fewer than `limit` items, the cursor goes on after the last one read.
                let ids: Vec<&str> = rows
                    .iter()
                    .flat_map(|p| [p.resident_a.as_str(), p.resident_b.as_str()])
                    .collect();
                let visible: std::collections::HashSet<String> = residents::table
                    .inner_join(households::table)
                    .filter(residents::id.eq_any(&ids))
                    .filter(households::area_path.like(caller.scope.path_pattern()))
                    .select(residents::id)
                    .load::<String>(conn)?
                    .into_iter()
                    .collect();
                let items = rows
                    .into_iter()
                    .filter(|p| visible.contains(&p.resident_a) && visible.contains(&p.resident_b))
                    .map(|pair| duplicate_response(conn, pair))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((items, next_cursor))
            })
        })
        .await?;
    // Each pair shows two people's full records: on the record, in a short write of its own
    // (the listing itself does not hold the single writer).
    let pairs = items.len();
    state
        .db
        .write(move |conn| {
            crate::audit::record(
                conn,
                &caller.actor(&client),
                crate::audit::Entry {
                    action: crate::audit::Action::DuplicateListRead,
                    entity_id: None,
                    area_id: caller.scope.area_id.as_deref(),
                    changes: serde_json::json!({"pairs": pairs}),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(DuplicateList { items, next_cursor }))
}
