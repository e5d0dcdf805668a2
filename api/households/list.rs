//! `GET /api/v1/households`: the households of the caller's scope, searchable without
//! diacritics, in a stable order (creation order), one page at a time. Reading a personal
//! list is recorded in the audit log.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Household, HouseholdResponse, RecordScope};
use crate::areas::find_in_scope;
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::filter_by_record_scope;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::households;
use crate::search::like_patterns;
use crate::state::AppState;
use crate::status::derive::Broadband;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HouseholdListQuery {
    /// Only households under this area (a neighbourhood or above).
    pub area_id: Option<uuid::Uuid>,
    /// Words to find in the address or the head's name; diacritics and case are ignored.
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    pub broadband: Option<Broadband>,
    /// Only households not visited since this date (or never).
    pub not_visited_since: Option<NaiveDate>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdList {
    pub items: Vec<HouseholdResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List households
#[utoipa::path(
    tag = "households",
    params(HouseholdListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of households", body = HouseholdList),
        (status = 403, description = "Officials do not see households (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`area_id` is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/households")]
pub async fn list_households(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    query: ApiQuery<HouseholdListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = PageParams {
        cursor: query.cursor.clone(),
        limit: query.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let (rows, next_cursor) = state
        .db
        .write(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let mut select = households::table
                .filter(households::deleted_at.is_null())
                .select(Household::as_select())
                .order(households::id.asc())
                .limit(limit + 1)
                .into_boxed();
            select = filter_by_record_scope!(select, &scope);
            if let Some(area_id) = query.area_id {
                let area = find_in_scope(conn, &caller.scope, &area_id.to_string())?;
                select = select.filter(households::area_path.like(format!("{}%", area.path)));
            }
            for pattern in like_patterns(query.q.as_deref().unwrap_or_default()) {
                select = select.filter(households::search_text.like(pattern).escape('\\'));
            }
            if let Some(broadband) = query.broadband {
                select = select.filter(households::broadband.eq(broadband.as_str()));
            }
            if let Some(since) = query.not_visited_since {
                select = select.filter(
                    households::last_visited_on
                        .is_null()
                        .or(households::last_visited_on.lt(since)),
                );
            }
            if let Some(after) = after.clone() {
                select = select.filter(households::id.gt(after));
            }
            let rows: Vec<Household> = select.load(conn)?;
            let (rows, next_cursor) = pagination::finish(rows, limit, |h| &h.id);
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::HouseholdListRead,
                    entity_id: None,
                    area_id: caller.scope.area_id.as_deref(),
                    // Whether a search was made, never its words: they may be a name.
                    changes: json!({"rows": rows.len(), "searched": query.q.is_some(), "area_id": query.area_id}),
                },
            )?;
            Ok((rows, next_cursor))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(HouseholdResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(HouseholdList { items, next_cursor }))
}
