//! Importing a register into one neighbourhood: every row is checked first; a dry run
//! reports what would happen and every problem, and a real run writes everything in one
//! transaction or nothing at all. Importing the same file twice creates nothing new:
//! households are matched on their register code, people on their citizen-ID hash or, when
//! there is none, on their folded name and birth date within the household; statuses are
//! recorded only for people the import creates.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::json;

use super::layout::{read_header, read_row, CellProblem, Column, ImportRow};
use super::read::{read_rows, Format};
use crate::adoption::counters;
use crate::areas::Area;
use crate::audit::{self, Action, Actor, Entry};
use crate::db::{new_id, now, DbConnection};
use crate::households::{insert_household, NewHousehold};
use crate::i18n::Text;
use crate::problem::ApiError;
use crate::residents::{
    citizen_id, enum_text, insert_resident, resident_search_text, CurrentStatus, NewResident,
    Relation,
};
use crate::schema::{households, residents};
use crate::status::derive::{Broadband, Event, EventKind, SignatureKind};
use crate::status::{insert_event_row, refresh_household, EventRecord};

/// What an import did, or would do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rows: usize,
    pub households_created: usize,
    pub households_matched: usize,
    pub residents_created: usize,
    pub residents_matched: usize,
    pub events_created: usize,
    pub problems: Vec<CellProblem>,
}

/// Reads and checks a file. `Err` when it cannot be read at all.
pub fn parse(
    format: Format,
    bytes: &[u8],
    today: NaiveDate,
) -> Result<(Vec<ImportRow>, Vec<CellProblem>), Text> {
    let rows = read_rows(format, bytes)?;
    let Some((header, data)) = rows.split_first() else {
        return Err(Text::new("tệp trống", "the file is empty"));
    };
    let columns = match read_header(header) {
        Ok(columns) => columns,
        Err(problems) => return Ok((Vec::new(), problems)),
    };
    let mut good = Vec::new();
    let mut problems = Vec::new();
    for (index, values) in data.iter().enumerate() {
        match read_row(index + 2, &columns, values, today) {
            Ok(row) => good.push(row),
            Err(mut row_problems) => problems.append(&mut row_problems),
        }
    }
    Ok((good, problems))
}

/// A resident already known for a household: enough to recognise them again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    citizen_id_hash: Option<String>,
    search_text: String,
    birth: (i32, Option<i32>, Option<i32>),
}

impl Known {
    fn of(row: &ImportRow, hash: Option<String>) -> Known {
        Known {
            citizen_id_hash: hash,
            search_text: resident_search_text(&row.full_name),
            birth: (
                row.birth.year,
                row.birth.month.map(|m| m as i32),
                row.birth.day.map(|d| d as i32),
            ),
        }
    }

    fn same_person(&self, other: &Known) -> bool {
        match (&self.citizen_id_hash, &other.citizen_id_hash) {
            (Some(a), Some(b)) => a == b,
            _ => self.search_text == other.search_text && self.birth == other.birth,
        }
    }
}

struct HouseholdPlan {
    existing_id: Option<String>,
    known: Vec<Known>,
}

/// Checks the rows against the database and, unless `dry_run` or a problem was found,
/// writes them. Call it inside one transaction.
#[allow(clippy::too_many_arguments)]
pub fn run(
    conn: &mut DbConnection,
    area: &Area,
    rows: &[ImportRow],
    mut problems: Vec<CellProblem>,
    dry_run: bool,
    citizen_key: &[u8],
    actor: &Actor,
    format: Format,
    progress: &dyn Fn(usize),
) -> Result<Outcome, ApiError> {
    let mut outcome = Outcome {
        // Valid rows plus the data rows with problems (the header is row 1).
        rows: rows.len()
            + problems
                .iter()
                .filter(|p| p.row > 1)
                .map(|p| p.row)
                .collect::<std::collections::HashSet<_>>()
                .len(),
        ..Outcome::default()
    };
    // Plan: which households exist, who is already known in each.
    let mut plans: HashMap<String, HouseholdPlan> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for row in rows {
        if plans.contains_key(&row.household_code) {
            continue;
        }
        let existing: Option<String> = households::table
            .filter(households::area_id.eq(&area.id))
            .filter(households::code.eq(&row.household_code))
            .filter(households::deleted_at.is_null())
            .select(households::id)
            .first(conn)
            .optional()?;
        let known = match &existing {
            Some(id) => residents::table
                .filter(residents::household_id.eq(id))
                .filter(residents::deleted_at.is_null())
                .select((
                    residents::citizen_id_hash,
                    residents::search_text,
                    residents::birth_year,
                    residents::birth_month,
                    residents::birth_day,
                ))
                .load::<(Option<String>, String, i32, Option<i32>, Option<i32>)>(conn)?
                .into_iter()
                .map(|(hash, search_text, y, m, d)| Known {
                    citizen_id_hash: hash,
                    search_text,
                    birth: (y, m, d),
                })
                .collect(),
            None => {
                let first_with_address = rows
                    .iter()
                    .filter(|r| r.household_code == row.household_code)
                    .find(|r| r.address.is_some() && r.head_name.is_some());
                if first_with_address.is_none() {
                    problems.push(CellProblem {
                        row: row.row,
                        column: Some(Column::Address),
                        code: "required",
                        message: Text::owned(
                            format!("Hộ {} chưa có trong khu phố: cần địa chỉ và tên chủ hộ", row.household_code),
                            format!("Household {} is new here: its address and head's name are required", row.household_code),
                        ),
                    });
                }
                Vec::new()
            }
        };
        order.push(row.household_code.clone());
        plans.insert(
            row.household_code.clone(),
            HouseholdPlan {
                existing_id: existing,
                known,
            },
        );
    }
    for plan in plans.values() {
        if plan.existing_id.is_some() {
            outcome.households_matched += 1;
        } else {
            outcome.households_created += 1;
        }
    }
    // Which rows are new people.
    let mut new_rows: Vec<(&ImportRow, Option<String>)> = Vec::new();
    for row in rows {
        let hash = row
            .citizen_id
            .as_deref()
            .map(|c| citizen_id::keyed_hash(citizen_key, c));
        let person = Known::of(row, hash.clone());
        let plan = plans
            .get_mut(&row.household_code)
            .ok_or_else(|| ApiError::internal("unplanned household"))?;
        if plan.known.iter().any(|k| k.same_person(&person)) {
            outcome.residents_matched += 1;
        } else {
            plan.known.push(person);
            outcome.residents_created += 1;
            outcome.events_created +=
                usize::from(row.eid.is_some()) + usize::from(row.signature.is_some());
            new_rows.push((row, hash));
        }
    }
    problems.sort_by_key(|p| (p.row, p.column.map(|c| c as usize)));
    outcome.problems = problems;
    if dry_run || !outcome.problems.is_empty() {
        return Ok(outcome);
    }

    // Write.
    let at = now();
    let mut household_ids: HashMap<String, String> = HashMap::new();
    for code in &order {
        let plan = &plans[code];
        let id = match &plan.existing_id {
            Some(id) => id.clone(),
            None => {
                let first = rows
                    .iter()
                    .filter(|r| &r.household_code == code)
                    .find(|r| r.address.is_some() && r.head_name.is_some())
                    .ok_or_else(|| ApiError::internal("planned household without address"))?;
                let address = first.address.clone().unwrap_or_default();
                let head_name = first.head_name.clone().unwrap_or_default();
                let id = new_id();
                insert_household(
                    conn,
                    NewHousehold {
                        id: &id,
                        area,
                        code: Some(code),
                        address: &address,
                        head_name: &head_name,
                        phone: first.phone.as_deref(),
                        broadband: Broadband::Unknown,
                        last_visited_on: None,
                        created_by: actor.user_id.as_deref(),
                        created_at: at,
                    },
                )?;
                if let Some(broadband) = rows
                    .iter()
                    .filter(|r| &r.household_code == code)
                    .find_map(|r| r.broadband)
                {
                    let event = Event {
                        kind: EventKind::Broadband,
                        value: broadband.as_str().to_owned(),
                        // The ward's day of the import, not the UTC date.
                        effective_on: crate::clock::clock().day_of(at.and_utc()),
                        issued_on: None,
                        expires_on: None,
                        correction: false,
                        received_at: at,
                    };
                    insert_event_row(conn, event_record(&new_id(), &id, None, actor), &event)?;
                    refresh_household(conn, &id)?;
                } else {
                    counters::sync_household(conn, &id)?;
                }
                id
            }
        };
        household_ids.insert(code.clone(), id);
    }
    for (done, (row, hash)) in new_rows.iter().enumerate() {
        let household_id = &household_ids[&row.household_code];
        let id = new_id();
        // The cached current statuses come from the row's own events, derived in memory:
        // no read-back per person.
        let events = row_events(row, at);
        let last4 = row.citizen_id.as_deref().map(citizen_id::last4);
        insert_resident(
            conn,
            NewResident {
                id: &id,
                household_id,
                full_name: &row.full_name,
                birth: row.birth,
                sex: &enum_text(&row.sex),
                relation_to_head: &enum_text(&row.relation),
                presence: "present",
                presence_since: None,
                consent: row.consent,
                citizen_id: hash.as_deref().zip(last4.as_deref()),
                status: CurrentStatus::from_events(&events, crate::status::today()),
                created_by: actor.user_id.as_deref(),
                created_at: at,
            },
        )?;
        crate::duplicates::detect_for(conn, &id)?;
        for event in &events {
            insert_event_row(
                conn,
                event_record(&new_id(), household_id, Some(&id), actor),
                event,
            )?;
        }
        counters::sync_resident(conn, &id)?;
        if row.relation == Relation::Head {
            // The register's head of household is the authority for the head's name.
            diesel::update(
                households::table
                    .find(household_id)
                    .filter(households::head_name.eq("")),
            )
            .set(households::head_name.eq(&row.full_name))
            .execute(conn)?;
        }
        progress(done + 1);
    }
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::RegisterImported,
            entity_id: None,
            area_id: Some(&area.id),
            changes: json!({
                "format": format.as_str(),
                "rows": outcome.rows,
                "households_created": outcome.households_created,
                "residents_created": outcome.residents_created,
                "events_created": outcome.events_created,
            }),
        },
    )?;
    Ok(outcome)
}

/// The e-ID and signature events a row carries.
fn row_events(row: &ImportRow, received_at: chrono::NaiveDateTime) -> Vec<Event> {
    let mut events = Vec::new();
    if let Some((level, since)) = row.eid {
        events.push(Event {
            kind: EventKind::Eid,
            value: level.as_str().to_owned(),
            effective_on: since,
            issued_on: None,
            expires_on: None,
            correction: false,
            received_at,
        });
    }
    if let Some((kind, since, expires)) = row.signature {
        let digital = kind == SignatureKind::Digital;
        events.push(Event {
            kind: EventKind::Signature,
            value: kind.as_str().to_owned(),
            effective_on: since,
            issued_on: digital.then_some(since),
            expires_on: expires.filter(|_| digital),
            correction: false,
            received_at,
        });
    }
    events
}

fn event_record<'a>(
    id: &'a str,
    household_id: &'a str,
    resident_id: Option<&'a str>,
    actor: &'a Actor,
) -> EventRecord<'a> {
    EventRecord {
        id,
        household_id,
        resident_id,
        visit_id: None,
        recorded_by: actor.user_id.as_deref(),
    }
}
