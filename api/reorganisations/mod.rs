//! Reorganisations of the map: merge, split, rename, move and dissolve areas as dated
//! events (since 1 July 2025 provinces sit directly above wards and communes, and wards and
//! neighbourhoods are merged and renamed). An administrator submits one (API or CLI, from
//! the province's list), with a dry run first; one effective on or before today is applied
//! at once, a later one is scheduled and may be cancelled until its day comes; the
//! scheduler applies it then (`apply_due`). Everything is audited.
//!
//! How figures continue across a change is in `apply` (households carry their history to
//! their new area; an area that ended is counted from where households were while it
//! existed) and in `adoption::located`.

pub mod apply;
pub mod handlers;
pub mod plan;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::areas::parse_uuid;
use crate::audit::{self, Action, Actor, Entry};
use crate::auth::Scope;
use crate::db::{new_id, now, Db, DbConnection};
use crate::i18n::Lang;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{areas, reorganisations};
use apply::StepOutcome;
use plan::ReorganisationPlan;

pub(crate) fn reorganisations_table() -> reorganisations::table {
    reorganisations::table
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReorganisationStatus {
    /// Waiting for its effective day; may still be cancelled.
    Scheduled,
    /// In effect: the map is the new one.
    Applied,
    /// Cancelled before it took effect.
    Cancelled,
    /// Its day came but it could no longer be applied as written (see `failure`).
    Failed,
}

impl ReorganisationStatus {
    fn parse(value: &str) -> Option<ReorganisationStatus> {
        match value {
            "scheduled" => Some(ReorganisationStatus::Scheduled),
            "applied" => Some(ReorganisationStatus::Applied),
            "cancelled" => Some(ReorganisationStatus::Cancelled),
            "failed" => Some(ReorganisationStatus::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reorganisations)]
pub struct ReorganisationRow {
    pub id: String,
    pub effective_on: NaiveDate,
    pub status: String,
    pub title: String,
    pub area_path: String,
    pub plan: String,
    pub summary: Option<String>,
    pub failure: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub applied_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancel_reason: Option<String>,
    pub version: i32,
}

/// What one step does, in the reader's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepReport {
    pub step: usize,
    /// `merge`, `split`, `rename`, `move` or `dissolve`.
    pub kind: String,
    pub description: String,
    pub areas_formed: Vec<String>,
    pub areas_ended: Vec<String>,
    pub areas_moved: i64,
    pub households_moved: i64,
    pub residents_moved: i64,
    pub users_rescoped: i64,
    pub assignments_moved: i64,
    pub targets_copied: i64,
    pub warnings: Vec<String>,
}

impl StepReport {
    pub fn of(outcome: StepOutcome, lang: Lang) -> StepReport {
        StepReport {
            step: outcome.step,
            kind: outcome.kind,
            description: match lang {
                Lang::Vi => outcome.description_vi,
                Lang::En => outcome.description_en,
            },
            areas_formed: outcome.areas_formed,
            areas_ended: outcome.areas_ended,
            areas_moved: outcome.areas_moved,
            households_moved: outcome.households_moved,
            residents_moved: outcome.residents_moved,
            users_rescoped: outcome.users_rescoped,
            assignments_moved: outcome.assignments_moved,
            targets_copied: outcome.targets_copied,
            warnings: outcome.warnings,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReorganisationResponse {
    pub id: uuid::Uuid,
    pub title: String,
    pub effective_on: NaiveDate,
    pub status: ReorganisationStatus,
    /// The plan as submitted.
    pub plan: ReorganisationPlan,
    /// What it did (applied) or will do as far as can be told today (scheduled: the dry
    /// run when it was submitted).
    pub steps: Vec<StepReport>,
    /// Why it could not be applied on its day.
    pub failure: Option<String>,
    pub created_by: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    pub applied_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub version: i32,
}

impl ReorganisationResponse {
    pub fn of(row: ReorganisationRow, lang: Lang) -> Result<ReorganisationResponse, ApiError> {
        let outcomes: Vec<StepOutcome> = match &row.summary {
            Some(summary) => serde_json::from_str(summary).map_err(ApiError::internal)?,
            None => Vec::new(),
        };
        Ok(ReorganisationResponse {
            id: parse_uuid(&row.id)?,
            title: row.title,
            effective_on: row.effective_on,
            status: ReorganisationStatus::parse(&row.status)
                .ok_or_else(|| ApiError::internal("unknown reorganisation status"))?,
            plan: serde_json::from_str(&row.plan).map_err(ApiError::internal)?,
            steps: outcomes
                .into_iter()
                .map(|o| StepReport::of(o, lang))
                .collect(),
            failure: row.failure,
            created_by: parse_uuid(&row.created_by)?,
            created_at: row.created_at.and_utc(),
            applied_at: row.applied_at.map(|at| at.and_utc()),
            cancelled_at: row.cancelled_at.map(|at| at.and_utc()),
            cancel_reason: row.cancel_reason,
            version: row.version,
        })
    }
}

/// The nearest area path above every area the plan names (what decides who may see it).
fn common_path(conn: &mut DbConnection, plan: &ReorganisationPlan) -> Result<String, ApiError> {
    let codes: Vec<&str> = plan.steps.iter().flat_map(|s| s.named_codes()).collect();
    let paths: Vec<String> = areas::table
        .filter(areas::code.eq_any(&codes))
        .select(areas::path)
        .load(conn)?;
    let mut common: Option<Vec<&str>> = None;
    for path in &paths {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        common = Some(match common {
            None => segments,
            Some(so_far) => so_far
                .into_iter()
                .zip(segments)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let segments = common.unwrap_or_default();
    Ok(if segments.is_empty() {
        "/".to_owned()
    } else {
        format!("/{}/", segments.join("/"))
    })
}

/// What a submission did.
pub enum Submitted {
    /// The dry run: what applying it now would do; nothing was kept.
    Preview(Vec<StepOutcome>),
    Stored(Box<ReorganisationRow>),
}

/// Checks a plan by applying it in a savepoint that is rolled back: the outcome of each
/// step, or the plan's problems.
pub fn dry_run(
    conn: &mut DbConnection,
    plan: &ReorganisationPlan,
    scope: &Scope,
) -> Result<Vec<StepOutcome>, ApiError> {
    let mut preview = None;
    let result = conn.transaction::<(), ApiError, _>(|conn| {
        // A row for the records of the changes to point at; rolled back with them.
        let id = new_id();
        diesel::insert_into(reorganisations::table)
            .values((
                reorganisations::id.eq(&id),
                reorganisations::effective_on.eq(plan.effective_on),
                reorganisations::status.eq("dry_run"),
                reorganisations::title.eq(&plan.title),
                reorganisations::area_path.eq("/"),
                reorganisations::plan.eq("{}"),
                reorganisations::created_by.eq("00000000-0000-0000-0000-000000000000"),
                reorganisations::created_at.eq(now()),
                reorganisations::version.eq(1),
            ))
            .execute(conn)?;
        preview = Some(apply::apply(conn, &id, plan, scope)?);
        // Any error rolls the savepoint back; this one is not logged as a fault.
        Err(ProblemCode::PreconditionFailed.into())
    });
    match (result, preview) {
        (Err(_), Some(preview)) => Ok(preview),
        (Err(error), None) => Err(error),
        (Ok(()), _) => Err(ApiError::internal("a dry run committed")),
    }
}

/// Submits a plan: checked by a dry run, then applied now (effective on or before
/// `today`) or stored as scheduled. Runs in the caller's transaction.
pub fn submit(
    conn: &mut DbConnection,
    plan: &ReorganisationPlan,
    scope: &Scope,
    actor: &Actor,
    today: NaiveDate,
    check_only: bool,
) -> Result<Submitted, ApiError> {
    let preview = dry_run(conn, plan, scope)?;
    if check_only {
        return Ok(Submitted::Preview(preview));
    }
    let id = new_id();
    let at = now();
    diesel::insert_into(reorganisations::table)
        .values((
            reorganisations::id.eq(&id),
            reorganisations::effective_on.eq(plan.effective_on),
            reorganisations::status.eq("scheduled"),
            reorganisations::title.eq(plan.title.trim()),
            reorganisations::area_path.eq(common_path(conn, plan)?),
            reorganisations::plan.eq(serde_json::to_string(plan).map_err(ApiError::internal)?),
            reorganisations::summary
                .eq(serde_json::to_string(&preview).map_err(ApiError::internal)?),
            reorganisations::created_by.eq(actor
                .user_id
                .clone()
                .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".to_owned())),
            reorganisations::created_at.eq(at),
            reorganisations::version.eq(1),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::ReorganisationCreated,
            entity_id: Some(&id),
            area_id: None,
            changes: json!({
                "effective_on": plan.effective_on,
                "steps": plan.steps.len(),
            }),
        },
    )?;
    if plan.effective_on <= today {
        apply_stored(conn, &id, scope, actor)?;
    }
    Ok(Submitted::Stored(Box::new(find(conn, &id)?)))
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<ReorganisationRow, ApiError> {
    reorganisations::table
        .find(id)
        .select(ReorganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ProblemCode::ReorganisationNotFound.into())
}

/// Applies a stored, scheduled reorganisation.
fn apply_stored(
    conn: &mut DbConnection,
    id: &str,
    scope: &Scope,
    actor: &Actor,
) -> Result<(), ApiError> {
    let row = find(conn, id)?;
    let plan: ReorganisationPlan = serde_json::from_str(&row.plan).map_err(ApiError::internal)?;
    let outcomes = apply::apply(conn, id, &plan, scope)?;
    let households: i64 = outcomes.iter().map(|o| o.households_moved).sum();
    diesel::update(reorganisations::table.find(id))
        .set((
            reorganisations::status.eq("applied"),
            reorganisations::summary
                .eq(serde_json::to_string(&outcomes).map_err(ApiError::internal)?),
            reorganisations::applied_at.eq(Some(now())),
            reorganisations::version.eq(row.version + 1),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::ReorganisationApplied,
            entity_id: Some(id),
            area_id: None,
            changes: json!({
                "effective_on": row.effective_on,
                "households_moved": households,
                "areas_formed": outcomes.iter().map(|o| o.areas_formed.len()).sum::<usize>(),
                "areas_ended": outcomes.iter().map(|o| o.areas_ended.len()).sum::<usize>(),
            }),
        },
    )?;
    Ok(())
}

/// Cancels a scheduled reorganisation (nothing of it was applied).
pub fn cancel(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    actor: &Actor,
) -> Result<ReorganisationRow, ApiError> {
    let row = find(conn, id)?;
    let cancelled = diesel::update(
        reorganisations::table
            .filter(reorganisations::id.eq(id))
            .filter(reorganisations::status.eq("scheduled")),
    )
    .set((
        reorganisations::status.eq("cancelled"),
        reorganisations::cancelled_at.eq(Some(now())),
        reorganisations::cancelled_by.eq(actor.user_id.clone()),
        reorganisations::cancel_reason.eq(Some(reason.trim())),
        reorganisations::version.eq(row.version + 1),
    ))
    .execute(conn)?;
    if cancelled != 1 {
        return Err(ProblemCode::ReorganisationNotScheduled.into());
    }
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::ReorganisationCancelled,
            entity_id: Some(id),
            area_id: None,
            changes: json!({ "effective_on": row.effective_on }),
        },
    )?;
    find(conn, id)
}

/// Applies every scheduled reorganisation whose day has come, oldest day first. One that
/// can no longer be applied as written (the map changed meanwhile) is marked `failed` with
/// the reason, and the others still run. Returns how many were applied.
pub fn apply_due(conn: &mut DbConnection, today: NaiveDate) -> Result<usize, ApiError> {
    let due: Vec<String> = reorganisations::table
        .filter(reorganisations::status.eq("scheduled"))
        .filter(reorganisations::effective_on.le(today))
        .order((
            reorganisations::effective_on.asc(),
            reorganisations::created_at.asc(),
        ))
        .select(reorganisations::id)
        .load(conn)?;
    let actor = Actor::new(None, Some("scheduler"));
    let mut applied = 0;
    for id in due {
        let attempt = conn.transaction::<(), ApiError, _>(|conn| {
            apply_stored(conn, &id, &Scope::national(), &actor)
        });
        match attempt {
            Ok(()) => applied += 1,
            Err(error) if error.is_transient() => return Err(error),
            Err(error) => {
                let reason = failure_text(&error);
                tracing::warn!(reorganisation = %id, %reason, "a scheduled reorganisation could not be applied");
                diesel::update(reorganisations::table.find(&id))
                    .set((
                        reorganisations::status.eq("failed"),
                        reorganisations::failure.eq(Some(reason)),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(applied)
}

/// A plan problem in English words, for the record of a failed reorganisation.
fn failure_text(error: &ApiError) -> String {
    let mut text = error
        .detail
        .as_ref()
        .map_or_else(|| error.code.title().en.to_string(), |d| d.en.to_string());
    for field in &error.errors {
        text.push_str(&format!("; {}: {}", field.pointer, field.detail.en));
    }
    text
}

/// How often the scheduler looks for a reorganisation whose day has come.
const EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Applies due reorganisations in the background until the process ends (and once at
/// start, so a server that was down at midnight catches up).
pub fn spawn_scheduler(db: Db) {
    actix_web::rt::spawn(async move {
        loop {
            let today = crate::status::today();
            let waiting = db.read(move |conn| {
                let first: Option<String> = reorganisations::table
                    .filter(reorganisations::status.eq("scheduled"))
                    .filter(reorganisations::effective_on.le(today))
                    .select(reorganisations::id)
                    .first(conn)
                    .optional()?;
                Ok(first.is_some())
            });
            if matches!(waiting.await, Ok(true)) {
                if let Err(error) = db.write(move |conn| apply_due(conn, today)).await {
                    tracing::warn!(?error, "applying due reorganisations failed; will retry");
                }
            }
            actix_web::rt::time::sleep(EVERY).await;
        }
    });
}
