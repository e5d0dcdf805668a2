//! Incremental updates: a write names the residents and households it changed
//! (`sync_resident`, `sync_household`); their spans are computed again from their rows and
//! the difference goes to the log.
//!
//! Inside `batched` (every `Db::write` runs in it) the names are only collected, and all of
//! them are brought up to date together just before the transaction commits: a push of 200
//! mutations costs a handful of statements for its counters (one per kind of read, one
//! delete, one span insert, one log insert) instead of several per mutation. Computing
//! again from the rows makes this exact whatever happened in between: a subject touched
//! twice is computed once from its final rows, and one named inside a savepoint that was
//! rolled back is computed from rows that do not have the change.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::buckets::append_to_log;
use super::spans::{household_spans, Span};
use super::{plain, Deltas, Measure};
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{adoption_spans, households, residents, status_events};
use crate::status::derive::Event;
use crate::status::StatusEventRow;

/// The subjects a transaction changed, waiting for the commit.
#[derive(Default)]
struct Subjects {
    residents: BTreeSet<String>,
    households: BTreeSet<String>,
}

thread_local! {
    /// The batch of the transaction running on this thread, if it is batched. A write runs
    /// on one blocking thread from start to commit, so the thread names the transaction.
    static PENDING: RefCell<Option<Subjects>> = const { RefCell::new(None) };
}

/// Ends the batch however `batched` leaves (error, panic), so a thread never carries one
/// transaction's names into the next.
struct BatchGuard;

impl Drop for BatchGuard {
    fn drop(&mut self) {
        PENDING.with(|pending| pending.borrow_mut().take());
    }
}

/// Runs `work` (inside a transaction) with counter updates collected, then brings every
/// collected subject up to date. Nested calls join the outer batch.
pub fn batched<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let already = PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        let already = pending.is_some();
        if !already {
            *pending = Some(Subjects::default());
        }
        already
    });
    if already {
        return work(conn);
    }
    let _guard = BatchGuard;
    let value = work(conn)?;
    let subjects = PENDING
        .with(|pending| pending.borrow_mut().take())
        .unwrap_or_default();
    bring_up_to_date(conn, &subjects)?;
    Ok(value)
}

/// Collects the subject when a batch is open; otherwise says it must be done now.
fn collect(add: impl FnOnce(&mut Subjects)) -> bool {
    PENDING.with(|pending| match pending.borrow_mut().as_mut() {
        Some(subjects) => {
            add(subjects);
            true
        }
        None => false,
    })
}

/// Brings a resident's counters up to date with its rows; call it in the transaction that
/// changed the resident or its events.
pub fn sync_resident(conn: &mut DbConnection, resident_id: &str) -> Result<(), ApiError> {
    if collect(|s| {
        s.residents.insert(resident_id.to_owned());
    }) {
        return Ok(());
    }
    bring_up_to_date(
        conn,
        &Subjects {
            residents: BTreeSet::from([resident_id.to_owned()]),
            households: BTreeSet::new(),
        },
    )
}

/// Brings a household's own counters (household, fibre) up to date.
pub fn sync_household(conn: &mut DbConnection, household_id: &str) -> Result<(), ApiError> {
    if collect(|s| {
        s.households.insert(household_id.to_owned());
    }) {
        return Ok(());
    }
    bring_up_to_date(
        conn,
        &Subjects {
            residents: BTreeSet::new(),
            households: BTreeSet::from([household_id.to_owned()]),
        },
    )
}

/// A household and everyone in it (after the household was deleted, say).
pub fn sync_household_and_residents(
    conn: &mut DbConnection,
    household_id: &str,
) -> Result<(), ApiError> {
    let people: Vec<String> = residents::table
        .filter(residents::household_id.eq(household_id))
        .select(residents::id)
        .load(conn)?;
    sync_household(conn, household_id)?;
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
        super::spans::resident_spans(
            self.adult_on,
            self.presence == "present",
            self.presence_since,
            events,
        )
    }
}

/// Ids per statement: well under every backend's limit on bound parameters.
const CHUNK: usize = 500;

fn bring_up_to_date(conn: &mut DbConnection, subjects: &Subjects) -> Result<(), ApiError> {
    if subjects.residents.is_empty() && subjects.households.is_empty() {
        return Ok(());
    }
    // What each subject should count towards now, with its neighbourhood.
    let mut wanted: BTreeMap<String, (String, Vec<Span>)> = BTreeMap::new();
    let people: Vec<&String> = subjects.residents.iter().collect();
    for chunk in people.chunks(CHUNK) {
        // A no-op write takes the row locks on PostgreSQL, so two transactions changing
        // the same person apply their differences one after the other, each from the
        // other's result.
        diesel::update(residents::table.filter(residents::id.eq_any(chunk)))
            .set(residents::version.eq(residents::version))
            .execute(conn)?;
        let rows: Vec<(ResidentFacts, Option<chrono::NaiveDateTime>, String)> = residents::table
            .inner_join(households::table)
            .filter(residents::id.eq_any(chunk))
            .select((
                ResidentFacts::as_select(),
                households::deleted_at,
                households::area_path,
            ))
            .load(conn)?;
        let events = events_of(
            status_events::table
                .filter(status_events::resident_id.eq_any(chunk))
                .filter(status_events::voided_at.is_null())
                .select(StatusEventRow::as_select())
                .load(conn)?,
        );
        for (facts, household_deleted, area_path) in rows {
            let spans = if facts.deleted_at.is_some() || household_deleted.is_some() {
                Vec::new()
            } else {
                facts.spans(events.get(&facts.id).map_or(&[][..], Vec::as_slice))
            };
            wanted.insert(facts.id.clone(), (area_path, spans));
        }
    }
    let homes: Vec<&String> = subjects.households.iter().collect();
    for chunk in homes.chunks(CHUNK) {
        diesel::update(households::table.filter(households::id.eq_any(chunk)))
            .set(households::version.eq(households::version))
            .execute(conn)?;
        let rows: Vec<(String, Option<chrono::NaiveDateTime>, String)> = households::table
            .filter(households::id.eq_any(chunk))
            .select((
                households::id,
                households::deleted_at,
                households::area_path,
            ))
            .load(conn)?;
        let events = events_of(
            status_events::table
                .filter(status_events::household_id.eq_any(chunk))
                .filter(status_events::resident_id.is_null())
                .filter(status_events::voided_at.is_null())
                .select(StatusEventRow::as_select())
                .load(conn)?,
        );
        for (id, deleted, area_path) in rows {
            let spans = if deleted.is_some() {
                Vec::new()
            } else {
                household_spans(events.get(&id).map_or(&[][..], Vec::as_slice))
            };
            wanted.insert(id, (area_path, spans));
        }
    }
    replace_spans(conn, wanted)
}

/// Events by subject: the resident's, or the household's own.
fn events_of(rows: Vec<StatusEventRow>) -> BTreeMap<String, Vec<Event>> {
    let mut by_subject: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for row in &rows {
        if let Some(event) = row.as_event() {
            let subject = row.resident_id.as_ref().unwrap_or(&row.household_id);
            by_subject.entry(subject.clone()).or_default().push(event);
        }
    }
    by_subject
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = adoption_spans)]
pub(super) struct SpanRow {
    pub subject_id: String,
    pub measure: String,
    pub area_path: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Stored spans grouped by subject, each subject's sorted.
pub(super) fn group_spans(rows: Vec<SpanRow>) -> BTreeMap<String, (String, Vec<Span>)> {
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
    stored
}

/// Replaces the stored spans of the subjects whose spans changed and appends the
/// difference to the log: one read, one delete, one insert and one log insert per 500
/// subjects.
fn replace_spans(
    conn: &mut DbConnection,
    mut wanted: BTreeMap<String, (String, Vec<Span>)>,
) -> Result<(), ApiError> {
    for (_, spans) in wanted.values_mut() {
        spans.sort();
    }
    let ids: Vec<&String> = wanted.keys().collect();
    let mut deltas = Deltas::default();
    let mut changed: Vec<&String> = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let stored = group_spans(
            adoption_spans::table
                .filter(adoption_spans::subject_id.eq_any(chunk))
                .select(SpanRow::as_select())
                .load(conn)?,
        );
        for id in chunk {
            let (path, spans) = &wanted[*id];
            let unchanged = match stored.get(*id) {
                Some((old_path, old)) => old_path == path && old == spans,
                None => spans.is_empty(),
            };
            if unchanged {
                continue;
            }
            if let Some((old_path, old)) = stored.get(*id) {
                deltas.add_spans(old_path, old, -1);
            }
            deltas.add_spans(path, spans, 1);
            changed.push(id);
        }
    }
    for chunk in changed.chunks(CHUNK) {
        diesel::delete(adoption_spans::table.filter(adoption_spans::subject_id.eq_any(chunk)))
            .execute(conn)?;
        let rows: Vec<(&str, &str, &Span)> = chunk
            .iter()
            .flat_map(|id| {
                let (path, spans) = &wanted[*id];
                spans
                    .iter()
                    .map(move |span| (id.as_str(), path.as_str(), span))
            })
            .collect();
        insert_spans_in_bulk(conn, &rows)?;
    }
    append_to_log(conn, &deltas)
}

/// Many spans in few statements. The values are ids, paths, measures and dates only,
/// checked to be made of the characters those have, so writing them into the SQL text
/// cannot inject anything.
pub(super) fn insert_spans_in_bulk(
    conn: &mut DbConnection,
    rows: &[(&str, &str, &Span)],
) -> Result<(), ApiError> {
    use diesel::connection::SimpleConnection;
    for chunk in rows.chunks(CHUNK) {
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
