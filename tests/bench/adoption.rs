//! Benchmark: adoption figures of a ward and of a province-sized tree, and a full recount
//! (`cargo bench --bench adoption`). Prints figures; asserts only that the numbers agree.
//!
//! The tree: one province, `BENCH_DISTRICTS` districts (default 10) of 50 wards each, 10
//! neighbourhoods per ward, 200 households of 3 people per neighbourhood: 500 wards and
//! 3,000,000 residents by default, with e-ID, signature (some expired) and fibre events
//! spread over 2023–2026. Runs on a SQLite file; on PostgreSQL too when
//! `BENCH_DATABASE_URL` names a server where it may create a database.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use diesel::connection::SimpleConnection;
use diesel::Connection;

use eid_adoption::adoption::check::check_all;
use eid_adoption::adoption::children::{ranked_children, RankBy};
use eid_adoption::adoption::counters::{counts_series, rebuild_tree};
use eid_adoption::adoption::figures::figures_of;
use eid_adoption::adoption::recount;
use eid_adoption::areas::{insert_area, Area, AreaKind, NewArea};
use eid_adoption::config::DatabaseLocation;
use eid_adoption::db::{Db, DbConnection};

const WARDS_PER_DISTRICT: usize = 50;
const NEIGHBOURHOODS_PER_WARD: usize = 10;
const HOUSEHOLDS_PER_NEIGHBOURHOOD: usize = 200;
const PEOPLE_PER_HOUSEHOLD: usize = 3;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn day(&mut self, from: NaiveDate, days: u64) -> NaiveDate {
        from + Days::new(self.below(days))
    }
}

fn area(conn: &mut DbConnection, parent: Option<&Area>, kind: AreaKind, code: &str) -> Area {
    insert_area(
        conn,
        NewArea {
            parent,
            kind,
            code,
            name: code,
            official_adult_population: None,
            official_household_count: None,
        },
    )
    .expect("area")
}

/// Writes one neighbourhood's households, people and events as multi-row inserts.
fn populate(conn: &mut DbConnection, neighbourhood: &Area, rng: &mut Rng) {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let mut homes = Vec::new();
    let mut people = Vec::new();
    let mut events = Vec::new();
    for _ in 0..HOUSEHOLDS_PER_NEIGHBOURHOOD {
        let home = uuid::Uuid::now_v7().to_string();
        homes.push(format!(
            "('{home}', '{}', '{}', 'Số 1', 'Chủ hộ', 'so 1 chu ho', '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
            neighbourhood.id, neighbourhood.path
        ));
        if rng.below(100) < 85 {
            let value = if rng.below(100) < 90 { "yes" } else { "no" };
            events.push(format!(
                "('{}', '{home}', NULL, 'broadband', '{value}', '{}', NULL, NULL, '2025-01-01 00:00:00')",
                uuid::Uuid::now_v7(),
                rng.day(start, 1400)
            ));
        }
        for _ in 0..PEOPLE_PER_HOUSEHOLD {
            let person = uuid::Uuid::now_v7().to_string();
            let born = rng.day(NaiveDate::from_ymd_opt(1935, 1, 1).unwrap(), 27_000);
            let adult = born.checked_add_months(chrono::Months::new(216)).unwrap();
            let presence = if rng.below(100) < 4 {
                format!("'moved_away', '{}'", rng.day(start, 1400))
            } else {
                "'present', NULL".to_owned()
            };
            people.push(format!(
                "('{person}', '{home}', 'Người', 'nguoi', {}, {}, {}, '{born}', FALSE, '{adult}', '{}', 'other', {presence}, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
                chrono::Datelike::year(&born),
                chrono::Datelike::month(&born),
                chrono::Datelike::day(&born),
                if rng.below(2) == 0 { "male" } else { "female" }
            ));
            if rng.below(100) < 75 {
                let level = ["level1", "level2", "level2_pending"][rng.below(3) as usize];
                events.push(format!(
                    "('{}', '{home}', '{person}', 'eid', '{level}', '{}', NULL, NULL, '2025-01-01 00:00:00')",
                    uuid::Uuid::now_v7(),
                    rng.day(start, 1400)
                ));
            }
            if rng.below(100) < 45 {
                let on = rng.day(start, 1400);
                let (value, issued, expires) = if rng.below(2) == 0 {
                    ("electronic", "NULL".to_owned(), "NULL".to_owned())
                } else {
                    (
                        "digital",
                        format!("'{on}'"),
                        format!("'{}'", on + Days::new(365 + rng.below(730))),
                    )
                };
                events.push(format!(
                    "('{}', '{home}', '{person}', 'signature', '{value}', '{on}', {issued}, {expires}, '2025-01-01 00:00:00')",
                    uuid::Uuid::now_v7()
                ));
            }
        }
    }
    let insert = |conn: &mut DbConnection, head: &str, rows: &[String]| {
        for chunk in rows.chunks(500) {
            conn.batch_execute(&format!("{head} VALUES {}", chunk.join(",")))
                .expect("insert");
        }
    };
    insert(conn, "INSERT INTO households (id, area_id, area_path, address, head_name, search_text, created_at, updated_at)", &homes);
    insert(conn, "INSERT INTO residents (id, household_id, full_name, search_text, birth_year, birth_month, birth_day, birth_date, birth_date_estimated, adult_on, sex, relation_to_head, presence, presence_since, created_at, updated_at)", &people);
    insert(conn, "INSERT INTO status_events (id, household_id, resident_id, kind, value, effective_on, issued_on, expires_on, received_at)", &events);
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn timed<T>(runs: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(work());
        times.push(started.elapsed());
    }
    (median(times), last.unwrap())
}

fn bench(label: &str, location: DatabaseLocation, districts: usize) {
    let db = Db::connect(&location, 2, eid_adoption::db::CommitMode::Each).expect("database");
    db.run_migrations().expect("migrations");
    let mut conn = db.writer_connection().expect("connection");
    let conn = &mut *conn;
    let mut rng = Rng(2026);
    let started = Instant::now();
    let province = area(conn, None, AreaKind::Province, "BP");
    let mut wards = Vec::new();
    let mut neighbourhoods = Vec::new();
    for d in 0..districts {
        let district = area(
            conn,
            Some(&province),
            AreaKind::District,
            &format!("BP-{d:02}"),
        );
        for w in 0..WARDS_PER_DISTRICT {
            let ward = area(
                conn,
                Some(&district),
                AreaKind::Ward,
                &format!("BP-{d:02}-{w:02}"),
            );
            for n in 0..NEIGHBOURHOODS_PER_WARD {
                let code = format!("BP-{d:02}-{w:02}-{n:02}");
                neighbourhoods.push(area(conn, Some(&ward), AreaKind::Neighbourhood, &code));
            }
            wards.push(ward);
        }
    }
    for chunk in neighbourhoods.chunks(NEIGHBOURHOODS_PER_WARD * 10) {
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            for neighbourhood in chunk {
                populate(conn, neighbourhood, &mut rng);
            }
            Ok(())
        })
        .expect("populate");
    }
    let generated = started.elapsed();
    let started = Instant::now();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        rebuild_tree(conn, &province.path, &|_, _| {}).expect("counters");
        Ok(())
    })
    .expect("counters");
    let counted = started.elapsed();
    let residents = neighbourhoods.len() * HOUSEHOLDS_PER_NEIGHBOURHOOD * PEOPLE_PER_HOUSEHOLD;
    println!(
        "{label:<9} {} wards, {} neighbourhoods, {residents} residents | generated in {generated:.1?} | counters built in {counted:.1?}",
        wards.len(),
        neighbourhoods.len()
    );

    let today = eid_adoption::status::today();
    let ward = &wards[wards.len() / 2];
    let (ward_time, ward_figures) = timed(21, || figures_of(conn, ward, today, 28).unwrap());
    let (past_time, _) = timed(21, || {
        figures_of(
            conn,
            ward,
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            28,
        )
        .unwrap()
    });
    let (province_time, province_figures) =
        timed(5, || figures_of(conn, &province, today, 28).unwrap());
    let (children_time, _) = timed(3, || {
        ranked_children(conn, &province, today, 28, RankBy::EidRate, None).unwrap()
    });
    let weeks: Vec<NaiveDate> = (0..26).rev().map(|w| today - Days::new(7 * w)).collect();
    let (series_time, _) = timed(3, || counts_series(conn, &province.path, &weeks).unwrap());
    println!(
        "{label:<9} figures of a ward {ward_time:.2?} (on a past day {past_time:.2?}) | of the province {province_time:.2?} | province children {children_time:.2?} | province 26-week series {series_time:.2?}"
    );
    // The figures served equal a recount of the raw rows.
    let (recount_ward_time, ward_recount) = timed(3, || recount(conn, ward, today).unwrap());
    assert_eq!(
        ward_figures.indicators[0].count,
        ward_recount.adults_with_eid
    );
    assert_eq!(
        ward_figures.indicators[0].recorded_denominator,
        ward_recount.adults
    );
    let started = Instant::now();
    let report = check_all(conn, &province.path, today, false, &|_, _| {}).unwrap();
    let full = started.elapsed();
    assert!(
        report.differences.is_empty(),
        "{:?}",
        &report.differences[..3.min(report.differences.len())]
    );
    println!(
        "{label:<9} recount of a ward (scan) {recount_ward_time:.2?} | full recount of the province ({} subjects, {} days each): {full:.1?}, no difference | province e-ID {} of {} adults",
        report.subjects,
        report.days.len(),
        province_figures.indicators[0].count,
        province_figures.indicators[0].recorded_denominator
    );
}

fn main() {
    let districts: usize = std::env::var("BENCH_DISTRICTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("temp dir");
    // `BENCH_SQLITE_FILE` keeps the generated database for a closer look.
    let file = std::env::var("BENCH_SQLITE_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("bench.db"));
    bench("sqlite", DatabaseLocation::SqliteFile(file), districts);
    if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
        use diesel::{PgConnection, RunQueryDsl};
        let name = format!("eid_bench_{}", std::process::id());
        let mut admin = PgConnection::establish(&admin_url).expect("BENCH_DATABASE_URL");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .expect("create database");
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        bench(
            "postgres",
            DatabaseLocation::Postgres(format!("{base}/{name}")),
            districts,
        );
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop database");
    }
}
