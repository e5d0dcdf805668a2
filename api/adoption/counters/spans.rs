//! Span rules: on which days a resident or household counts towards each measure, from
//! the same rules as the recount (`status::derive`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::pending::ResidentFacts;
use super::{Deltas, Measure, EPOCH};
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{households, residents, status_events};
use crate::status::derive::{broadband_on, eid_level_on, has_signature_on, Broadband, Event};
use crate::status::StatusEventRow;

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

/// The spans every subject of a neighbourhood should have, computed from the raw rows: what
/// `rebuild_neighbourhood` stores and `recount` compares the stored ones with.
pub struct ComputedSpans {
    pub by_subject: BTreeMap<String, (String, Vec<Span>)>,
}

impl ComputedSpans {
    /// The deltas these spans add, and the rows that store them.
    pub(super) fn deltas_and_rows(&self) -> (Deltas, Vec<(&str, &str, &Span)>) {
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

/// The events of the households with these ids and of everyone recorded in them.
pub fn load_events_of_households(
    conn: &mut DbConnection,
    household_ids: &[String],
) -> Result<EventsBySubject, ApiError> {
    let mut by_subject: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for chunk in household_ids.chunks(500) {
        let people = residents::table
            .filter(residents::household_id.eq_any(chunk))
            .select(residents::id.nullable());
        let personal: Vec<StatusEventRow> = status_events::table
            .filter(status_events::resident_id.eq_any(people))
            .filter(status_events::voided_at.is_null())
            .select(StatusEventRow::as_select())
            .load(conn)?;
        let domestic: Vec<StatusEventRow> = status_events::table
            .filter(status_events::household_id.eq_any(chunk))
            .filter(status_events::resident_id.is_null())
            .filter(status_events::voided_at.is_null())
            .select(StatusEventRow::as_select())
            .load(conn)?;
        for row in personal.iter().chain(&domestic) {
            if let Some(event) = row.as_event() {
                let subject = row.resident_id.as_ref().unwrap_or(&row.household_id);
                by_subject.entry(subject.clone()).or_default().push(event);
            }
        }
    }
    Ok(EventsBySubject(by_subject))
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
