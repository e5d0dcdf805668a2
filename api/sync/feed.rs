//! The change feed phones pull from. Every synced row (households, residents, visits,
//! status events, assignment periods) carries `sync_seq`, stamped by database triggers from
//! the sync clock on every insert and update, whoever writes it (API, import, merge,
//! erasure). The clock's row stays locked from a transaction's first stamp until it ends,
//! so stamps are handed out in commit order: once a pull has seen a stamp, every smaller
//! stamp is already committed, and a cursor can never pass a change that commits later.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{households, residents, status_events, sync_clock, visits};

/// Stamps every record of a neighbourhood again, so that a volunteer just assigned to it
/// receives them on the next incremental pull. (The triggers restamp any updated row;
/// setting a column to itself is such an update.)
pub fn republish_area(conn: &mut DbConnection, area_id: &str) -> Result<(), ApiError> {
    let in_area = households::table
        .filter(households::area_id.eq(area_id))
        .select(households::id);
    diesel::update(households::table.filter(households::area_id.eq(area_id)))
        .set(households::sync_seq.eq(households::sync_seq))
        .execute(conn)?;
    diesel::update(residents::table.filter(residents::household_id.eq_any(in_area)))
        .set(residents::sync_seq.eq(residents::sync_seq))
        .execute(conn)?;
    diesel::update(visits::table.filter(visits::household_id.eq_any(in_area)))
        .set(visits::sync_seq.eq(visits::sync_seq))
        .execute(conn)?;
    diesel::update(status_events::table.filter(status_events::household_id.eq_any(in_area)))
        .set(status_events::sync_seq.eq(status_events::sync_seq))
        .execute(conn)?;
    Ok(())
}

/// The last stamp handed out.
pub fn clock(conn: &mut DbConnection) -> Result<i64, ApiError> {
    Ok(sync_clock::table
        .find(1)
        .select(sync_clock::value)
        .first(conn)?)
}
