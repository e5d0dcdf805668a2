//! `GET /api/v1/areas/{id}/adoption/children`: the figures of each area directly below, for
//! ranking which neighbourhoods (or wards, or districts) lag.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::conditional::{respond, Conditional, HeldTags};
use super::counters::{counts_of_many, figures_tag};
use super::figures::{
    check_day, day_in_life, figures_from, pace_start, passed_deadlines, AdoptionFigures,
};
use crate::areas::{find_in_scope, parse_uuid, Area};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::problem::{ApiError, ApiQuery};
use crate::schema::areas;
use crate::state::AppState;
use crate::targets::{targets_in_force_of_many, Indicator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    Name,
    EidRate,
    SignatureRate,
    BroadbandRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChildrenQuery {
    /// The day (default: today); not in the future.
    pub as_of: Option<NaiveDate>,
    /// `name` (default), or a rate (against the official figure where one exists, else the
    /// recorded adults or households) to rank by.
    pub sort: Option<RankBy>,
    /// `asc` (default for `name`) or `desc` (default for rates: best first).
    pub order: Option<Order>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildrenFigures {
    pub area_id: uuid::Uuid,
    pub as_of: NaiveDate,
    pub children: Vec<AdoptionFigures>,
}

/// The rate a target is judged on: of the official figure where there is one.
pub fn judged_rate(figures: &AdoptionFigures, indicator: Indicator) -> Option<f64> {
    figures
        .indicators
        .iter()
        .find(|i| i.indicator == indicator)
        .and_then(|i| i.rate_official.or(i.rate_recorded))
}

/// The areas directly below `area` whose figures add up to its own: for a live area, its
/// live children (an area that ended under it has handed its households on); for an area
/// that ended, the children it had when it ended.
pub fn children_of(conn: &mut DbConnection, area: &Area) -> Result<Vec<Area>, ApiError> {
    let mut select = areas::table
        .filter(areas::parent_id.eq(&area.id))
        .order(areas::code)
        .select(Area::as_select())
        .into_boxed();
    if !area.is_ended() {
        select = select.filter(areas::ended_on.is_null());
    }
    Ok(select.load(conn)?)
}

/// The counts on `day` of each of `children` of `area`: one statement over the counters
/// for a live area, from where households were for one that ended.
pub fn counts_of_children(
    conn: &mut DbConnection,
    area: &Area,
    children: &[Area],
    day: NaiveDate,
) -> Result<BTreeMap<String, super::Counts>, ApiError> {
    if !area.is_ended() {
        let paths: Vec<String> = children.iter().map(|child| child.path.clone()).collect();
        return counts_of_many(conn, &area.path, &paths, day);
    }
    children
        .iter()
        .map(|child| {
            let counts = super::area_counts(conn, child, &[day])?;
            Ok((child.path.clone(), counts[0]))
        })
        .collect()
}

/// The figures of every child area, ranked: the counts of all children in one statement per
/// day (the day and the start of the pace window) and their targets in one more, however
/// many children there are.
pub fn ranked_children(
    conn: &mut DbConnection,
    area: &Area,
    day: NaiveDate,
    pace_days: u32,
    sort: RankBy,
    order: Option<Order>,
) -> Result<Vec<AdoptionFigures>, ApiError> {
    let areas = children_of(conn, area)?;
    let now = counts_of_children(conn, area, &areas, day)?;
    let then = counts_of_children(conn, area, &areas, pace_start(day, pace_days))?;
    let targets = targets_in_force_of_many(conn, &areas)?;
    let mut on_deadlines: BTreeMap<NaiveDate, BTreeMap<String, super::Counts>> = BTreeMap::new();
    for deadline in passed_deadlines(targets.iter().flatten(), day) {
        on_deadlines.insert(deadline, counts_of_children(conn, area, &areas, deadline)?);
    }
    let mut children = areas
        .iter()
        .zip(&targets)
        .map(|(child, targets)| {
            let zero = super::Counts::default();
            let own_deadlines = on_deadlines
                .iter()
                .map(|(deadline, of)| (*deadline, *of.get(&child.path).unwrap_or(&zero)))
                .collect();
            figures_from(
                child,
                day,
                pace_days,
                now.get(&child.path).unwrap_or(&zero),
                then.get(&child.path).unwrap_or(&zero),
                targets,
                &own_deadlines,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indicator = match sort {
        RankBy::Name => None,
        RankBy::EidRate => Some(Indicator::Eid),
        RankBy::SignatureRate => Some(Indicator::Signature),
        RankBy::BroadbandRate => Some(Indicator::Broadband),
    };
    let order = order.unwrap_or(if indicator.is_some() {
        Order::Desc
    } else {
        Order::Asc
    });
    match indicator {
        None => children.sort_by(|a, b| a.area_name.cmp(&b.area_name)),
        Some(indicator) => children.sort_by(|a, b| {
            // Areas without a rate (nobody recorded) rank last either way.
            let key = |f: &AdoptionFigures| judged_rate(f, indicator);
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Greater,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then_with(|| b.area_name.cmp(&a.area_name))
        }),
    }
    if order == Order::Desc {
        children.reverse();
    }
    Ok(children)
}

/// Adoption figures of each area directly below an area
#[utoipa::path(
    tag = "adoption",
    params(("id" = uuid::Uuid, Path, description = "Area id"), ChildrenQuery,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a ranking already held")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per child area, ranked", body = ChildrenFigures,
            headers(("ETag" = String, description = "Changes whenever the ranking can change; send it as `If-None-Match`"))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag",
            headers(("ETag" = String))),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/adoption/children")]
pub async fn get_children(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<ChildrenQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let day = check_day(query.as_of, "/as_of")?;
    let pace_days = state.settings.adoption.pace_days;
    let id = id.into_inner().to_string();
    let held = HeldTags::of(&req);
    let sort = query.sort.unwrap_or(RankBy::Name);
    let outcome = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let day = day_in_life(&area, query.as_of, day, "/as_of")?;
            let extra = format!("c|{day}|{pace_days}|{sort:?}|{:?}", query.order);
            let tag = figures_tag(conn, &area, &extra)?;
            if held.hold(&tag) {
                return Ok(Conditional::Unchanged(tag));
            }
            let children = ranked_children(conn, &area, day, pace_days, sort, query.order)?;
            Ok(Conditional::Changed(
                tag,
                ChildrenFigures {
                    area_id: parse_uuid(&area.id)?,
                    as_of: day,
                    children,
                },
            ))
        })
        .await?;
    Ok(respond(outcome))
}
