//! Signed-off reporting periods ("chốt số liệu"). The head of a neighbourhood or the official
//! of an area signs off a month: the figures of the area (and of each area directly below
//! it) on the month's last day are frozen as they were read then, with who signed and when,
//! and kept forever. Figures served elsewhere keep moving as late events arrive; a sign-off
//! shows "reported vs now" and counts what arrived or changed since it was signed (never who
//! it was about). A sign-off can be reopened with a reason by its signer's level or the
//! level above; the reopened one stays as history and the month can be signed again.
//!
//! A month is due for sign-off `DUE_DAYS` days after it ends; the level above sees which of
//! its areas signed on time (`overview`).

pub mod handlers;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::adoption::children::{children_of, counts_of_children};
use crate::adoption::figures::{parts, percent};
use crate::adoption::{area_counts, Counts};
use crate::areas::Area;
use crate::audit::{self, Action, Actor, Entry};
use crate::auth::{Caller, Role};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::Text;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{households, residents, sign_offs, status_events, users};
use crate::targets::Indicator;

/// Days after a month's end by which it is to be signed off (the 5th of the next month).
pub const DUE_DAYS: u64 = 5;

/// A calendar month, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub first: NaiveDate,
}

impl Period {
    /// `YYYY-MM` (months 01–12, years 2000–2099), else a field error at `pointer`.
    pub fn parse(text: &str, pointer: &str) -> Result<Period, ApiError> {
        let invalid = || {
            ApiError::invalid_field(
                pointer,
                "period-invalid",
                Text::new(
                    "Kỳ báo cáo phải là một tháng dạng YYYY-MM, ví dụ 2026-11",
                    "The period must be a month written YYYY-MM, like 2026-11",
                ),
            )
        };
        let (year, month) = text.split_once('-').ok_or_else(invalid)?;
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || month.len() != 2 || !digits(year) || !digits(month) {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        if !(2000..=2099).contains(&year) {
            return Err(invalid());
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|first| Period { first })
            .ok_or_else(invalid)
    }

    /// The month that contains `day`.
    pub fn containing(day: NaiveDate) -> Period {
        Period {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    pub fn last(self) -> NaiveDate {
        self.next().first.pred_opt().unwrap_or(self.first)
    }

    pub fn next(self) -> Period {
        Period {
            first: self
                .first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(self.first),
        }
    }

    pub fn previous(self) -> Period {
        Period {
            first: self
                .first
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(self.first),
        }
    }

    pub fn due_on(self) -> NaiveDate {
        self.last()
            .checked_add_days(chrono::Days::new(DUE_DAYS))
            .unwrap_or(self.last())
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

/// One indicator of one area as reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportedIndicator {
    pub indicator: Indicator,
    pub count: i64,
    pub recorded_denominator: i64,
    pub official_denominator: Option<i64>,
    pub rate_recorded: Option<f64>,
    pub rate_official: Option<f64>,
}

/// The figures of one area on the period's last day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportedRow {
    pub area_id: uuid::Uuid,
    pub area_code: String,
    pub area_name: String,
    pub area_kind: String,
    pub indicators: Vec<ReportedIndicator>,
}

impl ReportedRow {
    fn of(area: &Area, counts: &Counts) -> Result<ReportedRow, ApiError> {
        Ok(ReportedRow {
            area_id: crate::areas::parse_uuid(&area.id)?,
            area_code: area.code.clone(),
            area_name: area.name.clone(),
            area_kind: area.kind.clone(),
            indicators: Indicator::ALL
                .iter()
                .map(|&indicator| {
                    let (count, recorded, official) = parts(indicator, counts, area);
                    ReportedIndicator {
                        indicator,
                        count,
                        recorded_denominator: recorded,
                        official_denominator: official,
                        rate_recorded: percent(count, recorded),
                        rate_official: official.and_then(|o| percent(count, o)),
                    }
                })
                .collect(),
        })
    }
}

/// The area itself, then each area directly below it, on `day`: what a sign-off freezes
/// and what "now" is compared with.
pub fn rows_on(
    conn: &mut DbConnection,
    area: &Area,
    day: NaiveDate,
) -> Result<Vec<ReportedRow>, ApiError> {
    let own = area_counts(conn, area, &[day])?[0];
    let children = children_of(conn, area)?;
    // All children in one statement, as the ranking reads them.
    let counts = counts_of_children(conn, area, &children, day)?;
    let mut rows = vec![ReportedRow::of(area, &own)?];
    for child in &children {
        let of = counts.get(&child.path).copied().unwrap_or_default();
        rows.push(ReportedRow::of(child, &of)?);
    }
    Ok(rows)
}

/// The same areas as `reported`, recounted on `day` today (an area that has since ended is
/// read from where its households were).
pub fn rows_now(
    conn: &mut DbConnection,
    reported: &[ReportedRow],
    day: NaiveDate,
) -> Result<Vec<ReportedRow>, ApiError> {
    use crate::schema::areas;
    reported
        .iter()
        .map(|row| {
            let area: Area = areas::table
                .find(row.area_id.to_string())
                .select(Area::as_select())
                .first(conn)?;
            let counts = area_counts(conn, &area, &[day])?;
            ReportedRow::of(&area, &counts[0])
        })
        .collect()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sign_offs)]
pub struct SignOffRow {
    pub id: String,
    pub area_id: String,
    pub area_path: String,
    pub period: String,
    pub period_end: NaiveDate,
    pub due_on: NaiveDate,
    pub figures: String,
    pub note: Option<String>,
    pub signed_by: String,
    pub signed_at: NaiveDateTime,
    pub signed_on: NaiveDate,
    pub reopened_by: Option<String>,
    pub reopened_at: Option<NaiveDateTime>,
    pub reopen_reason: Option<String>,
}

impl SignOffRow {
    pub fn reported(&self) -> Result<Vec<ReportedRow>, ApiError> {
        serde_json::from_str(&self.figures).map_err(ApiError::internal)
    }
}

/// Who may sign off `area`: its own head (a neighbourhood) or official (their own area).
/// An official above it reads it and may reopen it, but signs only their own level.
pub fn require_signer(caller: &Caller, area: &Area) -> Result<(), ApiError> {
    caller.require(&[Role::Official, Role::Head])?;
    if caller.scope.area_id.as_deref() == Some(area.id.as_str()) {
        Ok(())
    } else {
        Err(ProblemCode::SignOffNotYours.into())
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<SignOffRow, ApiError> {
    sign_offs::table
        .find(id)
        .select(SignOffRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ProblemCode::SignOffNotFound.into())
}

/// Signs off `period` for `area` on `today`: the month must have ended, the area must have
/// existed through it, and no standing sign-off may exist for it.
pub fn sign(
    conn: &mut DbConnection,
    area: &Area,
    period: Period,
    note: Option<&str>,
    actor: &Actor,
    signer_id: &str,
    today: NaiveDate,
) -> Result<SignOffRow, ApiError> {
    let end = period.last();
    if end >= today {
        return Err(ApiError::invalid_field(
            "/period",
            "period-not-ended",
            Text::owned(
                format!(
                    "Tháng {}/{} chưa kết thúc; chỉ chốt số liệu sau ngày {}",
                    period.first.month(),
                    period.first.year(),
                    end.format("%d/%m/%Y")
                ),
                format!("{period} has not ended; it can be signed off after {end}"),
            ),
        ));
    }
    if area.ended_on.is_some_and(|ended| end >= ended) {
        return Err(ApiError::invalid_field(
            "/period",
            "after-area-ended",
            Text::new(
                "Địa bàn đã kết thúc trước cuối kỳ này; hãy chốt ở địa bàn thay thế",
                "The area ended before the end of this period; sign off its successor",
            ),
        ));
    }
    let standing = sign_offs::table
        .filter(sign_offs::area_id.eq(&area.id))
        .filter(sign_offs::period.eq(period.to_string()))
        .filter(sign_offs::reopened_at.is_null())
        .select(sign_offs::id)
        .first::<String>(conn)
        .optional()?;
    if standing.is_some() {
        return Err(ProblemCode::SignOffExists.into());
    }
    let figures = rows_on(conn, area, end)?;
    let at = now();
    // The ward's day of the very instant recorded, even if the write waited or was retried.
    let today = crate::clock::clock().day_of(at.and_utc());
    let id = new_id();
    let row = SignOffRow {
        id: id.clone(),
        area_id: area.id.clone(),
        area_path: area.path.clone(),
        period: period.to_string(),
        period_end: end,
        due_on: period.due_on(),
        figures: serde_json::to_string(&figures).map_err(ApiError::internal)?,
        note: note.map(str::to_owned),
        signed_by: signer_id.to_owned(),
        signed_at: at,
        signed_on: today,
        reopened_by: None,
        reopened_at: None,
        reopen_reason: None,
    };
    diesel::insert_into(sign_offs::table)
        .values((
            sign_offs::id.eq(&row.id),
            sign_offs::area_id.eq(&row.area_id),
            sign_offs::area_path.eq(&row.area_path),
            sign_offs::period.eq(&row.period),
            sign_offs::period_end.eq(row.period_end),
            sign_offs::due_on.eq(row.due_on),
            sign_offs::figures.eq(&row.figures),
            sign_offs::note.eq(&row.note),
            sign_offs::signed_by.eq(&row.signed_by),
            sign_offs::signed_at.eq(row.signed_at),
            sign_offs::signed_on.eq(row.signed_on),
        ))
        .execute(conn)
        .map_err(|error| match error {
            // Two signers at once: the partial unique index keeps one standing sign-off.
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ProblemCode::SignOffExists.into(),
            other => ApiError::from(other),
        })?;
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::SignOffCreated,
            entity_id: Some(&id),
            area_id: Some(&area.id),
            changes: json!({"period": row.period, "on_time": today <= row.due_on}),
        },
    )?;
    Ok(row)
}

/// Reopens a standing sign-off with a reason; it stays as history.
pub fn reopen(
    conn: &mut DbConnection,
    row: SignOffRow,
    reason: &str,
    actor: &Actor,
    reopener_id: &str,
) -> Result<SignOffRow, ApiError> {
    if row.reopened_at.is_some() {
        return Err(ProblemCode::SignOffReopened.into());
    }
    let at = now();
    let changed = diesel::update(
        sign_offs::table
            .find(&row.id)
            .filter(sign_offs::reopened_at.is_null()),
    )
    .set((
        sign_offs::reopened_at.eq(at),
        sign_offs::reopened_by.eq(reopener_id),
        sign_offs::reopen_reason.eq(reason),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(ProblemCode::SignOffReopened.into());
    }
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::SignOffReopened,
            entity_id: Some(&row.id),
            area_id: Some(&row.area_id),
            changes: json!({"period": row.period, "changed": ["reopen_reason"]}),
        },
    )?;
    find(conn, &row.id)
}

/// Late events of one kind and value received since a sign-off, dated in or before its
/// period.
#[derive(Debug, Serialize, ToSchema)]
pub struct LateEvents {
    /// `eid`, `signature` or `broadband`.
    pub kind: String,
    /// The status recorded (`level1`, `level2`, `electronic`, `digital`, `yes`, …).
    pub value: String,
    pub count: i64,
}

/// What was recorded or changed in the area since the sign-off that bears on its period:
/// counted, never named.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesSince {
    /// Status events received after signing, dated on or before the period's last day.
    pub late_events: Vec<LateEvents>,
    /// Status events of the period voided after signing.
    pub voided_events: i64,
    /// People recorded after signing.
    pub residents_added: i64,
    /// People recorded before signing and changed after it (moved away, died, birth date
    /// or presence corrected, erased, deleted).
    pub residents_changed: i64,
    /// Households recorded after signing.
    pub households_added: i64,
    /// Households deleted after signing.
    pub households_deleted: i64,
}

/// Counts what changed under `area_path` after `signed_at` that can move the figures of a
/// period ending on `end`. Households are taken where they are now.
pub fn changes_since(
    conn: &mut DbConnection,
    area_path: &str,
    signed_at: NaiveDateTime,
    end: NaiveDate,
) -> Result<ChangesSince, ApiError> {
    let pattern = format!("{area_path}%");
    let late: Vec<(String, String)> = status_events::table
        .inner_join(households::table)
        .filter(households::area_path.like(&pattern))
        .filter(status_events::received_at.gt(signed_at))
        .filter(status_events::effective_on.le(end))
        .filter(status_events::voided_at.is_null())
        .select((status_events::kind, status_events::value))
        .load(conn)?;
    let mut grouped: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for key in late {
        *grouped.entry(key).or_default() += 1;
    }
    let voided_events: i64 = status_events::table
        .inner_join(households::table)
        .filter(households::area_path.like(&pattern))
        .filter(status_events::voided_at.gt(signed_at))
        .filter(status_events::effective_on.le(end))
        .count()
        .get_result(conn)?;
    let residents_added: i64 = residents::table
        .inner_join(households::table)
        .filter(households::area_path.like(&pattern))
        .filter(residents::created_at.gt(signed_at))
        .count()
        .get_result(conn)?;
    let residents_changed: i64 = residents::table
        .inner_join(households::table)
        .filter(households::area_path.like(&pattern))
        .filter(residents::created_at.le(signed_at))
        .filter(residents::updated_at.gt(signed_at))
        .count()
        .get_result(conn)?;
    let households_added: i64 = households::table
        .filter(households::area_path.like(&pattern))
        .filter(households::created_at.gt(signed_at))
        .count()
        .get_result(conn)?;
    let households_deleted: i64 = households::table
        .filter(households::area_path.like(&pattern))
        .filter(households::deleted_at.gt(signed_at))
        .count()
        .get_result(conn)?;
    Ok(ChangesSince {
        late_events: grouped
            .into_iter()
            .map(|((kind, value), count)| LateEvents { kind, value, count })
            .collect(),
        voided_events,
        residents_added,
        residents_changed,
        households_added,
        households_deleted,
    })
}

/// The display name of a user (staff who signed or reopened: not a data subject).
pub fn user_name(conn: &mut DbConnection, id: &str) -> Result<String, ApiError> {
    Ok(users::table
        .find(id)
        .select(users::name)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_default())
}
