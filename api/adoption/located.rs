//! Figures of an area that ended (merged away, split, dissolved), for the days it existed.
//!
//! A live area's figures are those of the households it has now, over their whole history
//! (the counters move a household's history with it), so the new ward's series runs back
//! through its predecessors' years. An area that ended has no households any more; what it
//! had is in `household_locations`: where each household was until a reorganisation moved
//! it. Its figures on D are the households whose recorded path on D ran through it,
//! counted by the same rules as everything else (`Person::counts_on`, `status::derive`),
//! straight from the raw rows — so they equal a recount by construction, and a late event
//! for a household that has moved on still lands in the old area's history.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::counters::{load_events_of_households, EventsBySubject};
use super::{Counts, Person};
use crate::areas::Area;
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{household_locations, households, residents};
use crate::status::derive::{broadband_on, eid_level_on, has_signature_on, Broadband};

/// What an ended area had: the households that were in it, when, and what they hold.
pub struct Located {
    stays: BTreeMap<String, Vec<(NaiveDate, NaiveDate)>>,
    live: Vec<String>,
    people: BTreeMap<String, Vec<Person>>,
    events: EventsBySubject,
}

impl Located {
    /// Reads the households whose recorded path ran through the ended `area`.
    pub fn load(conn: &mut DbConnection, area: &Area) -> Result<Located, ApiError> {
        // Paths are ids joined by '/', so "/id/" inside a path is exactly "under this area".
        let rows: Vec<(String, NaiveDate, NaiveDate)> = household_locations::table
            .filter(household_locations::area_path.like(format!("%/{}/%", area.id)))
            .select((
                household_locations::household_id,
                household_locations::from_on,
                household_locations::until_on,
            ))
            .load(conn)?;
        let mut stays: BTreeMap<String, Vec<(NaiveDate, NaiveDate)>> = BTreeMap::new();
        for (household, from, until) in rows {
            stays.entry(household).or_default().push((from, until));
        }
        let ids: Vec<String> = stays.keys().cloned().collect();
        let mut live = Vec::new();
        let mut people: BTreeMap<String, Vec<Person>> = BTreeMap::new();
        for chunk in ids.chunks(500) {
            live.extend(
                households::table
                    .filter(households::id.eq_any(chunk))
                    .filter(households::deleted_at.is_null())
                    .select(households::id)
                    .load::<String>(conn)?,
            );
            let rows: Vec<(String, Person)> = residents::table
                .filter(residents::household_id.eq_any(chunk))
                .filter(residents::deleted_at.is_null())
                .select((residents::household_id, Person::as_select()))
                .load(conn)?;
            for (household, person) in rows {
                people.entry(household).or_default().push(person);
            }
        }
        let events = load_events_of_households(conn, &live)?;
        Ok(Located {
            stays,
            live,
            people,
            events,
        })
    }

    /// The households that were in the area on `day`.
    fn there_on(&self, day: NaiveDate) -> impl Iterator<Item = &String> {
        self.live.iter().filter(move |id| {
            self.stays[*id]
                .iter()
                .any(|(from, until)| *from <= day && day < *until)
        })
    }

    /// The adults counted on `day`, grouped by `key` (households not counted).
    pub fn people_by<K: Ord>(
        &self,
        day: NaiveDate,
        key: impl Fn(&Person, NaiveDate) -> K,
    ) -> BTreeMap<K, Counts> {
        let mut groups: BTreeMap<K, Counts> = BTreeMap::new();
        for id in self.there_on(day) {
            for person in self.people.get(id).into_iter().flatten() {
                if !person.counts_on(day) {
                    continue;
                }
                let counts = groups.entry(key(person, day)).or_default();
                counts.adults += 1;
                let own = self.events.of(&person.id);
                if eid_level_on(own, day).counts() {
                    counts.adults_with_eid += 1;
                }
                if has_signature_on(own, day) {
                    counts.adults_with_signature += 1;
                }
            }
        }
        groups
    }

    /// Everything counted on `day`.
    pub fn counts_on(&self, day: NaiveDate) -> Counts {
        let mut counts = self
            .people_by(day, |_, _| ())
            .remove(&())
            .unwrap_or_default();
        for id in self.there_on(day) {
            counts.households += 1;
            if broadband_on(self.events.of(id), day) == Broadband::Yes {
                counts.households_with_fibre += 1;
            }
        }
        counts
    }
}

/// The counts of the ended `area` on each of `days`, from where households were.
pub fn located_counts(
    conn: &mut DbConnection,
    area: &Area,
    days: &[NaiveDate],
) -> Result<Vec<Counts>, ApiError> {
    let located = Located::load(conn, area)?;
    Ok(days.iter().map(|day| located.counts_on(*day)).collect())
}
