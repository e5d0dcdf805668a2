//! `eid-adoption recount [--area CODE] [--repair]`: recomputes every neighbourhood's figures
//! from the raw rows and compares them with the counters the API serves, three ways:
//! - each person's and household's stored spans against spans computed afresh;
//! - the stored day/month/year deltas against those the stored spans imply;
//! - the served counts against a direct recount (`recount_neighbourhood`, which applies the
//!   rules to every person without spans) on today and on the last day of each of the
//!   previous twelve months.
//!
//! The first two together make the counters exact on every day; the third checks the
//! spans against the rules themselves.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use super::counters::{
    compute_spans, counts_on, rebuild_neighbourhood, rebuild_rollup, stored_buckets_in,
    stored_spans_in, Deltas,
};
use super::{neighbourhoods_with_households, recount_neighbourhood, Counts};
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::areas;

/// One difference found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A subject whose stored spans are not those its rows give.
    Spans {
        neighbourhood: String,
        subject: String,
    },
    /// A delta bucket that disagrees with the stored spans.
    Bucket {
        neighbourhood: String,
        bucket: String,
        stored: i64,
        expected: i64,
    },
    /// An area above the neighbourhoods whose count is not the sum of theirs.
    Rollup {
        area: String,
        day: NaiveDate,
        measure: &'static str,
        served: i64,
        sum_of_neighbourhoods: i64,
    },
    /// A served count that disagrees with the recount.
    Count {
        neighbourhood: String,
        day: NaiveDate,
        measure: &'static str,
        served: i64,
        recounted: i64,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Spans {
                neighbourhood,
                subject,
            } => write!(
                f,
                "{neighbourhood}: stored spans of {subject} differ from its rows"
            ),
            Difference::Bucket {
                neighbourhood,
                bucket,
                stored,
                expected,
            } => write!(
                f,
                "{neighbourhood}: bucket {bucket} holds {stored}, its spans give {expected}"
            ),
            Difference::Rollup {
                area,
                day,
                measure,
                served,
                sum_of_neighbourhoods,
            } => write!(
                f,
                "{area}: {measure} on {day}: served {served}, its neighbourhoods add up to {sum_of_neighbourhoods}"
            ),
            Difference::Count {
                neighbourhood,
                day,
                measure,
                served,
                recounted,
            } => write!(
                f,
                "{neighbourhood}: {measure} on {day}: served {served}, recount {recounted}"
            ),
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub neighbourhoods: usize,
    pub subjects: usize,
    pub days: Vec<NaiveDate>,
    pub differences: Vec<Difference>,
    pub repaired: usize,
}

/// Today and the last day of each of the twelve months before it.
pub fn check_days(today: NaiveDate) -> Vec<NaiveDate> {
    let mut days = vec![today];
    let mut month_start = today.with_day(1).unwrap_or(today);
    for _ in 0..12 {
        if let Some(last) = month_start.pred_opt() {
            days.push(last);
            month_start = last.with_day(1).unwrap_or(last);
        }
    }
    days.reverse();
    days
}

fn pairs(counts: &Counts) -> [(&'static str, i64); 5] {
    [
        ("adults", counts.adults),
        ("eid", counts.adults_with_eid),
        ("signature", counts.adults_with_signature),
        ("households", counts.households),
        ("fibre", counts.households_with_fibre),
    ]
}

/// Checks one neighbourhood; returns its subject count and differences.
pub fn check_neighbourhood(
    conn: &mut DbConnection,
    path: &str,
    days: &[NaiveDate],
) -> Result<(usize, Vec<Difference>, Vec<Counts>), ApiError> {
    // Named by code in the report; a path is unreadable.
    let label: String = areas::table
        .filter(areas::path.eq(path))
        .select(areas::code)
        .first(conn)
        .optional()?
        .unwrap_or_else(|| path.to_owned());
    let mut differences = Vec::new();
    let computed = compute_spans(conn, path)?.by_subject;
    let stored = stored_spans_in(conn, path)?;
    let subjects: BTreeSet<&String> = computed.keys().chain(stored.keys()).collect();
    for subject in &subjects {
        if computed.get(*subject) != stored.get(*subject) {
            differences.push(Difference::Spans {
                neighbourhood: label.clone(),
                subject: (*subject).clone(),
            });
        }
    }
    let mut implied = Deltas::default();
    for (subject_path, spans) in stored.values() {
        implied.add_spans(subject_path, spans, 1);
    }
    let expected = implied.buckets();
    let held = stored_buckets_in(conn, path)?;
    let buckets: BTreeSet<_> = expected.keys().chain(held.keys()).collect();
    for bucket in buckets {
        let (stored_delta, expected_delta) = (
            held.get(bucket).copied().unwrap_or(0),
            expected.get(bucket).copied().unwrap_or(0),
        );
        if stored_delta != expected_delta {
            differences.push(Difference::Bucket {
                neighbourhood: label.clone(),
                bucket: format!("{} {} {}", bucket.1, bucket.2, bucket.3.as_str()),
                stored: stored_delta,
                expected: expected_delta,
            });
        }
    }
    let recounted = recount_neighbourhood(conn, path, days)?;
    let mut all_served = Vec::with_capacity(days.len());
    for (day, recount) in days.iter().zip(recounted) {
        let served = counts_on(conn, path, *day)?;
        all_served.push(served);
        for ((measure, served), (_, recounted)) in pairs(&served).into_iter().zip(pairs(&recount)) {
            if served != recounted {
                differences.push(Difference::Count {
                    neighbourhood: label.clone(),
                    day: *day,
                    measure,
                    served,
                    recounted,
                });
            }
        }
    }
    Ok((subjects.len(), differences, all_served))
}

/// Checks every neighbourhood under `area_path` (each in its own transaction through
/// `run`), repairing those with differences when asked.
pub fn check_all(
    conn: &mut DbConnection,
    area_path: &str,
    today: NaiveDate,
    repair: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<Report, ApiError> {
    let days = check_days(today);
    let paths = neighbourhoods_with_households(conn, area_path)?;
    let mut report = Report {
        days: days.clone(),
        ..Report::default()
    };
    let mut served: BTreeMap<String, Vec<Counts>> = BTreeMap::new();
    for (index, path) in paths.iter().enumerate() {
        let (subjects, differences, counts) = check_neighbourhood(conn, path, &days)?;
        report.neighbourhoods += 1;
        report.subjects += subjects;
        if !differences.is_empty() && repair {
            rebuild_neighbourhood(conn, path)?;
            report.repaired += 1;
        }
        report.differences.extend(differences);
        served.insert(path.clone(), counts);
        progress(index + 1, paths.len());
    }
    // The areas above: each must be the sum of its neighbourhoods (already checked above
    // against the recount).
    let above: Vec<(String, String)> = areas::table
        .filter(areas::path.like(format!("{area_path}%")))
        .filter(areas::kind.ne("neighbourhood"))
        .select((areas::path, areas::code))
        .load(conn)?;
    for (path, code) in above {
        let mut sums = vec![Counts::default(); days.len()];
        for (_, counts) in served
            .range(path.clone()..)
            .take_while(|(p, _)| p.starts_with(&path))
        {
            for (sum, counts) in sums.iter_mut().zip(counts) {
                *sum += *counts;
            }
        }
        let mut wrong = false;
        for (day, sum) in days.iter().zip(&sums) {
            let held = counts_on(conn, &path, *day)?;
            for ((measure, held), (_, sum)) in pairs(&held).into_iter().zip(pairs(sum)) {
                if held != sum {
                    wrong = true;
                    report.differences.push(Difference::Rollup {
                        area: code.clone(),
                        day: *day,
                        measure,
                        served: held,
                        sum_of_neighbourhoods: sum,
                    });
                }
            }
        }
        if (wrong || report.repaired > 0) && repair {
            rebuild_rollup(conn, &path)?;
        }
    }
    Ok(report)
}
