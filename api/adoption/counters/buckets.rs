//! Deltas and buckets: count changes per neighbourhood and day, and the stored buckets
//! (per area, grain, period and measure) the fold adds them to.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::spans::Span;
use super::{plain, Measure};
use crate::db::DbConnection;
use crate::problem::ApiError;

/// Count changes per (neighbourhood path, measure, day).
#[derive(Default, Debug, Clone)]
pub struct Deltas(pub(super) BTreeMap<(String, Measure, NaiveDate), i64>);

/// A stored bucket of deltas: area path, grain, period start, measure.
pub type Bucket = (String, String, NaiveDate, Measure);

impl Deltas {
    pub fn add_spans(&mut self, area_path: &str, spans: &[Span], sign: i64) {
        for span in spans {
            self.add(area_path, span.measure, span.starts_on, sign);
            if let Some(ends_on) = span.ends_on {
                self.add(area_path, span.measure, ends_on, -sign);
            }
        }
    }

    pub fn add(&mut self, area_path: &str, measure: Measure, day: NaiveDate, delta: i64) {
        *self
            .0
            .entry((area_path.to_owned(), measure, day))
            .or_default() += delta;
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(|delta| *delta == 0)
    }

    /// The non-zero changes per (neighbourhood, measure, day).
    pub fn changes(&self) -> impl Iterator<Item = (&(String, Measure, NaiveDate), i64)> {
        self.0
            .iter()
            .filter(|(_, delta)| **delta != 0)
            .map(|(key, delta)| (key, *delta))
    }

    /// The changes per stored bucket (area path, grain, period start, measure) of the
    /// neighbourhoods themselves, zeros left out.
    pub fn buckets(&self) -> BTreeMap<Bucket, i64> {
        self.buckets_up_to(false)
    }

    /// The same for the neighbourhoods and every area above them: what a fold adds.
    pub fn buckets_with_ancestors(&self) -> BTreeMap<Bucket, i64> {
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

pub(super) fn year_start(day: NaiveDate) -> NaiveDate {
    day.with_ordinal(1).unwrap_or(day)
}

pub(super) fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

pub(super) fn buckets_of(day: NaiveDate) -> [(&'static str, NaiveDate); 3] {
    [
        ("day", day),
        ("month", month_start(day)),
        ("year", year_start(day)),
    ]
}

/// Adds amounts to stored buckets, many per statement, creating the missing ones. The keys
/// come sorted (a `BTreeMap`), so two transactions doing this lock rows in one order; in
/// practice only the fold and the CLI's rebuilds write buckets. The values are paths,
/// grains, dates, measures and integers, checked, so writing them into the SQL text cannot
/// inject anything.
pub(super) fn add_to_buckets(
    conn: &mut DbConnection,
    amounts: &BTreeMap<Bucket, i64>,
) -> Result<(), ApiError> {
    use diesel::connection::SimpleConnection;
    let rows: Vec<(&Bucket, &i64)> = amounts.iter().filter(|(_, d)| **d != 0).collect();
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
            "INSERT INTO adoption_deltas (area_path, grain, period_start, measure, delta) VALUES {} \
             ON CONFLICT (area_path, grain, period_start, measure) \
             DO UPDATE SET delta = adoption_deltas.delta + excluded.delta",
            values.join(",")
        ))?;
    }
    Ok(())
}

/// Appends changes to the log the fold reads: one statement per 500 rows. A writer's only
/// counter write, and an insert: it locks nothing another writer needs.
pub(super) fn append_to_log(conn: &mut DbConnection, deltas: &Deltas) -> Result<(), ApiError> {
    use diesel::connection::SimpleConnection;
    let rows: Vec<_> = deltas.changes().collect();
    for chunk in rows.chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for ((path, measure, day), delta) in chunk {
            if !plain(path) {
                return Err(ApiError::internal("unexpected characters in a path"));
            }
            values.push(format!(
                "('{path}', '{}', '{day}', {delta})",
                measure.as_str()
            ));
        }
        conn.batch_execute(&format!(
            "INSERT INTO adoption_delta_log (area_path, measure, day, delta) VALUES {}",
            values.join(",")
        ))?;
    }
    Ok(())
}
