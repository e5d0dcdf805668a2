//! Reads: the counts of an area on a day are its own folded buckets up to that day plus the
//! log rows not folded yet under its path, summed in one statement (one snapshot).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use sha2::{Digest, Sha256};

use super::buckets::{month_start, year_start};
use super::{plain, prefix_end, Measure};
use crate::adoption::Counts;
use crate::db::DbConnection;
use crate::problem::ApiError;

#[derive(QueryableByName)]
struct MeasureSum {
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The counts of an area (and everything below it) on `day`, from the counters.
pub fn counts_on(
    conn: &mut DbConnection,
    area_path: &str,
    day: NaiveDate,
) -> Result<Counts, ApiError> {
    // Three index ranges over (area_path, grain, period_start), and one over the log.
    let rows: Vec<MeasureSum> = diesel::sql_query(
        "SELECT measure, CAST(SUM(delta) AS BIGINT) AS total FROM ( \
            SELECT measure, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'year' AND period_start < $2 \
            UNION ALL SELECT measure, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'month' AND period_start >= $2 AND period_start < $3 \
            UNION ALL SELECT measure, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'day' AND period_start >= $3 AND period_start <= $4 \
            UNION ALL SELECT measure, delta FROM adoption_delta_log \
             WHERE area_path >= $1 AND area_path < $5 AND day <= $4 \
         ) AS buckets GROUP BY measure",
    )
    .bind::<Text, _>(area_path)
    .bind::<Date, _>(year_start(day))
    .bind::<Date, _>(month_start(day))
    .bind::<Date, _>(day)
    .bind::<Text, _>(prefix_end(area_path))
    .load(conn)?;
    let mut counts = Counts::default();
    for row in rows {
        if let Some(measure) = Measure::parse(&row.measure) {
            counts.add(measure, row.total);
        }
    }
    Ok(counts)
}

#[derive(QueryableByName)]
struct AreaMeasureSum {
    #[diesel(sql_type = Text)]
    area_path: String,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The counts on `day` of several areas, all below `parent_path` (the children of a
/// ranking), in one statement: their folded buckets, and the parent's log rows given to
/// the child each lies under.
pub fn counts_of_many(
    conn: &mut DbConnection,
    parent_path: &str,
    paths: &[String],
    day: NaiveDate,
) -> Result<BTreeMap<String, Counts>, ApiError> {
    let mut result: BTreeMap<String, Counts> = paths
        .iter()
        .map(|path| (path.clone(), Counts::default()))
        .collect();
    if paths.is_empty() {
        return Ok(result);
    }
    if !paths.iter().all(|p| plain(p) && p.starts_with(parent_path)) {
        return Err(ApiError::internal("unexpected characters in a path"));
    }
    let listed = paths
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<AreaMeasureSum> = diesel::sql_query(format!(
        "SELECT area_path, measure, CAST(SUM(delta) AS BIGINT) AS total FROM adoption_deltas \
          WHERE area_path IN ({listed}) AND ( \
                (grain = 'year' AND period_start < $1) \
             OR (grain = 'month' AND period_start >= $1 AND period_start < $2) \
             OR (grain = 'day' AND period_start >= $2 AND period_start <= $3)) \
          GROUP BY area_path, measure \
         UNION ALL \
         SELECT area_path, measure, CAST(SUM(delta) AS BIGINT) AS total FROM adoption_delta_log \
          WHERE area_path >= $4 AND area_path < $5 AND day <= $3 \
          GROUP BY area_path, measure"
    ))
    .bind::<Date, _>(year_start(day))
    .bind::<Date, _>(month_start(day))
    .bind::<Date, _>(day)
    .bind::<Text, _>(parent_path)
    .bind::<Text, _>(prefix_end(parent_path))
    .load(conn)?;
    for row in rows {
        let Some(measure) = Measure::parse(&row.measure) else {
            continue;
        };
        // A bucket row names the child itself; a log row names a neighbourhood below one.
        if let Some((_, counts)) = result
            .iter_mut()
            .find(|(path, _)| row.area_path.starts_with(path.as_str()))
        {
            counts.add(measure, row.total);
        }
    }
    Ok(result)
}

#[derive(QueryableByName)]
struct DaySum {
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = Date)]
    period_start: NaiveDate,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The counts of an area on each of `days` (ascending): the first from the buckets, the
/// rest by adding the day deltas in between, so a long series costs two queries.
pub fn counts_series(
    conn: &mut DbConnection,
    area_path: &str,
    days: &[NaiveDate],
) -> Result<Vec<Counts>, ApiError> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    let mut running = counts_on(conn, area_path, *first)?;
    let changes: Vec<DaySum> = diesel::sql_query(
        "SELECT measure, period_start, CAST(SUM(delta) AS BIGINT) AS total FROM ( \
            SELECT measure, period_start, delta FROM adoption_deltas \
             WHERE area_path = $1 AND grain = 'day' AND period_start > $2 AND period_start <= $3 \
            UNION ALL SELECT measure, day AS period_start, delta FROM adoption_delta_log \
             WHERE area_path >= $1 AND area_path < $4 AND day > $2 AND day <= $3 \
         ) AS changes GROUP BY measure, period_start ORDER BY period_start",
    )
    .bind::<Text, _>(area_path)
    .bind::<Date, _>(*first)
    .bind::<Date, _>(*last)
    .bind::<Text, _>(prefix_end(area_path))
    .load(conn)?;
    let mut changes = changes.into_iter().peekable();
    let mut series = Vec::with_capacity(days.len());
    for day in days {
        while let Some(change) = changes.next_if(|c| c.period_start <= *day) {
            if let Some(measure) = Measure::parse(&change.measure) {
                running.add(measure, change.total);
            }
        }
        series.push(running);
    }
    Ok(series)
}

#[derive(QueryableByName)]
struct Stamps {
    #[diesel(sql_type = BigInt)]
    households: i64,
    #[diesel(sql_type = BigInt)]
    residents: i64,
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = BigInt)]
    locations: i64,
}

#[derive(QueryableByName)]
struct Inputs {
    #[diesel(sql_type = BigInt)]
    generation: i64,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    targets: i64,
    #[diesel(sql_type = Text)]
    targets_changed: String,
    #[diesel(sql_type = BigInt)]
    children: i64,
    #[diesel(sql_type = Text)]
    areas_changed: String,
}

/// A tag that changes whenever the figures of the area at `area_path` (or of its children)
/// can change: the folds run so far, the log rows waiting below the area (between two
/// folds they are only ever added), the targets and the area rows involved. `extra` is the
/// rest of what the answer depends on (day, query). Read it *before* the figures: a change
/// between the two then costs one more full answer, never a stale 304.
pub fn figures_tag(
    conn: &mut DbConnection,
    area: &crate::areas::Area,
    extra: &str,
) -> Result<String, ApiError> {
    let (area_id, area_path) = (area.id.as_str(), area.path.as_str());
    let inputs: Inputs = diesel::sql_query(
        "SELECT \
           (SELECT generation FROM adoption_fold_state WHERE id = 1) AS generation, \
           (SELECT COUNT(*) FROM adoption_delta_log WHERE area_path >= $1 AND area_path < $2) AS pending, \
           (SELECT COUNT(*) FROM targets) AS targets, \
           (SELECT COALESCE(CAST(MAX(updated_at) AS TEXT), '') FROM targets) AS targets_changed, \
           (SELECT COUNT(*) FROM areas WHERE parent_id = $3) AS children, \
           (SELECT COALESCE(CAST(MAX(updated_at) AS TEXT), '') FROM areas \
             WHERE id = $3 OR parent_id = $3) AS areas_changed",
    )
    .bind::<Text, _>(area_path)
    .bind::<Text, _>(prefix_end(area_path))
    .bind::<Text, _>(area_id)
    .get_result(conn)?;
    let mut hasher = Sha256::new();
    if area.is_ended() {
        // An ended area is counted from the raw rows of households now elsewhere: any
        // change to them restamps a row, so the highest stamps move with its figures.
        let stamps: Stamps = diesel::sql_query(
            "SELECT \
               (SELECT COALESCE(MAX(sync_seq), 0) FROM households) AS households, \
               (SELECT COALESCE(MAX(sync_seq), 0) FROM residents) AS residents, \
               (SELECT COALESCE(MAX(sync_seq), 0) FROM status_events) AS events, \
               (SELECT COUNT(*) FROM household_locations) AS locations",
        )
        .get_result(conn)?;
        hasher.update(format!(
            "ended|{}|{}|{}|{}|",
            stamps.households, stamps.residents, stamps.events, stamps.locations
        ));
    }
    hasher.update(format!(
        "{}|{}|{}|{}|{}|{}|{area_path}|{extra}",
        inputs.generation,
        inputs.pending,
        inputs.targets,
        inputs.targets_changed,
        inputs.children,
        inputs.areas_changed
    ));
    let digest = hasher.finalize();
    Ok(format!(
        "\"f-{}\"",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}
