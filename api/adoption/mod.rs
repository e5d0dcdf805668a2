//! Adoption figures of an area as of a date, computed from the raw rows by the rules of
//! PRODUCT.md ("The rules that make the numbers right"):
//! - an adult at D was born on or before D minus 18 years (`adult_on <= D`);
//! - in the population at D: recorded, and not moved away or deceased on or before D;
//! - e-ID at D: level 1 or 2 by the events effective on or before D;
//! - signature at D: electronic, or a digital certificate issued on or before D and expiring
//!   on or after D;
//! - fibre: the household's broadband status at D.
//!
//! `recount` is the reference every served figure must equal: it evaluates those rules on
//! the raw rows for the day asked. The figures themselves are served from the incremental
//! counters of `counters`, and `eid-adoption recount` compares the two.

pub mod breakdown;
pub mod check;
pub mod children;
pub mod conditional;
pub mod counters;
pub mod export;
pub mod figures;
pub mod located;
pub mod needed;
pub mod series;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::areas::Area;
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{households, residents};
use crate::status::derive::{broadband_on, eid_level_on, has_signature_on, Broadband};

/// Counts of one area on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub adults: i64,
    pub adults_with_eid: i64,
    pub adults_with_signature: i64,
    pub households: i64,
    pub households_with_fibre: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.adults += other.adults;
        self.adults_with_eid += other.adults_with_eid;
        self.adults_with_signature += other.adults_with_signature;
        self.households += other.households;
        self.households_with_fibre += other.households_with_fibre;
    }
}

/// The counts served for an area on each of `days` (ascending): from the counters for a
/// live area, from where households were for one that ended (`located`).
pub fn area_counts(
    conn: &mut DbConnection,
    area: &Area,
    days: &[NaiveDate],
) -> Result<Vec<Counts>, ApiError> {
    if area.is_ended() {
        located::located_counts(conn, area, days)
    } else {
        counters::counts_series(conn, &area.path, days)
    }
}

/// Recounts an area (and everything below it) on `day` from the raw rows.
pub fn recount(conn: &mut DbConnection, area: &Area, day: NaiveDate) -> Result<Counts, ApiError> {
    Ok(recount_days(conn, &area.path, &[day])?[0])
}

/// Recounts an area on each of `days`, neighbourhood by neighbourhood.
pub fn recount_days(
    conn: &mut DbConnection,
    area_path: &str,
    days: &[NaiveDate],
) -> Result<Vec<Counts>, ApiError> {
    let mut totals = vec![Counts::default(); days.len()];
    for path in neighbourhoods_with_households(conn, area_path)? {
        for (total, counts) in totals
            .iter_mut()
            .zip(recount_neighbourhood(conn, &path, days)?)
        {
            total.adults += counts.adults;
            total.adults_with_eid += counts.adults_with_eid;
            total.adults_with_signature += counts.adults_with_signature;
            total.households += counts.households;
            total.households_with_fibre += counts.households_with_fibre;
        }
    }
    Ok(totals)
}

/// The paths of the neighbourhoods under `area_path` that have households.
pub fn neighbourhoods_with_households(
    conn: &mut DbConnection,
    area_path: &str,
) -> Result<Vec<String>, ApiError> {
    Ok(households::table
        .filter(households::area_path.like(format!("{area_path}%")))
        .select(households::area_path)
        .distinct()
        .order(households::area_path)
        .load(conn)?)
}

/// What the rules need to know about a person, and what a breakdown groups by.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = residents)]
pub struct Person {
    pub id: String,
    pub adult_on: NaiveDate,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub presence: String,
    pub presence_since: Option<NaiveDate>,
}

impl Person {
    /// An adult in the population on `day`: 18 by then, and not moved away or deceased on
    /// or before it.
    pub fn counts_on(&self, day: NaiveDate) -> bool {
        let gone =
            self.presence != "present" && self.presence_since.is_none_or(|since| since <= day);
        !gone && self.adult_on <= day
    }
}

/// Recounts the adults of one neighbourhood on each of `days`, grouped by `key`.
pub fn recount_people_by<K: Ord>(
    conn: &mut DbConnection,
    path: &str,
    days: &[NaiveDate],
    key: impl Fn(&Person, NaiveDate) -> K,
) -> Result<Vec<BTreeMap<K, Counts>>, ApiError> {
    let events = counters::load_events(conn, path)?;
    count_people_by(conn, path, &events, days, key)
}

fn count_people_by<K: Ord>(
    conn: &mut DbConnection,
    path: &str,
    events: &counters::EventsBySubject,
    days: &[NaiveDate],
    key: impl Fn(&Person, NaiveDate) -> K,
) -> Result<Vec<BTreeMap<K, Counts>>, ApiError> {
    let people: Vec<Person> = residents::table
        .inner_join(households::table)
        .filter(households::area_path.eq(path))
        .filter(households::deleted_at.is_null())
        .filter(residents::deleted_at.is_null())
        .select(Person::as_select())
        .load(conn)?;
    Ok(days
        .iter()
        .map(|&day| {
            let mut groups: BTreeMap<K, Counts> = BTreeMap::new();
            for person in people.iter().filter(|p| p.counts_on(day)) {
                let counts = groups.entry(key(person, day)).or_default();
                counts.adults += 1;
                let events = events.of(&person.id);
                if eid_level_on(events, day).counts() {
                    counts.adults_with_eid += 1;
                }
                if has_signature_on(events, day) {
                    counts.adults_with_signature += 1;
                }
            }
            groups
        })
        .collect())
}

/// Recounts one neighbourhood on each of `days` by applying the rules to every person and
/// household directly.
pub fn recount_neighbourhood(
    conn: &mut DbConnection,
    path: &str,
    days: &[NaiveDate],
) -> Result<Vec<Counts>, ApiError> {
    let events = counters::load_events(conn, path)?;
    let people = count_people_by(conn, path, &events, days, |_, _| ())?;
    let homes: Vec<String> = households::table
        .filter(households::area_path.eq(path))
        .filter(households::deleted_at.is_null())
        .select(households::id)
        .load(conn)?;
    Ok(days
        .iter()
        .zip(people)
        .map(|(&day, mut groups)| {
            let mut counts = groups.remove(&()).unwrap_or_default();
            for id in &homes {
                counts.households += 1;
                if broadband_on(events.of(id), day) == Broadband::Yes {
                    counts.households_with_fibre += 1;
                }
            }
            counts
        })
        .collect())
}
