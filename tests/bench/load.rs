//! Load benchmark (`cargo bench --bench load`): starts the release server as its own
//! process on a fresh database and measures, in one run, `GET /healthz` and then each
//! request the scale work is about, every figure printed as a ratio to that run's
//! `/healthz` rate, with p50/p99 latency:
//! - `GET /areas/{ward}/adoption` as an official, and the same with `If-None-Match` (304);
//! - `GET /areas/{ward}/adoption/children`;
//! - `POST /visits` (one visit with one e-ID event), one client;
//! - a push of 200 mutations (visits with one event), one phone, and 1 against 8 phones
//!   pushing at once in 8 neighbourhoods;
//! - on PostgreSQL, lock waits sampled from `pg_locks` every 10 ms during the 8-phone run.
//!
//! SQLite always; PostgreSQL too when `BENCH_DATABASE_URL` names a server where it may
//! create a database. `BENCH_SECONDS` (default 3) sets each rate measurement's length.
//! Prints figures; asserts only that the work was done (shared, noisy machines).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eid_adoption::areas::{insert_area, AreaKind, NewArea};
use eid_adoption::auth::password::hash_password_blocking;
use eid_adoption::auth::Role;
use eid_adoption::config::Settings;
use eid_adoption::i18n::Lang;
use eid_adoption::state::AppState;
use eid_adoption::users::{insert_account, replace_assignments, NewAccount};
use serde_json::{json, Value};

const VOLUNTEERS: usize = 8;
const PASSWORD: &str = "bench password for everyone";
const APP_VERSION: &str = "1.4.0";
const PUSH_SIZE: usize = 200;
const PUSHES: usize = 3;
const RESIDENTS: usize = 40;
/// Requests in flight for the rate measurements.
const CONCURRENCY: usize = 16;
const JWT_SECRET: &str = "bench-signing-key-0123456789abcdef-0123456789";
const CITIZEN_KEY: &str = "bench-citizen-id-key-0123456789abcdef-0123";

fn settings(database_url: &str) -> Settings {
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("EID_JWT_SECRET", JWT_SECRET),
        ("EID_CITIZEN_ID_KEY", CITIZEN_KEY),
        ("EID_DIGEST_SCHEDULE", "off"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Settings::from_vars(&vars).expect("settings")
}

/// A province, town and ward with eight neighbourhoods, a volunteer in each and an
/// official of the ward. Returns the ward's id.
fn seed(state: &AppState) -> String {
    let mut conn = state.db.writer_connection().expect("connection");
    let conn = &mut *conn;
    let mut parent = None;
    for (kind, code) in [
        (AreaKind::Province, "LP"),
        (AreaKind::Town, "LP-T"),
        (AreaKind::Ward, "LP-T-W"),
    ] {
        let area = insert_area(
            conn,
            NewArea {
                parent: parent.as_ref(),
                kind,
                code,
                name: code,
                official_adult_population: Some(5000),
                official_household_count: None,
            },
        )
        .expect("area");
        parent = Some(area);
    }
    let ward = parent.expect("ward");
    let hash = hash_password_blocking(PASSWORD).expect("hash");
    insert_account(
        conn,
        NewAccount {
            email: Some("official@bench.local"),
            phone: None,
            name: "Cán bộ phường",
            role: Role::Official,
            area_id: Some(&ward.id),
            password_hash: &hash,
            language: Lang::Vi,
            active: true,
        },
    )
    .expect("official");
    for n in 0..VOLUNTEERS {
        let code = format!("LP-T-W-{n}");
        let neighbourhood = insert_area(
            conn,
            NewArea {
                parent: Some(&ward),
                kind: AreaKind::Neighbourhood,
                code: &code,
                name: &code,
                official_adult_population: None,
                official_household_count: None,
            },
        )
        .expect("neighbourhood");
        let email = format!("volunteer-{n}@bench.local");
        let volunteer = insert_account(
            conn,
            NewAccount {
                email: Some(&email),
                phone: None,
                name: "Tình nguyện viên",
                role: Role::Volunteer,
                area_id: Some(&neighbourhood.id),
                password_hash: &hash,
                language: Lang::Vi,
                active: true,
            },
        )
        .expect("volunteer");
        replace_assignments(conn, &volunteer, std::slice::from_ref(&neighbourhood))
            .expect("assign");
    }
    ward.id
}

/// The release binary, serving the database on a free port.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(database_url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_eid-adoption"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("EID_JWT_SECRET", JWT_SECRET)
        .env("EID_CITIZEN_ID_KEY", CITIZEN_KEY)
        .env("EID_DIGEST_SCHEDULE", "off")
        .env("EID_MAIL_DIR", std::env::temp_dir().join("eid-load-mail"))
        .env("RUST_LOG", "warn")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the server");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok()
        {
            return server;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    login["access_token"].as_str().expect("token").to_owned()
}

struct Volunteer {
    token: String,
    household: String,
    residents: Vec<String>,
    next: std::cell::Cell<usize>,
}

async fn volunteer(client: &reqwest::Client, base: &str, n: usize) -> Volunteer {
    let token = login(client, base, &format!("volunteer-{n}@bench.local")).await;
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("me body");
    let area = me["assignments"][0]["id"]
        .as_str()
        .or(me["area_id"].as_str())
        .expect("assignment")
        .to_owned();
    let household: Value = client
        .post(format!("{base}/api/v1/households"))
        .bearer_auth(&token)
        .json(&json!({"area_id": area, "address": "Số 1", "head_name": "Chủ hộ"}))
        .send()
        .await
        .expect("household")
        .json()
        .await
        .expect("household body");
    let household = household["id"].as_str().expect("household id").to_owned();
    let mut residents = Vec::new();
    for r in 0..RESIDENTS {
        let resident: Value = client
            .post(format!("{base}/api/v1/households/{household}/residents"))
            .bearer_auth(&token)
            .json(
                &json!({"full_name": format!("Người lớn {r}"), "birth_date": "1970-01-01",
                          "sex": "female", "relation_to_head": "other"}),
            )
            .send()
            .await
            .expect("resident")
            .json()
            .await
            .expect("resident body");
        residents.push(resident["id"].as_str().expect("resident id").to_owned());
    }
    Volunteer {
        token,
        household,
        residents,
        next: std::cell::Cell::new(0),
    }
}

fn visit(volunteer: &Volunteer) -> Value {
    let n = volunteer.next.get();
    volunteer.next.set(n + 1);
    let resident = &volunteer.residents[n % volunteer.residents.len()];
    let level = if n % 2 == 0 { "level1" } else { "level2" };
    json!({
        "household_id": volunteer.household,
        "visited_at": chrono::Utc::now().to_rfc3339(),
        "outcome": "helped",
        "events": [{"kind": "eid", "resident_id": resident, "value": level,
                    "effective_on": eid_adoption::clock::today()}]
    })
}

/// Requests per second and latencies of a request, `concurrency` in flight.
struct Rate {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn rate<F, Fut>(length: Duration, concurrency: usize, request: F) -> Rate
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let started = Instant::now();
    let runs = (0..concurrency).map(|_| async {
        let mut latencies = Vec::new();
        while started.elapsed() < length {
            let sent = Instant::now();
            let status = request().await;
            assert!(status < 400, "status {status}");
            latencies.push(sent.elapsed());
        }
        latencies
    });
    let mut all: Vec<Duration> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    Rate {
        per_second: all.len() as f64 / elapsed,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
    }
}

/// Pushes of 200 visits by `clients` phones at once; mutations per second and the
/// latencies of the pushes.
async fn pushes(
    client: &reqwest::Client,
    base: &str,
    volunteers: &[Volunteer],
    clients: usize,
) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let runs = volunteers[..clients].iter().map(|volunteer| async move {
        let device = uuid::Uuid::new_v4();
        let mut seq = 0;
        let mut latencies = Vec::new();
        for _ in 0..PUSHES {
            let mutations: Vec<Value> = (0..PUSH_SIZE)
                .map(|_| {
                    seq += 1;
                    json!({"seq": seq, "op": "create", "entity": "visit",
                           "id": uuid::Uuid::now_v7(), "data": visit(volunteer)})
                })
                .collect();
            let sent = Instant::now();
            let response = client
                .post(format!("{base}/api/v1/sync/push"))
                .bearer_auth(&volunteer.token)
                .header("X-App-Version", APP_VERSION)
                .header("Idempotency-Key", format!("{device}:{seq}"))
                .json(&json!({"device_id": device, "mutations": mutations}))
                .send()
                .await
                .expect("push");
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("push body");
            latencies.push(sent.elapsed());
            assert_eq!(body["last_seq"], seq);
            let applied = body["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter(|r| r["result"] == "applied")
                .count();
            assert_eq!(applied, PUSH_SIZE, "every mutation applied: {body}");
        }
        latencies
    });
    let latencies: Vec<Duration> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    (
        (clients * PUSHES * PUSH_SIZE) as f64 / started.elapsed().as_secs_f64(),
        latencies,
    )
}

/// Samples `pg_locks` until stopped: (samples, samples with a waiting lock, samples with a
/// backend waiting on a lock while writing counters).
fn sample_lock_waits(
    url: String,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(u64, u64, u64)> {
    std::thread::spawn(move || {
        use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Waits {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            waiting: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            on_counters: i64,
        }
        let mut conn = PgConnection::establish(&url).expect("sampler connection");
        let (samples, with_waits, counter_waits) =
            (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        while !stop.load(Ordering::Relaxed) {
            let waits: Waits = diesel::sql_query(
                "SELECT (SELECT COUNT(*) FROM pg_locks WHERE NOT granted) AS waiting, \
                        (SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                           AND query LIKE '%adoption_delta%') AS on_counters",
            )
            .get_result(&mut conn)
            .expect("sample");
            samples.fetch_add(1, Ordering::Relaxed);
            if waits.waiting > 0 {
                with_waits.fetch_add(1, Ordering::Relaxed);
            }
            if waits.on_counters > 0 {
                counter_waits.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (
            samples.into_inner(),
            with_waits.into_inner(),
            counter_waits.into_inner(),
        )
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench(label: &str, database_url: &str, length: Duration) {
    let state = AppState::build(settings(database_url)).expect("state");
    let ward = seed(&state);
    drop(state);
    let server = start(database_url).await;
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let official = login(&client, &base, "official@bench.local").await;
    let mut volunteers = Vec::new();
    for n in 0..VOLUNTEERS {
        volunteers.push(volunteer(&client, &base, n).await);
    }
    // Some history for the figures to sum.
    pushes(&client, &base, &volunteers, VOLUNTEERS).await;

    println!("\n{label}");
    println!("| measure | requests/s | × healthz | p50 | p99 |");
    println!("|---|---|---|---|---|");
    let healthz = rate(length, CONCURRENCY, || async {
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz")
            .status()
            .as_u16()
    })
    .await;
    let row = |name: &str, r: &Rate| {
        println!(
            "| {name} | {:.0} | {:.3} | {} | {} |",
            r.per_second,
            r.per_second / healthz.per_second,
            ms(r.p50),
            ms(r.p99)
        );
    };
    row("GET /healthz", &healthz);
    let figures_url = format!("{base}/api/v1/areas/{ward}/adoption");
    let figures = rate(length, CONCURRENCY, || async {
        client
            .get(&figures_url)
            .bearer_auth(&official)
            .send()
            .await
            .expect("figures")
            .status()
            .as_u16()
    })
    .await;
    row("GET /areas/{ward}/adoption", &figures);
    let tag = client
        .get(&figures_url)
        .bearer_auth(&official)
        .send()
        .await
        .expect("figures")
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    let conditional = rate(length, CONCURRENCY, || async {
        let status = client
            .get(&figures_url)
            .bearer_auth(&official)
            .header("If-None-Match", &tag)
            .send()
            .await
            .expect("figures")
            .status()
            .as_u16();
        assert_eq!(status, 304);
        status
    })
    .await;
    row("the same, If-None-Match → 304", &conditional);
    let children_url = format!("{base}/api/v1/areas/{ward}/adoption/children");
    let children = rate(length, CONCURRENCY, || async {
        client
            .get(&children_url)
            .bearer_auth(&official)
            .send()
            .await
            .expect("children")
            .status()
            .as_u16()
    })
    .await;
    row("GET /areas/{ward}/adoption/children", &children);
    let first = &volunteers[0];
    let visits = rate(length, 1, || async {
        client
            .post(format!("{base}/api/v1/visits"))
            .bearer_auth(&first.token)
            .json(&visit(first))
            .send()
            .await
            .expect("visit")
            .status()
            .as_u16()
    })
    .await;
    row("POST /visits, one client", &visits);

    let (one, mut one_latencies) = pushes(&client, &base, &volunteers, 1).await;
    one_latencies.sort();
    let sampler = database_url.starts_with("postgres").then(|| {
        let stop = Arc::new(AtomicBool::new(false));
        (
            sample_lock_waits(database_url.to_owned(), stop.clone()),
            stop,
        )
    });
    let (eight, _) = pushes(&client, &base, &volunteers, VOLUNTEERS).await;
    println!(
        "\npush of {PUSH_SIZE} mutations, 1 phone: {one:.0} mutations/s, p50 {} per push; \
         8 phones at once: {eight:.0} mutations/s = {:.2} × one phone",
        ms(percentile(&one_latencies, 0.5)),
        eight / one
    );
    if let Some((sampler, stop)) = sampler {
        stop.store(true, Ordering::Relaxed);
        let (samples, waits, counters) = sampler.join().expect("sampler");
        println!(
            "pg_locks during the 8-phone run: {waits} of {samples} samples with a waiting lock, \
             {counters} with a backend waiting on a lock in a counter statement"
        );
    }
    drop(server);
}

fn main() {
    let length = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    actix_web::rt::System::new().block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("load.db").display());
        bench("SQLite", &url, length).await;
        if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
            use diesel::{Connection, PgConnection, RunQueryDsl};
            let name = format!("eid_bench_load_{}", std::process::id());
            let mut admin = PgConnection::establish(&admin_url).expect("BENCH_DATABASE_URL");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .expect("create database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            bench("PostgreSQL", &format!("{base}/{name}"), length).await;
            diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .expect("drop database");
        }
    });
}
