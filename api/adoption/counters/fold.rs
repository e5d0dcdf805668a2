//! The fold: moves the appended counter changes into the buckets of every level.
//!
//! One fold runs at a time (PostgreSQL: a transaction-scoped advisory lock; SQLite has one
//! writer). It deletes a batch of log rows and adds exactly the rows its `DELETE …
//! RETURNING` returned to the buckets of their neighbourhood and every area above, and
//! counts one more generation, all in one transaction: a reader's snapshot sees those rows
//! either in the log or in the buckets, never in both or neither. Rows of transactions
//! still running are invisible to the delete and are folded by a later round.

use std::time::Duration;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::buckets::add_to_buckets;
use super::{Deltas, Measure};
use crate::db::{Db, DbConnection};
use crate::problem::ApiError;

/// Log rows folded per transaction: a fold stays short (it holds SQLite's writer).
const BATCH: i64 = 20_000;

/// How often the server folds. Readers are exact whatever the delay; it only bounds how
/// many log rows a figure adds to its buckets.
const EVERY: Duration = Duration::from_millis(500);

/// PostgreSQL advisory lock key of the fold ("eid fold").
const FOLD_LOCK: i64 = 0x0065_6964_666f_6c64;

#[derive(QueryableByName)]
struct LogRow {
    #[diesel(sql_type = Text)]
    area_path: String,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    delta: i64,
}

/// Folds one batch of the log; returns how many rows it folded. Call it in a transaction.
pub fn fold(conn: &mut DbConnection) -> Result<usize, ApiError> {
    if matches!(conn, DbConnection::Postgresql(_)) {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({FOLD_LOCK})")).execute(conn)?;
    }
    let rows: Vec<LogRow> = diesel::sql_query(format!(
        "DELETE FROM adoption_delta_log WHERE id IN \
           (SELECT id FROM adoption_delta_log ORDER BY id LIMIT {BATCH}) \
         RETURNING area_path, measure, day, delta"
    ))
    .load(conn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut deltas = Deltas::default();
    for row in &rows {
        let measure = Measure::parse(&row.measure)
            .ok_or_else(|| ApiError::internal("unknown measure in the counter log"))?;
        deltas.add(&row.area_path, measure, row.day, row.delta);
    }
    add_to_buckets(conn, &deltas.buckets_with_ancestors())?;
    buckets_changed(conn)?;
    Ok(rows.len())
}

/// Counts one more generation of the folded buckets: whatever writes `adoption_deltas`
/// (the fold, the rebuilds) calls it in the same transaction, so figures' ETags move on.
pub(super) fn buckets_changed(conn: &mut DbConnection) -> Result<(), ApiError> {
    diesel::sql_query("UPDATE adoption_fold_state SET generation = generation + 1 WHERE id = 1")
        .execute(conn)?;
    Ok(())
}

/// Folds the whole log, a batch per transaction (CLI commands, tests, start-up).
pub fn fold_all(conn: &mut DbConnection) -> Result<usize, ApiError> {
    let mut total = 0;
    loop {
        let folded = conn.transaction(fold)?;
        total += folded;
        if folded < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Folds in the background until the process ends.
pub fn spawn_folder(db: Db) {
    actix_web::rt::spawn(async move {
        loop {
            // A read first: an idle server does not open a write every half second.
            let waiting = db.read(|conn| {
                use crate::schema::adoption_delta_log as log;
                let first: Option<i64> = log::table.select(log::id).first(conn).optional()?;
                Ok(first.is_some())
            });
            if !matches!(waiting.await, Ok(false)) {
                continue_folding(&db).await;
            }
            actix_web::rt::time::sleep(EVERY).await;
        }
    });
}

/// Folds batch after batch until the log holds less than a batch.
async fn continue_folding(db: &Db) {
    loop {
        match db.write(fold).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "folding the adoption counters failed");
                return;
            }
        }
    }
}
