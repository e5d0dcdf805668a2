//! Incremental adoption counters: what makes a ward or province figure a roll-up instead of
//! a scan of residents, while staying exact for any day.
//!
//! Every resident and household has *spans*: the half-open ranges of days on which it counts
//! towards a measure (an adult in the population; an adult with e-ID; with a signature; a
//! household; a household on fibre). Spans come from the same rules as the recount
//! (`status::derive`), evaluated at the days where their answer can change (event dates,
//! certificate issue and expiry, the 18th birthday, the move-away date), so a late event, an
//! expiry or a birthday is already in them. Each change to a subject replaces its spans in
//! the same transaction and turns the difference into *deltas* per neighbourhood and day
//! (+1 where a span starts, -1 where it ends). The count on D is the sum of the deltas up to
//! D, read from year, month and day buckets so a figure sums at most a few hundred rows per
//! neighbourhood and measure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::Counts;
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{adoption_deltas, adoption_spans, households, residents, status_events};
use crate::status::derive::{broadband_on, eid_level_on, has_signature_on, Broadband, Event};
use crate::status::{live_events, StatusEventRow};

/// The first day figures exist for: spans that would start earlier (a household, an adult
/// born in 1900) start here.
pub const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(day) => day,
    None => panic!("1900-01-01 is a date"),
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    Adults,
    Eid,
    Signature,
    Households,
    Fibre,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::Adults,
        Measure::Eid,
        Measure::Signature,
        Measure::Households,
        Measure::Fibre,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Adults => "adults",
            Measure::Eid => "eid",
            Measure::Signature => "signature",
            Measure::Households => "households",
            Measure::Fibre => "fibre",
        }
    }

    pub fn parse(value: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == value)
    }
}

impl Counts {
    fn add(&mut self, measure: Measure, amount: i64) {
        let slot = match measure {
            Measure::Adults => &mut self.adults,
            Measure::Eid => &mut self.adults_with_eid,
            Measure::Signature => &mut self.adults_with_signature,
            Measure::Households => &mut self.households,
            Measure::Fibre => &mut self.households_with_fibre,
        };
        *slot += amount;
    }
}

/// Days `[starts_on, ends_on)` on which a subject counts towards a measure.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub measure: Measure,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// The ranges within `[from, until)` where `holds` is true, given every day where its
/// answer may change.
fn ranges_where(
    from: NaiveDate,
    until: Option<NaiveDate>,
    changes: impl IntoIterator<Item = NaiveDate>,
    holds: impl Fn(NaiveDate) -> bool,
) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    if until.is_some_and(|until| until <= from) {
        return Vec::new();
    }
    let points: BTreeSet<NaiveDate> = std::iter::once(from)
        .chain(
            changes
                .into_iter()
                .filter(|day| *day > from && until.is_none_or(|until| *day < until)),
        )
        .collect();
    let mut ranges = Vec::new();
    let mut open = None;
    for day in points {
        match (holds(day), open) {
            (true, None) => open = Some(day),
            (false, Some(start)) => {
                ranges.push((start, Some(day)));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        ranges.push((start, until));
    }
    ranges
}

fn spans_of(measure: Measure, ranges: Vec<(NaiveDate, Option<NaiveDate>)>) -> Vec<Span> {
    ranges
        .into_iter()
        .map(|(starts_on, ends_on)| Span {
            measure,
            starts_on,
            ends_on,
        })
        .collect()
}

/// What a resident (not deleted, in a household that is not deleted) counts towards.
pub fn resident_spans(
    adult_on: NaiveDate,
    present: bool,
    gone_since: Option<NaiveDate>,
    events: &[Event],
) -> Vec<Span> {
    // In the population until the day they moved away or died; someone recorded as gone
    // without a date never counts.
    let until = match (present, gone_since) {
        (true, _) => None,
        (false, Some(since)) => Some(since),
        (false, None) => return Vec::new(),
    };
    let from = adult_on.max(EPOCH);
    let mut spans = spans_of(Measure::Adults, ranges_where(from, until, [], |_| true));
    if spans.is_empty() {
        return spans;
    }
    let event_days = events.iter().map(|e| e.effective_on);
    spans.extend(spans_of(
        Measure::Eid,
        ranges_where(from, until, event_days.clone(), |day| {
            eid_level_on(events, day).counts()
        }),
    ));
    let certificate_days = events.iter().flat_map(|e| {
        [e.issued_on, e.expires_on.and_then(|d| d.succ_opt())]
            .into_iter()
            .flatten()
    });
    spans.extend(spans_of(
        Measure::Signature,
        ranges_where(from, until, event_days.chain(certificate_days), |day| {
            has_signature_on(events, day)
        }),
    ));
    spans
}

/// What a household (not deleted) counts towards.
pub fn household_spans(events: &[Event]) -> Vec<Span> {
    let mut spans = vec![Span {
        measure: Measure::Households,
        starts_on: EPOCH,
        ends_on: None,
    }];
    spans.extend(spans_of(
        Measure::Fibre,
        ranges_where(EPOCH, None, events.iter().map(|e| e.effective_on), |day| {
            broadband_on(events, day) == Broadband::Yes
        }),
    ));
    spans
}

/// Count changes per (neighbourhood path, measure, day).
#[derive(Default, Debug)]
pub struct Deltas(BTreeMap<(String, Measure, NaiveDate), i64>);

/// A stored bucket of deltas: neighbourhood path, grain, period start, measure.
pub type Bucket = (String, String, NaiveDate, Measure);

impl Deltas {
    pub fn add_spans(&mut self, area_path: &str, spans: &[Span], sign: i64) {
        for span in spans {
            *self
                .0
                .entry((area_path.to_owned(), span.measure, span.starts_on))
                .or_default() += sign;
            if let Some(ends_on) = span.ends_on {
                *self
                    .0
                    .entry((area_path.to_owned(), span.measure, ends_on))
                    .or_default() -= sign;
            }
        }
    }

    /// The changes per stored bucket (area path, grain, period start, measure) of the
    /// neighbourhoods themselves, zeros left out.
    pub fn buckets(&self) -> BTreeMap<Bucket, i64> {
        self.buckets_up_to(false)
    }

    /// The same for the neighbourhoods and every area above them.
    fn buckets_with_ancestors(&self) -> BTreeMap<Bucket, i64> {
        self.buckets_up_to(true)
    }

    fn buckets_up_to(&self, ancestors: bool) -> BTreeMap<Bucket, i64> {
        let mut buckets: BTreeMap<Bucket, i64> = BTreeMap::new();
        for ((area_path, measure, day), delta) in &self.0 {
            let paths = if ancestors {
                path_and_ancestors(area_path)
            } else {
                vec![area_path.clone()]
            };
            for path in paths {
                for (grain, start) in buckets_of(*day) {
                    *buckets
                        .entry((path.clone(), grain.to_owned(), start, *measure))
                        .or_default() += delta;
                }
            }
        }
        buckets.retain(|_, delta| *delta != 0);
        buckets
    }

    /// Adds them to the stored buckets. Keys are written in one order so that concurrent
    /// transactions on PostgreSQL lock rows in the same order and cannot deadlock.
    fn apply(self, conn: &mut DbConnection) -> Result<(), ApiError> {
        for ((area_path, grain, start, measure), delta) in self.buckets_with_ancestors() {
            add_to_bucket(conn, &area_path, &grain, start, measure, delta)?;
        }
        Ok(())
    }
}

/// `/a/b/c/` → `/a/`, `/a/b/`, `/a/b/c/`.
pub fn path_and_ancestors(path: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut prefix = String::from("/");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        prefix.push_str(segment);
        prefix.push('/');
        paths.push(prefix.clone());
    }
    paths
}

fn year_start(day: NaiveDate) -> NaiveDate {
    day.with_ordinal(1).unwrap_or(day)
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn buckets_of(day: NaiveDate) -> [(&'static str, NaiveDate); 3] {
    [
        ("day", day),
        ("month", month_start(day)),
        ("year", year_start(day)),
    ]
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = adoption_spans)]
struct SpanRow {
    subject_id: String,
    measure: String,
    area_path: String,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
}

fn stored_spans(
    conn: &mut DbConnection,
    subject_id: &str,
) -> Result<Option<(String, Vec<Span>)>, ApiError> {
    let rows: Vec<SpanRow> = adoption_spans::table
        .filter(adoption_spans::subject_id.eq(subject_id))
        .select(SpanRow::as_select())
        .load(conn)?;
    let Some(area_path) = rows.first().map(|row| row.area_path.clone()) else {
        return Ok(None);
    };
    let mut spans: Vec<Span> = rows
        .into_iter()
        .filter_map(|row| {
            Some(Span {
                measure: Measure::parse(&row.measure)?,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
            })
        })
        .collect();
    spans.sort();
    Ok(Some((area_path, spans)))
}

/// Replaces a subject's stored spans and moves the counters by the difference.
fn replace_spans(
    conn: &mut DbConnection,
    subject_id: &str,
    area_path: &str,
    mut spans: Vec<Span>,
) -> Result<(), ApiError> {
    spans.sort();
    let stored = stored_spans(conn, subject_id)?;
    let unchanged = match &stored {
        Some((path, old)) => path == area_path && *old == spans,
        None => spans.is_empty(),
    };
    if unchanged {
        return Ok(());
    }
    let mut deltas = Deltas::default();
    if let Some((path, old)) = &stored {
        deltas.add_spans(path, old, -1);
        diesel::delete(adoption_spans::table.filter(adoption_spans::subject_id.eq(subject_id)))
            .execute(conn)?;
    }
    deltas.add_spans(area_path, &spans, 1);
    let rows: Vec<_> = spans
        .iter()
        .map(|span| (subject_id, area_path, span))
        .collect();
    insert_spans_in_bulk(conn, &rows)?;
    deltas.apply(conn)
}

/// Brings a resident's counters up to date with its rows; call it in the transaction that
/// changed the resident or its events.
pub fn sync_resident(conn: &mut DbConnection, resident_id: &str) -> Result<(), ApiError> {
    // A no-op write takes the row lock on PostgreSQL, so two transactions changing the same
    // person apply their differences one after the other, each from the other's result.
    diesel::update(residents::table.find(resident_id))
        .set(residents::version.eq(residents::version))
        .execute(conn)?;
    let row: Option<(ResidentFacts, Option<chrono::NaiveDateTime>, String)> = residents::table
        .inner_join(households::table)
        .filter(residents::id.eq(resident_id))
        .select((
            ResidentFacts::as_select(),
            households::deleted_at,
            households::area_path,
        ))
        .first(conn)
        .optional()?;
    let Some((facts, household_deleted, area_path)) = row else {
        return Ok(());
    };
    let spans = if facts.deleted_at.is_some() || household_deleted.is_some() {
        Vec::new()
    } else {
        let events = live_events(conn, Some(resident_id), "")?;
        facts.spans(&events)
    };
    replace_spans(conn, resident_id, &area_path, spans)
}

/// Brings a household's own counters (household, fibre) up to date.
pub fn sync_household(conn: &mut DbConnection, household_id: &str) -> Result<(), ApiError> {
    diesel::update(households::table.find(household_id))
        .set(households::version.eq(households::version))
        .execute(conn)?;
    let row: Option<(Option<chrono::NaiveDateTime>, String)> = households::table
        .find(household_id)
        .select((households::deleted_at, households::area_path))
        .first(conn)
        .optional()?;
    let Some((deleted, area_path)) = row else {
        return Ok(());
    };
    let spans = if deleted.is_some() {
        Vec::new()
    } else {
        household_spans(&live_events(conn, None, household_id)?)
    };
    replace_spans(conn, household_id, &area_path, spans)
}

/// A household and everyone in it (after the household was deleted, say).
pub fn sync_household_and_residents(
    conn: &mut DbConnection,
    household_id: &str,
) -> Result<(), ApiError> {
    sync_household(conn, household_id)?;
    let people: Vec<String> = residents::table
        .filter(residents::household_id.eq(household_id))
        .select(residents::id)
        .load(conn)?;
    for id in people {
        sync_resident(conn, &id)?;
    }
    Ok(())
}

/// The facts about a resident its spans depend on.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = residents)]
pub struct ResidentFacts {
    pub id: String,
    pub household_id: String,
    pub adult_on: NaiveDate,
    pub presence: String,
    pub presence_since: Option<NaiveDate>,
    pub deleted_at: Option<chrono::NaiveDateTime>,
}

impl ResidentFacts {
    pub fn spans(&self, events: &[Event]) -> Vec<Span> {
        resident_spans(
            self.adult_on,
            self.presence == "present",
            self.presence_since,
            events,
        )
    }
}

#[derive(QueryableByName)]
struct MeasureSum {
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The counts of an area (and everything below it) on `day`, from the counters.
pub fn counts_on(
    conn: &mut DbConnection,
    area_path: &str,
    day: NaiveDate,
) -> Result<Counts, ApiError> {
    // Three index ranges over (area_path, grain, period_start).
    let rows: Vec<MeasureSum> = diesel::sql_query(
        "SELECT measure, CAST(SUM(delta) AS BIGINT) AS total FROM ( \
            SELECT measure, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'year' AND period_start < $2 \
            UNION ALL SELECT measure, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'month' AND period_start >= $2 AND period_start < $3 \
            UNION ALL SELECT measure, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'day' AND period_start >= $3 AND period_start <= $4 \
         ) AS buckets GROUP BY measure",
    )
    .bind::<Text, _>(area_path)
    .bind::<Date, _>(year_start(day))
    .bind::<Date, _>(month_start(day))
    .bind::<Date, _>(day)
    .load(conn)?;
    let mut counts = Counts::default();
    for row in rows {
        if let Some(measure) = Measure::parse(&row.measure) {
            counts.add(measure, row.total);
        }
    }
    Ok(counts)
}

#[derive(QueryableByName)]
struct DaySum {
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = Date)]
    period_start: NaiveDate,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The counts of an area on each of `days` (ascending): the first from the buckets, the
/// rest by adding the day deltas in between, so a long series costs two queries.
pub fn counts_series(
    conn: &mut DbConnection,
    area_path: &str,
    days: &[NaiveDate],
) -> Result<Vec<Counts>, ApiError> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    let mut running = counts_on(conn, area_path, *first)?;
    let changes: Vec<DaySum> = diesel::sql_query(
        "SELECT measure, period_start, CAST(SUM(delta) AS BIGINT) AS total \
         FROM adoption_deltas \
         WHERE area_path = $1 AND grain = 'day' \
           AND period_start > $2 AND period_start <= $3 \
         GROUP BY measure, period_start ORDER BY period_start",
    )
    .bind::<Text, _>(area_path)
    .bind::<Date, _>(*first)
    .bind::<Date, _>(*last)
    .load(conn)?;
    let mut changes = changes.into_iter().peekable();
    let mut series = Vec::with_capacity(days.len());
    for day in days {
        while let Some(change) = changes.next_if(|c| c.period_start <= *day) {
            if let Some(measure) = Measure::parse(&change.measure) {
                running.add(measure, change.total);
            }
        }
        series.push(running);
    }
    Ok(series)
}

/// The spans every subject of a neighbourhood should have, computed from the raw rows: what
/// `rebuild_neighbourhood` stores and `recount` compares the stored ones with.
pub struct ComputedSpans {
    pub by_subject: BTreeMap<String, (String, Vec<Span>)>,
}

impl ComputedSpans {
    /// The deltas these spans add, and the rows that store them.
    fn deltas_and_rows(&self) -> (Deltas, Vec<(&str, &str, &Span)>) {
        let mut deltas = Deltas::default();
        let mut rows = Vec::new();
        for (subject, (path, spans)) in &self.by_subject {
            deltas.add_spans(path, spans, 1);
            rows.extend(
                spans
                    .iter()
                    .map(|span| (subject.as_str(), path.as_str(), span)),
            );
        }
        (deltas, rows)
    }
}

pub fn compute_spans(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<ComputedSpans, ApiError> {
    let homes: Vec<String> = households::table
        .filter(households::area_path.eq(neighbourhood_path))
        .filter(households::deleted_at.is_null())
        .select(households::id)
        .load(conn)?;
    let people: Vec<ResidentFacts> = residents::table
        .inner_join(households::table)
        .filter(households::area_path.eq(neighbourhood_path))
        .filter(households::deleted_at.is_null())
        .filter(residents::deleted_at.is_null())
        .select(ResidentFacts::as_select())
        .load(conn)?;
    let events = load_events(conn, neighbourhood_path)?;
    let mut by_subject = BTreeMap::new();
    for id in homes {
        let spans = household_spans(events.of(&id));
        by_subject.insert(id, (neighbourhood_path.to_owned(), spans));
    }
    for person in people {
        let spans = person.spans(events.of(&person.id));
        if !spans.is_empty() {
            by_subject.insert(person.id, (neighbourhood_path.to_owned(), spans));
        }
    }
    Ok(ComputedSpans { by_subject })
}

/// The live events of a neighbourhood's people and households, by subject id.
pub struct EventsBySubject(BTreeMap<String, Vec<Event>>);

impl EventsBySubject {
    pub fn of(&self, subject_id: &str) -> &[Event] {
        self.0
            .get(subject_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// A person's events are theirs wherever they were recorded (a merge can move events of a
/// person between households), so they are found through the person, and a household's
/// through the household.
pub fn load_events(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<EventsBySubject, ApiError> {
    // Sub-selects rather than joins, so the database starts from the neighbourhood's
    // people and households and reaches their events through the indexes.
    let people = residents::table
        .inner_join(households::table)
        .filter(households::area_path.eq(neighbourhood_path))
        .select(residents::id.nullable());
    let personal: Vec<StatusEventRow> = status_events::table
        .filter(status_events::resident_id.eq_any(people))
        .filter(status_events::voided_at.is_null())
        .select(StatusEventRow::as_select())
        .load(conn)?;
    let homes = households::table
        .filter(households::area_path.eq(neighbourhood_path))
        .select(households::id);
    let domestic: Vec<StatusEventRow> = status_events::table
        .filter(status_events::household_id.eq_any(homes))
        .filter(status_events::resident_id.is_null())
        .filter(status_events::voided_at.is_null())
        .select(StatusEventRow::as_select())
        .load(conn)?;
    let mut by_subject: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for row in personal.iter().chain(&domestic) {
        if let Some(event) = row.as_event() {
            let subject = row.resident_id.as_ref().unwrap_or(&row.household_id);
            by_subject.entry(subject.clone()).or_default().push(event);
        }
    }
    Ok(EventsBySubject(by_subject))
}

/// The spans stored for the subjects of one neighbourhood.
pub fn stored_spans_in(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<BTreeMap<String, (String, Vec<Span>)>, ApiError> {
    let rows: Vec<SpanRow> = adoption_spans::table
        .filter(adoption_spans::area_path.eq(neighbourhood_path))
        .select(SpanRow::as_select())
        .load(conn)?;
    let mut stored: BTreeMap<String, (String, Vec<Span>)> = BTreeMap::new();
    for row in rows {
        let Some(measure) = Measure::parse(&row.measure) else {
            continue;
        };
        stored
            .entry(row.subject_id)
            .or_insert_with(|| (row.area_path.clone(), Vec::new()))
            .1
            .push(Span {
                measure,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
            });
    }
    for (_, spans) in stored.values_mut() {
        spans.sort();
    }
    Ok(stored)
}

/// The non-zero delta buckets stored for one neighbourhood.
pub fn stored_buckets_in(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<BTreeMap<Bucket, i64>, ApiError> {
    let rows: Vec<(String, String, NaiveDate, String, i64)> = adoption_deltas::table
        .filter(adoption_deltas::area_path.eq(neighbourhood_path))
        .filter(adoption_deltas::delta.ne(0))
        .select((
            adoption_deltas::area_path,
            adoption_deltas::grain,
            adoption_deltas::period_start,
            adoption_deltas::measure,
            adoption_deltas::delta,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(path, grain, start, measure, delta)| {
            Some(((path, grain, start, Measure::parse(&measure)?), delta))
        })
        .collect())
}

/// Builds the counters of one neighbourhood again from the raw rows (`recount --repair`,
/// the demo seed, bulk loads): its stored spans are replaced by those its rows give, and its
/// own buckets are moved to what those spans imply; the areas above it move by the same
/// amounts, so they stay the sum of their neighbourhoods.
pub fn rebuild_neighbourhood(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<(), ApiError> {
    let computed = compute_spans(conn, neighbourhood_path)?;
    let (deltas, rows) = computed.deltas_and_rows();
    let expected = deltas.buckets();
    let held = stored_buckets_in(conn, neighbourhood_path)?;
    // Month and year buckets follow from day buckets, so the difference is first put on
    // days, (expected − held) per day, which `apply` spreads over every grain and level.
    let mut by_day: BTreeMap<(String, Measure, NaiveDate), i64> = BTreeMap::new();
    for ((path, grain, start, measure), delta) in &expected {
        if grain == "day" {
            *by_day.entry((path.clone(), *measure, *start)).or_default() += delta;
        }
    }
    for ((path, grain, start, measure), delta) in &held {
        if grain == "day" {
            *by_day.entry((path.clone(), *measure, *start)).or_default() -= delta;
        }
    }
    // Month and year buckets that disagree with their days are put right directly.
    let mut direct: BTreeMap<Bucket, i64> = BTreeMap::new();
    let days_expanded = Deltas(by_day.clone()).buckets();
    for key in expected
        .keys()
        .chain(held.keys())
        .chain(days_expanded.keys())
    {
        if key.1 == "day" {
            continue;
        }
        let wanted = expected.get(key).copied().unwrap_or(0) - held.get(key).copied().unwrap_or(0);
        let from_days = days_expanded.get(key).copied().unwrap_or(0);
        if wanted != from_days {
            direct.insert(key.clone(), wanted - from_days);
        }
    }
    diesel::delete(adoption_spans::table.filter(adoption_spans::area_path.eq(neighbourhood_path)))
        .execute(conn)?;
    insert_spans_in_bulk(conn, &rows)?;
    Deltas(by_day).apply(conn)?;
    for ((path, grain, start, measure), delta) in direct {
        for level in path_and_ancestors(&path) {
            add_to_bucket(conn, &level, &grain, start, measure, delta)?;
        }
    }
    Ok(())
}

fn add_to_bucket(
    conn: &mut DbConnection,
    area_path: &str,
    grain: &str,
    start: NaiveDate,
    measure: Measure,
    delta: i64,
) -> Result<(), ApiError> {
    diesel::sql_query(
        "INSERT INTO adoption_deltas (area_path, grain, period_start, measure, delta) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (area_path, grain, period_start, measure) \
         DO UPDATE SET delta = adoption_deltas.delta + excluded.delta",
    )
    .bind::<Text, _>(area_path)
    .bind::<Text, _>(grain)
    .bind::<Date, _>(start)
    .bind::<Text, _>(measure.as_str())
    .bind::<BigInt, _>(delta)
    .execute(conn)?;
    Ok(())
}

/// Builds every counter of a whole tree (a province) from the raw rows in bulk: spans and
/// buckets written in large statements, each area above summed in memory from its
/// neighbourhoods. For seeding and bulk loads into a tree nothing else is writing to.
pub fn rebuild_tree(
    conn: &mut DbConnection,
    root_path: &str,
    progress: &dyn Fn(usize, usize),
) -> Result<(), ApiError> {
    let pattern = format!("{root_path}%");
    let neighbourhoods = neighbourhood_paths_under(conn, root_path)?;
    diesel::delete(adoption_spans::table.filter(adoption_spans::area_path.like(&pattern)))
        .execute(conn)?;
    diesel::delete(adoption_deltas::table.filter(adoption_deltas::area_path.like(&pattern)))
        .execute(conn)?;
    let mut above: BTreeMap<String, BTreeMap<(String, NaiveDate, Measure), i64>> = BTreeMap::new();
    for (index, path) in neighbourhoods.iter().enumerate() {
        let computed = compute_spans(conn, path)?;
        let (deltas, rows) = computed.deltas_and_rows();
        insert_spans_in_bulk(conn, &rows)?;
        let buckets = deltas.buckets();
        for ((_, grain, start, measure), delta) in &buckets {
            for ancestor in path_and_ancestors(path).into_iter().filter(|a| a != path) {
                *above
                    .entry(ancestor)
                    .or_default()
                    .entry((grain.clone(), *start, *measure))
                    .or_default() += delta;
            }
        }
        insert_buckets_in_bulk(conn, buckets.into_iter().collect())?;
        progress(index + 1, neighbourhoods.len());
    }
    for (path, sums) in above {
        insert_buckets_in_bulk(
            conn,
            sums.into_iter()
                .filter(|(_, delta)| *delta != 0)
                .map(|((grain, start, measure), delta)| {
                    ((path.clone(), grain, start, measure), delta)
                })
                .collect(),
        )?;
    }
    Ok(())
}

fn neighbourhood_paths_under(
    conn: &mut DbConnection,
    root_path: &str,
) -> Result<Vec<String>, ApiError> {
    use crate::schema::areas;
    Ok(areas::table
        .filter(areas::path.like(format!("{root_path}%")))
        .filter(areas::kind.eq("neighbourhood"))
        .select(areas::path)
        .order(areas::path)
        .load(conn)?)
}

/// New bucket rows, many per statement (same safety argument as `insert_spans_in_bulk`).
fn insert_buckets_in_bulk(
    conn: &mut DbConnection,
    rows: Vec<(Bucket, i64)>,
) -> Result<(), ApiError> {
    use diesel::connection::SimpleConnection;
    for chunk in rows.chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for ((path, grain, start, measure), delta) in chunk {
            if !plain(path) || !["day", "month", "year"].contains(&grain.as_str()) {
                return Err(ApiError::internal("unexpected characters in a bucket"));
            }
            values.push(format!(
                "('{path}', '{grain}', '{start}', '{}', {delta})",
                measure.as_str()
            ));
        }
        conn.batch_execute(&format!(
            "INSERT INTO adoption_deltas (area_path, grain, period_start, measure, delta) VALUES {}",
            values.join(",")
        ))?;
    }
    Ok(())
}

/// Builds the buckets of an area above the neighbourhoods again as the sum of its
/// neighbourhoods' buckets.
pub fn rebuild_rollup(conn: &mut DbConnection, area_path: &str) -> Result<(), ApiError> {
    let mut sums: BTreeMap<Bucket, i64> = BTreeMap::new();
    for neighbourhood in neighbourhood_paths_under(conn, area_path)? {
        for ((_, grain, start, measure), delta) in stored_buckets_in(conn, &neighbourhood)? {
            *sums
                .entry((area_path.to_owned(), grain, start, measure))
                .or_default() += delta;
        }
    }
    diesel::delete(adoption_deltas::table.filter(adoption_deltas::area_path.eq(area_path)))
        .execute(conn)?;
    insert_buckets_in_bulk(conn, sums.into_iter().filter(|(_, d)| *d != 0).collect())
}

/// Whether a text is made of what ids and paths are made of (hex digits, '-', '/'), so it
/// can be written into SQL text.
fn plain(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_hexdigit() || c == '-' || c == '/')
}

/// Many spans in few statements (a rebuild writes a whole neighbourhood at once). The
/// values are ids, paths, measures and dates only, checked to be made of the characters
/// those have, so writing them into the SQL text cannot inject anything.
fn insert_spans_in_bulk(
    conn: &mut DbConnection,
    rows: &[(&str, &str, &Span)],
) -> Result<(), ApiError> {
    use diesel::connection::SimpleConnection;
    for chunk in rows.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO adoption_spans (subject_id, measure, area_path, starts_on, ends_on) VALUES ",
        );
        for (index, (subject, path, span)) in chunk.iter().enumerate() {
            if !plain(subject) || !plain(path) {
                return Err(ApiError::internal("unexpected characters in an id or path"));
            }
            let ends = span
                .ends_on
                .map_or("NULL".to_owned(), |day| format!("'{day}'"));
            if index > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('{subject}', '{}', '{path}', '{}', {ends})",
                span.measure.as_str(),
                span.starts_on
            ));
        }
        conn.batch_execute(&sql)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::derive::EventKind;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn event(kind: EventKind, value: &str, on: &str) -> Event {
        Event {
            kind,
            value: value.into(),
            effective_on: day(on),
            issued_on: None,
            expires_on: None,
            correction: false,
            received_at: day(on).and_hms_opt(9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn an_adult_who_moved_away_counts_from_the_18th_birthday_until_the_move() {
        let spans = resident_spans(day("2020-03-01"), false, Some(day("2024-06-10")), &[]);
        assert_eq!(
            spans,
            vec![Span {
                measure: Measure::Adults,
                starts_on: day("2020-03-01"),
                ends_on: Some(day("2024-06-10"))
            }]
        );
    }

    #[test]
    fn a_certificate_counts_through_its_expiry_day_and_stops_the_day_after() {
        let mut certificate = event(EventKind::Signature, "digital", "2024-01-10");
        certificate.issued_on = Some(day("2024-01-05"));
        certificate.expires_on = Some(day("2025-01-04"));
        let spans = resident_spans(day("2000-01-01"), true, None, &[certificate]);
        let signature: Vec<_> = spans
            .iter()
            .filter(|s| s.measure == Measure::Signature)
            .collect();
        assert_eq!(signature.len(), 1);
        assert_eq!(signature[0].starts_on, day("2024-01-10"));
        assert_eq!(signature[0].ends_on, Some(day("2025-01-05")));
    }

    #[test]
    fn an_e_id_before_the_18th_birthday_counts_from_the_birthday() {
        let spans = resident_spans(
            day("2025-05-01"),
            true,
            None,
            &[event(EventKind::Eid, "level2", "2024-01-01")],
        );
        assert!(spans.contains(&Span {
            measure: Measure::Eid,
            starts_on: day("2025-05-01"),
            ends_on: None
        }));
    }

    #[test]
    fn fibre_that_was_cancelled_counts_only_while_it_was_there() {
        let spans = household_spans(&[
            event(EventKind::Broadband, "yes", "2023-02-01"),
            event(EventKind::Broadband, "no", "2024-02-01"),
        ]);
        assert_eq!(
            spans[1],
            Span {
                measure: Measure::Fibre,
                starts_on: day("2023-02-01"),
                ends_on: Some(day("2024-02-01"))
            }
        );
    }
}
