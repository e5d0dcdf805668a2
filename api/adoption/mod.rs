//! Adoption figures of an area as of a date, computed from the raw rows by the rules of
//! PRODUCT.md ("The rules that make the numbers right"):
//! - an adult at D was born on or before D minus 18 years (`adult_on <= D`);
//! - in the population at D: recorded, and not moved away or deceased on or before D;
//! - e-ID at D: level 1 or 2 by the events effective on or before D;
//! - signature at D: electronic, or a digital certificate issued on or before D and expiring
//!   on or after D;
//! - fibre: the household's broadband status at D.
//!
//! This is the recount: the reference every served figure must equal. (Incremental
//! per-neighbourhood counters, which make a ward or province figure a roll-up instead of a
//! scan, are the next step of the adoption issue and will be checked against it.)

pub mod figures;
pub mod needed;

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::areas::Area;
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{households, residents, status_events};
use crate::status::derive::{broadband_on, eid_level_on, has_signature_on, Broadband, Event};
use crate::status::StatusEventRow;

/// Counts of one area on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub adults: i64,
    pub adults_with_eid: i64,
    pub adults_with_signature: i64,
    pub households: i64,
    pub households_with_fibre: i64,
}

/// Recounts an area (and everything below it) on `day` from the raw rows.
pub fn recount(conn: &mut DbConnection, area: &Area, day: NaiveDate) -> Result<Counts, ApiError> {
    let pattern = format!("{}%", area.path);
    let people: Vec<(String, NaiveDate, String, Option<NaiveDate>)> = residents::table
        .inner_join(households::table)
        .filter(households::area_path.like(&pattern))
        .filter(households::deleted_at.is_null())
        .filter(residents::deleted_at.is_null())
        .filter(residents::adult_on.le(day))
        .select((
            residents::id,
            residents::adult_on,
            residents::presence,
            residents::presence_since,
        ))
        .load(conn)?;
    let homes: Vec<String> = households::table
        .filter(households::area_path.like(&pattern))
        .filter(households::deleted_at.is_null())
        .select(households::id)
        .load(conn)?;
    let rows: Vec<StatusEventRow> = status_events::table
        .inner_join(households::table)
        .filter(households::area_path.like(&pattern))
        .filter(status_events::voided_at.is_null())
        .filter(status_events::effective_on.le(day))
        .select(StatusEventRow::as_select())
        .load(conn)?;
    let mut by_resident: HashMap<String, Vec<Event>> = HashMap::new();
    let mut by_household: HashMap<String, Vec<Event>> = HashMap::new();
    for row in rows {
        let Some(event) = row.as_event() else {
            continue;
        };
        match row.resident_id {
            Some(resident) => by_resident.entry(resident).or_default().push(event),
            None => by_household
                .entry(row.household_id)
                .or_default()
                .push(event),
        }
    }
    let mut counts = Counts::default();
    for (id, _, presence, since) in people {
        let gone = presence != "present" && since.is_none_or(|since| since <= day);
        if gone {
            continue;
        }
        counts.adults += 1;
        let events = by_resident.get(&id).map(Vec::as_slice).unwrap_or_default();
        if eid_level_on(events, day).counts() {
            counts.adults_with_eid += 1;
        }
        if has_signature_on(events, day) {
            counts.adults_with_signature += 1;
        }
    }
    for id in homes {
        counts.households += 1;
        let events = by_household.get(&id).map(Vec::as_slice).unwrap_or_default();
        if broadband_on(events, day) == Broadband::Yes {
            counts.households_with_fibre += 1;
        }
    }
    Ok(counts)
}
