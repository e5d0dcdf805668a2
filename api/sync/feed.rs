//! The change feed phones pull from. Every synced row (households, residents, visits,
//! status events, assignment periods) carries `sync_seq`, stamped by database triggers on
//! every insert and update, whoever writes it (API, import, merge, erasure). A pull serves
//! only stamps below its snapshot's *horizon*, below which nothing can commit any more, so
//! a cursor can never pass a change that commits later:
//!
//! - PostgreSQL: stamps come from a sequence, which is not in commit order; no row is
//!   locked to make it so (every writer of the server would queue on it). Instead a
//!   writing transaction announces itself before drawing its stamp: a shared advisory lock
//!   whose key is at most its stamp, held until it ends (the trigger in the migration
//!   `no_hot_rows`). The horizon, read *before* the pull takes its snapshot, is the lowest
//!   announced key, or the sequence's last value plus one if lower. A transaction that
//!   announced itself before that read holds the horizon at or below its stamp; one that
//!   draws its stamp after it gets one above the last value read. A long transaction delays
//!   what pulls see, never loses it.
//! - SQLite: one writer at a time, so the clock row's next value is in commit order by
//!   construction; the horizon is the clock plus one.

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

#[derive(QueryableByName)]
struct Stamp {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

/// Every stamp below this is committed (or rolled back), and nothing can commit below it
/// any more. On PostgreSQL call it *before* the snapshot the pull reads in is taken (outside
/// its transaction); on SQLite inside it.
pub fn horizon(conn: &mut DbConnection) -> Result<i64, ApiError> {
    match conn {
        DbConnection::Postgresql(_) => {
            // Two statements, in this order: the sequence's last value first, then the
            // announcements. A writer that announces itself after the first read draws a
            // stamp above it; one that announced itself before the second read is seen
            // there. (In the other order a writer could announce itself between the two
            // reads and draw a stamp below the value read.) The trigger's key is at most its
            // stamp because the sequence hands out values one at a time (CACHE 1).
            let last: Stamp = diesel::sql_query("SELECT last_value + 1 AS value FROM sync_stamps")
                .get_result(conn)?;
            let announced: Option<Stamp> = diesel::sql_query(
                "SELECT MIN(((l.classid::bigint - 1398341632) << 32) | l.objid::bigint) AS value \
                   FROM pg_locks l \
                  WHERE l.locktype = 'advisory' AND l.objsubid = 2 \
                    AND l.classid::bigint BETWEEN 1398341632 AND 1398407167 \
                    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 HAVING COUNT(*) > 0",
            )
            .get_result(conn)
            .optional()?;
            Ok(announced.map_or(last.value, |a| a.value.min(last.value)))
        }
        DbConnection::Sqlite(_) => Ok(sync_clock::table
            .find(1)
            .select(sync_clock::value)
            .first::<i64>(conn)?
            + 1),
    }
}
