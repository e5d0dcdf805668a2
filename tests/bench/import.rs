//! Benchmark: importing a 20,000-row household register (`cargo bench --bench import`).
//! Prints figures; asserts nothing about time (machines are shared and noisy). Runs on a
//! fresh SQLite file, and on PostgreSQL too when `BENCH_DATABASE_URL` names a server where
//! it may create a database.

use std::time::Instant;

use eid_adoption::areas::{insert_area, AreaKind, NewArea};
use eid_adoption::audit::Actor;
use eid_adoption::config::DatabaseLocation;
use eid_adoption::db::Db;
use eid_adoption::imports::read::Format;
use eid_adoption::imports::run::{parse, run};

const ROWS: usize = 20_000;

fn register(rows: usize) -> String {
    let mut text = String::from(
        "household_code,address,head_name,phone,broadband,full_name,birth_date,sex,relation_to_head,citizen_id,consent,eid_level,eid_since,signature,signature_since,signature_expires_on\n",
    );
    for n in 0..rows {
        let household = n / 3;
        let first = n % 3 == 0;
        let (address, head) = if first {
            (
                format!("\"Số {household}, đường Trần Phú\""),
                format!("Nguyễn Văn Chủ {household}"),
            )
        } else {
            (String::new(), String::new())
        };
        let relation = if first { "head" } else { "child" };
        text.push_str(&format!(
            "HK-{household:06},{address},{head},,yes,Nguyễn Thị Người {n},19{:02}-{:02}-{:02},{},{relation},038{:09},yes,level2,2025-03-01,{},{},{}\n",
            40 + n % 60,
            1 + n % 12,
            1 + n % 28,
            if n % 2 == 0 { "female" } else { "male" },
            n,
            if n % 4 == 0 { "digital" } else { "none" },
            if n % 4 == 0 { "2025-04-01" } else { "" },
            if n % 4 == 0 { "2027-03-31" } else { "" },
        ));
    }
    text
}

fn bench(label: &str, location: DatabaseLocation) {
    let db = Db::connect(&location, 2, eid_adoption::db::CommitMode::Each).expect("database");
    db.run_migrations().expect("migrations");
    let mut conn = db.writer_connection().expect("connection");
    let area = insert_area(
        &mut conn,
        NewArea {
            parent: None,
            kind: AreaKind::Province,
            code: "BENCH",
            name: "Bench",
            official_adult_population: None,
            official_household_count: None,
        },
    )
    .expect("area");
    // Households belong to a neighbourhood; a flat area is enough for the import itself.
    let file = register(ROWS);
    let key = b"bench-key-0123456789abcdef0123456789";
    let actor = Actor::default();

    let started = Instant::now();
    let (rows, problems) =
        parse(Format::Csv, file.as_bytes(), eid_adoption::clock::today()).expect("parse");
    let parsed = started.elapsed();
    assert!(problems.is_empty(), "{problems:?}");

    let mut timed = |dry_run: bool| {
        use diesel::Connection;
        let started = Instant::now();
        let outcome = conn
            .transaction(|c| {
                run(
                    c,
                    &area,
                    &rows,
                    Vec::new(),
                    dry_run,
                    key,
                    &actor,
                    Format::Csv,
                    &|_| {},
                )
            })
            .expect("import");
        (started.elapsed(), outcome)
    };
    let (dry, dry_outcome) = timed(true);
    let (first, first_outcome) = timed(false);
    let (second, second_outcome) = timed(false);
    assert_eq!(first_outcome.residents_created, ROWS);
    assert_eq!(second_outcome.residents_created, 0);
    assert_eq!(dry_outcome.residents_created, ROWS);
    println!(
        "{label:<10} {ROWS} rows | parse {:>7.2?} | dry run {:>7.2?} | import {:>7.2?} ({:.0} rows/s) | same file again {:>7.2?}",
        parsed,
        dry,
        first,
        ROWS as f64 / first.as_secs_f64(),
        second
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    bench(
        "sqlite",
        DatabaseLocation::SqliteFile(dir.path().join("bench.db")),
    );
    if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
        use diesel::{Connection, PgConnection, RunQueryDsl};
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
        );
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop database");
    }
}
