//! `GET /api/v1/residents`: the people of the caller's scope with their statuses, filtered
//! as heads need ("adults without e-ID", "signature expiring within 60 days", "not visited
//! for 30 days"), searchable without diacritics, in a stable order. Reading it is audited.

use actix_web::{get, web, HttpResponse};
use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{enum_text, Presence, Resident, ResidentResponse};
use crate::areas::find_in_scope;
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::filter_by_record_scope;
use crate::households::RecordScope;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::{households, residents};
use crate::search::like_patterns;
use crate::state::AppState;
use crate::status::derive::{Broadband, EidLevel};
use crate::status::today;

/// Signature filter values: `expired` is a digital certificate past its expiry date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFilter {
    None,
    Electronic,
    Digital,
    Expired,
}

/// The order of the list: `created` (default, creation order) or `name` (by the name
/// without diacritics, then creation order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResidentSort {
    #[default]
    Created,
    Name,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResidentListQuery {
    /// Only residents of households under this area.
    pub area_id: Option<uuid::Uuid>,
    pub household_id: Option<uuid::Uuid>,
    /// Words to find in the name; diacritics and case are ignored.
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    pub eid_level: Option<EidLevel>,
    /// `true`: level 1 or 2; `false`: none or pending.
    pub has_eid: Option<bool>,
    pub signature: Option<SignatureFilter>,
    /// Digital certificates expiring between today and N days from now.
    #[validate(range(min = 0, max = 3650))]
    #[param(minimum = 0, maximum = 3650)]
    pub signature_expiring_within_days: Option<u64>,
    /// Only people who are adults (18+) on this date.
    pub adult_on: Option<NaiveDate>,
    pub presence: Option<Presence>,
    /// Only residents of households not visited since this date (or never).
    pub not_visited_since: Option<NaiveDate>,
    /// Only residents of households with this broadband status.
    pub broadband: Option<Broadband>,
    /// `created` (default) or `name`; a cursor belongs to the sort that made it.
    pub sort: Option<ResidentSort>,
    /// `next_cursor` of the previous page (of the same `sort`).
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentList {
    pub items: Vec<ResidentResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List residents
#[utoipa::path(
    tag = "residents",
    params(ResidentListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of residents", body = ResidentList),
        (status = 403, description = "Officials do not see residents (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`area_id` is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents")]
pub async fn list_residents(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    query: ApiQuery<ResidentListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = PageParams {
        cursor: query.cursor.clone(),
        limit: query.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let today = today();
    let (rows, next_cursor) = state
        .db
        .write(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let mut select = residents::table
                .inner_join(households::table)
                .filter(residents::deleted_at.is_null())
                .filter(households::deleted_at.is_null())
                .select((Resident::as_select(), residents::search_text))
                .limit(limit + 1)
                .into_boxed();
            let sort = query.sort.unwrap_or_default();
            select = match sort {
                ResidentSort::Created => select.order(residents::id.asc()),
                ResidentSort::Name => select.order((residents::search_text.asc(), residents::id.asc())),
            };
            select = filter_by_record_scope!(select, &scope);
            if let Some(area_id) = query.area_id {
                let area = find_in_scope(conn, &caller.scope, &area_id.to_string())?;
                select = select.filter(households::area_path.like(format!("{}%", area.path)));
            }
            if let Some(household_id) = query.household_id {
                select = select.filter(residents::household_id.eq(household_id.to_string()));
            }
            for pattern in like_patterns(query.q.as_deref().unwrap_or_default()) {
                select = select.filter(residents::search_text.like(pattern).escape('\\'));
            }
            if let Some(level) = query.eid_level {
                select = select.filter(residents::eid_level.eq(level.as_str()));
            }
            if let Some(has) = query.has_eid {
                let counting = [EidLevel::Level1.as_str(), EidLevel::Level2.as_str()];
                select = if has {
                    select.filter(residents::eid_level.eq_any(counting))
                } else {
                    select.filter(residents::eid_level.ne_all(counting))
                };
            }
            match query.signature {
                Some(SignatureFilter::None) => {
                    select = select.filter(residents::signature.eq("none"));
                }
                Some(SignatureFilter::Electronic) => {
                    select = select.filter(residents::signature.eq("electronic"));
                }
                Some(SignatureFilter::Digital) => {
                    select = select
                        .filter(residents::signature.eq("digital"))
                        .filter(residents::signature_expires_on.ge(today));
                }
                Some(SignatureFilter::Expired) => {
                    select = select
                        .filter(residents::signature.eq("digital"))
                        .filter(residents::signature_expires_on.lt(today));
                }
                None => {}
            }
            if let Some(days) = query.signature_expiring_within_days {
                let until = today.checked_add_days(Days::new(days)).unwrap_or(today);
                select = select
                    .filter(residents::signature.eq("digital"))
                    .filter(residents::signature_expires_on.ge(today))
                    .filter(residents::signature_expires_on.le(until));
            }
            if let Some(day) = query.adult_on {
                select = select.filter(residents::adult_on.le(day));
            }
            if let Some(presence) = query.presence {
                select = select.filter(residents::presence.eq(enum_text(&presence)));
            }
            if let Some(since) = query.not_visited_since {
                select = select.filter(
                    households::last_visited_on
                        .is_null()
                        .or(households::last_visited_on.lt(since)),
                );
            }
            if let Some(broadband) = query.broadband {
                select = select.filter(households::broadband.eq(broadband.as_str()));
            }
            // A name-sorted key is "folded name NUL id"; a created-order key is an id. A key
            // of the other sort (or made up) is refused before it reaches the database,
            // which would reject a NUL in text.
            let valid_id = |id: &str| uuid::Uuid::parse_str(id).is_ok();
            match (sort, after.clone()) {
                (_, None) => {}
                (ResidentSort::Created, Some(after)) => {
                    if !valid_id(&after) {
                        return Err(pagination::invalid_cursor());
                    }
                    select = select.filter(residents::id.gt(after));
                }
                (ResidentSort::Name, Some(after)) => {
                    let (name, id) = after
                        .split_once('\0')
                        .filter(|(name, id)| !name.contains('\0') && valid_id(id))
                        .ok_or_else(pagination::invalid_cursor)?;
                    select = select.filter(
                        residents::search_text.gt(name.to_owned()).or(residents::search_text
                            .eq(name.to_owned())
                            .and(residents::id.gt(id.to_owned()))),
                    );
                }
            }
            let keyed: Vec<(Resident, String)> = select
                .load::<(Resident, String)>(conn)?
                .into_iter()
                .map(|(r, name)| {
                    let key = match sort {
                        ResidentSort::Created => r.id.clone(),
                        ResidentSort::Name => format!("{name}\0{}", r.id),
                    };
                    (r, key)
                })
                .collect();
            let (keyed, next_cursor) = pagination::finish(keyed, limit, |(_, key)| key);
            let rows: Vec<Resident> = keyed.into_iter().map(|(r, _)| r).collect();
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::ResidentListRead,
                    entity_id: None,
                    area_id: caller.scope.area_id.as_deref(),
                    changes: json!({"rows": rows.len(), "filtered": query.q.is_some() || query.area_id.is_some()}),
                },
            )?;
            Ok((rows, next_cursor))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(ResidentResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ResidentList { items, next_cursor }))
}
