//! Building counters again from the raw rows: `recount --repair`, the demo seed, bulk
//! loads. Run where no other fold runs at the same time for the same tree (the CLI takes
//! the fold lock by folding first, in the same transaction).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text};

use super::buckets::{add_to_buckets, append_to_log, buckets_of};
use super::fold::{buckets_changed, fold};
use super::pending::{group_spans, insert_spans_in_bulk, SpanRow};
use super::spans::{compute_spans, Span};
use super::{path_and_ancestors, prefix_end, Bucket, Deltas, Measure};
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::schema::{adoption_deltas, adoption_spans};

/// The spans stored for the subjects of one neighbourhood.
pub fn stored_spans_in(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<BTreeMap<String, (String, Vec<Span>)>, ApiError> {
    Ok(group_spans(
        adoption_spans::table
            .filter(adoption_spans::area_path.eq(neighbourhood_path))
            .select(SpanRow::as_select())
            .load(conn)?,
    ))
}

/// The non-zero folded buckets of one area.
fn folded_buckets_in(
    conn: &mut DbConnection,
    area_path: &str,
) -> Result<BTreeMap<Bucket, i64>, ApiError> {
    let rows: Vec<(String, String, NaiveDate, String, i64)> = adoption_deltas::table
        .filter(adoption_deltas::area_path.eq(area_path))
        .filter(adoption_deltas::delta.ne(0))
        .select((
            adoption_deltas::area_path,
            adoption_deltas::grain,
            adoption_deltas::period_start,
            adoption_deltas::measure,
            adoption_deltas::delta,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(path, grain, start, measure, delta)| {
            Some(((path, grain, start, Measure::parse(&measure)?), delta))
        })
        .collect())
}

#[derive(QueryableByName)]
struct HeldRow {
    #[diesel(sql_type = Text)]
    grain: String,
    #[diesel(sql_type = Date)]
    period_start: NaiveDate,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = BigInt)]
    delta: i64,
    #[diesel(sql_type = Integer)]
    pending: i32,
}

/// What the buckets of one neighbourhood hold: the folded ones plus its log rows not
/// folded yet, as if they were folded. Zeros left out. One statement, so a fold running
/// meanwhile cannot make a row count twice or not at all.
pub fn stored_buckets_in(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<BTreeMap<Bucket, i64>, ApiError> {
    let rows: Vec<HeldRow> = diesel::sql_query(
        "SELECT grain, period_start, measure, delta, 0 AS pending FROM adoption_deltas \
          WHERE area_path = $1 AND delta <> 0 \
         UNION ALL \
         SELECT 'day' AS grain, day AS period_start, measure, delta, 1 AS pending \
           FROM adoption_delta_log WHERE area_path = $1",
    )
    .bind::<Text, _>(neighbourhood_path)
    .load(conn)?;
    let mut held: BTreeMap<Bucket, i64> = BTreeMap::new();
    for row in rows {
        let Some(measure) = Measure::parse(&row.measure) else {
            continue;
        };
        let grains = if row.pending == 1 {
            buckets_of(row.period_start).to_vec()
        } else {
            vec![("", row.period_start)]
        };
        for (grain, start) in grains {
            let grain = if grain.is_empty() {
                row.grain.as_str()
            } else {
                grain
            };
            *held
                .entry((
                    neighbourhood_path.to_owned(),
                    grain.to_owned(),
                    start,
                    measure,
                ))
                .or_default() += row.delta;
        }
    }
    held.retain(|_, delta| *delta != 0);
    Ok(held)
}

/// Builds the counters of one neighbourhood again from the raw rows: its stored spans are
/// replaced by those its rows give, and its buckets are moved to what those spans imply;
/// the areas above it move by the same amounts, so they stay the sum of their
/// neighbourhoods.
pub fn rebuild_neighbourhood(
    conn: &mut DbConnection,
    neighbourhood_path: &str,
) -> Result<(), ApiError> {
    // Folding first takes the fold lock for this transaction (no fold runs meanwhile) and
    // leaves little in the log.
    fold(conn)?;
    let computed = compute_spans(conn, neighbourhood_path)?;
    let (deltas, rows) = computed.deltas_and_rows();
    let expected = deltas.buckets();
    let held = stored_buckets_in(conn, neighbourhood_path)?;
    // Month and year buckets follow from day buckets, so the difference is first put on
    // days, (expected − held) per day, which goes to the log like any write's.
    let mut by_day = Deltas::default();
    for ((path, grain, start, measure), delta) in &expected {
        if grain == "day" {
            by_day.add(path, *measure, *start, *delta);
        }
    }
    for ((path, grain, start, measure), delta) in &held {
        if grain == "day" {
            by_day.add(path, *measure, *start, -delta);
        }
    }
    // Month and year buckets that disagree with their days are put right directly, on
    // every level.
    let mut direct: BTreeMap<Bucket, i64> = BTreeMap::new();
    let days_expanded = by_day.buckets();
    let keys: std::collections::BTreeSet<&Bucket> = expected
        .keys()
        .chain(held.keys())
        .chain(days_expanded.keys())
        .collect();
    for key in keys {
        if key.1 == "day" {
            continue;
        }
        let wanted = expected.get(key).copied().unwrap_or(0) - held.get(key).copied().unwrap_or(0);
        let from_days = days_expanded.get(key).copied().unwrap_or(0);
        if wanted != from_days {
            for level in path_and_ancestors(&key.0) {
                *direct
                    .entry((level, key.1.clone(), key.2, key.3))
                    .or_default() += wanted - from_days;
            }
        }
    }
    diesel::delete(adoption_spans::table.filter(adoption_spans::area_path.eq(neighbourhood_path)))
        .execute(conn)?;
    insert_spans_in_bulk(conn, &rows)?;
    append_to_log(conn, &by_day)?;
    add_to_buckets(conn, &direct)?;
    buckets_changed(conn)
}

/// Builds every counter of a whole tree (a province) from the raw rows in bulk: spans and
/// buckets written in large statements, each area above summed in memory from its
/// neighbourhoods. For seeding and bulk loads into a tree nothing else is writing to.
pub fn rebuild_tree(
    conn: &mut DbConnection,
    root_path: &str,
    progress: &dyn Fn(usize, usize),
) -> Result<(), ApiError> {
    use crate::schema::adoption_delta_log as log;
    fold(conn)?;
    let pattern = format!("{root_path}%");
    let neighbourhoods = neighbourhood_paths_under(conn, root_path)?;
    diesel::delete(adoption_spans::table.filter(adoption_spans::area_path.like(&pattern)))
        .execute(conn)?;
    diesel::delete(adoption_deltas::table.filter(adoption_deltas::area_path.like(&pattern)))
        .execute(conn)?;
    diesel::delete(
        log::table
            .filter(log::area_path.ge(root_path))
            .filter(log::area_path.lt(prefix_end(root_path))),
    )
    .execute(conn)?;
    let mut above: BTreeMap<Bucket, i64> = BTreeMap::new();
    for (index, path) in neighbourhoods.iter().enumerate() {
        let computed = compute_spans(conn, path)?;
        let (deltas, rows) = computed.deltas_and_rows();
        insert_spans_in_bulk(conn, &rows)?;
        let buckets = deltas.buckets();
        for ((_, grain, start, measure), delta) in &buckets {
            for ancestor in path_and_ancestors(path).into_iter().filter(|a| a != path) {
                *above
                    .entry((ancestor, grain.clone(), *start, *measure))
                    .or_default() += delta;
            }
        }
        add_to_buckets(conn, &buckets)?;
        progress(index + 1, neighbourhoods.len());
    }
    add_to_buckets(conn, &above)?;
    buckets_changed(conn)
}

fn neighbourhood_paths_under(
    conn: &mut DbConnection,
    root_path: &str,
) -> Result<Vec<String>, ApiError> {
    use crate::schema::areas;
    Ok(areas::table
        .filter(areas::path.like(format!("{root_path}%")))
        .filter(areas::kind.eq("neighbourhood"))
        .select(areas::path)
        .order(areas::path)
        .load(conn)?)
}

/// Builds the folded buckets of an area above the neighbourhoods again as the sum of its
/// neighbourhoods' folded buckets (the log rows below it are added on read, as always).
pub fn rebuild_rollup(conn: &mut DbConnection, area_path: &str) -> Result<(), ApiError> {
    fold(conn)?;
    let mut sums: BTreeMap<Bucket, i64> = BTreeMap::new();
    for neighbourhood in neighbourhood_paths_under(conn, area_path)? {
        for ((_, grain, start, measure), delta) in folded_buckets_in(conn, &neighbourhood)? {
            *sums
                .entry((area_path.to_owned(), grain, start, measure))
                .or_default() += delta;
        }
    }
    diesel::delete(adoption_deltas::table.filter(adoption_deltas::area_path.eq(area_path)))
        .execute(conn)?;
    add_to_buckets(conn, &sums)?;
    buckets_changed(conn)
}
