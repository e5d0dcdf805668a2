//! Benchmark: what durable answers cost (`cargo bench --bench durability`). Against the
//! real HTTP server on a fresh database, 1 and then 8 volunteers (each in their own
//! neighbourhood, at once) record single visits (`POST /visits`, one visit with one
//! e-ID event, going round 40 adults) for a few seconds, then push batches of 200 visits
//! (each with one event) through
//! `/sync/push`. On SQLite it runs three times, once per `EID_SQLITE_COMMIT`:
//! `unsafe-no-sync` (how the server answered before: commits not yet on disk), `each`
//! (one fsync per commit, `synchronous = FULL`) and `group` (the default: every answer on
//! disk, concurrent commits sharing one fsync). With `BENCH_DATABASE_URL` it also runs
//! on PostgreSQL (synchronous commit). Prints figures; asserts only that the work was
//! done. `BENCH_SECONDS` sets the length of each single-visit run (default 4).

use std::collections::HashMap;
use std::net::TcpListener;
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
const PASSWORD: &str = "bench password for the volunteers";
const APP_VERSION: &str = "1.4.0";
const PUSHES_PER_CLIENT: usize = 3;
const PUSH_SIZE: usize = 200;
/// Adults per volunteer's household.
const RESIDENTS: usize = 40;

fn settings(database_url: &str, mail_dir: &str, commit: &str) -> Settings {
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("EID_MAIL_DIR", mail_dir),
        (
            "EID_JWT_SECRET",
            "bench-signing-key-0123456789abcdef-0123456789",
        ),
        (
            "EID_CITIZEN_ID_KEY",
            "bench-citizen-id-key-0123456789abcdef-0123",
        ),
        ("EID_WORKERS", "2"),
        ("EID_DIGEST_SCHEDULE", "off"),
        ("EID_SQLITE_COMMIT", commit),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Settings::from_vars(&vars).expect("settings")
}

/// A ward of eight neighbourhoods with one volunteer each; returns their e-mails.
fn seed(state: &AppState) -> Vec<String> {
    let mut conn = state.db.writer_connection().expect("connection");
    let conn = &mut *conn;
    let mut parent = None;
    for (kind, code) in [
        (AreaKind::Province, "DP"),
        (AreaKind::Town, "DP-T"),
        (AreaKind::Ward, "DP-T-W"),
    ] {
        let area = insert_area(
            conn,
            NewArea {
                parent: parent.as_ref(),
                kind,
                code,
                name: code,
                official_adult_population: None,
                official_household_count: None,
            },
        )
        .expect("area");
        parent = Some(area);
    }
    let hash = hash_password_blocking(PASSWORD).expect("hash");
    (0..VOLUNTEERS)
        .map(|n| {
            let code = format!("DP-T-W-{n}");
            let neighbourhood = insert_area(
                conn,
                NewArea {
                    parent: parent.as_ref(),
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
            email
        })
        .collect()
}

/// A signed-in volunteer with one household and one adult of their neighbourhood.
struct Volunteer {
    token: String,
    household: String,
    /// Events go round these adults, so no one person's history grows long.
    residents: Vec<String>,
    next: std::cell::Cell<usize>,
}

async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> Volunteer {
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["access_token"].as_str().expect("token").to_owned();
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
    for n in 0..RESIDENTS {
        let resident: Value = client
            .post(format!("{base}/api/v1/households/{household}/residents"))
            .bearer_auth(&token)
            .json(
                &json!({"full_name": format!("Người lớn {n}"), "birth_date": "1970-01-01",
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

/// A visit with one e-ID event, for the next adult in turn.
fn visit(volunteer: &Volunteer) -> Value {
    let n = volunteer.next.get();
    volunteer.next.set(n + 1);
    let resident = &volunteer.residents[n % volunteer.residents.len()];
    json!({
        "household_id": volunteer.household,
        "visited_at": chrono::Utc::now().to_rfc3339(),
        "outcome": "helped",
        "events": [{"kind": "eid", "resident_id": resident, "value": "level1",
                    "effective_on": eid_adoption::clock::today()}]
    })
}

/// Visits per second with `clients` volunteers posting one visit at a time.
async fn single_visits(
    client: &reqwest::Client,
    base: &str,
    volunteers: &[Volunteer],
    clients: usize,
    length: Duration,
) -> f64 {
    let started = Instant::now();
    let runs = volunteers[..clients].iter().map(|volunteer| async move {
        let mut done = 0usize;
        while started.elapsed() < length {
            let response = client
                .post(format!("{base}/api/v1/visits"))
                .bearer_auth(&volunteer.token)
                .json(&visit(volunteer))
                .send()
                .await
                .expect("visit");
            assert_eq!(
                response.status(),
                201,
                "{}",
                response.text().await.unwrap_or_default()
            );
            done += 1;
        }
        done
    });
    let done: usize = futures_util::future::join_all(runs).await.into_iter().sum();
    done as f64 / started.elapsed().as_secs_f64()
}

/// Mutations per second with `clients` phones each pushing batches of 200 visits (each
/// with one e-ID event).
async fn pushes(
    client: &reqwest::Client,
    base: &str,
    volunteers: &[Volunteer],
    clients: usize,
) -> f64 {
    let started = Instant::now();
    let runs = volunteers[..clients].iter().map(|volunteer| async move {
        let device = uuid::Uuid::new_v4();
        let mut seq = 0;
        for _ in 0..PUSHES_PER_CLIENT {
            let mutations: Vec<Value> = (0..PUSH_SIZE)
                .map(|_| {
                    seq += 1;
                    json!({"seq": seq, "op": "create", "entity": "visit",
                           "id": uuid::Uuid::now_v7(), "data": visit(volunteer)})
                })
                .collect();
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
            assert_eq!(body["last_seq"], seq);
        }
        PUSHES_PER_CLIENT * PUSH_SIZE
    });
    let done: usize = futures_util::future::join_all(runs).await.into_iter().sum();
    done as f64 / started.elapsed().as_secs_f64()
}

async fn bench(label: &str, database_url: &str, commit: &str, length: Duration) {
    let mail = tempfile::tempdir().expect("mail dir");
    let state = AppState::build(settings(
        database_url,
        &mail.path().display().to_string(),
        commit,
    ))
    .expect("state");
    let emails = seed(&state);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = eid_adoption::startup::run(state, listener).expect("server");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let client = reqwest::Client::new();
    let mut volunteers = Vec::new();
    for email in &emails {
        volunteers.push(sign_in(&client, &base, email).await);
    }
    let one = single_visits(&client, &base, &volunteers, 1, length).await;
    let eight = single_visits(&client, &base, &volunteers, 8, length).await;
    let push_one = pushes(&client, &base, &volunteers, 1).await;
    let push_eight = pushes(&client, &base, &volunteers, 8).await;
    println!("| {label:<28} | {one:>8.0} | {eight:>8.0} | {push_one:>8.0} | {push_eight:>8.0} |");
    handle.stop(true).await;
}

fn main() {
    let length = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4),
    );
    actix_web::rt::System::new().block_on(async {
        println!("| backend, commit mode | visits/s, 1 client | visits/s, 8 clients | pushed mutations/s, 1 phone | pushed mutations/s, 8 phones |");
        println!("|---|---|---|---|---|");
        for commit in ["unsafe-no-sync", "each", "group"] {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            bench(&format!("SQLite, {commit}"), &url, commit, length).await;
        }
        if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
            use diesel::{Connection, PgConnection, RunQueryDsl};
            let name = format!("eid_bench_durability_{}", std::process::id());
            let mut admin = PgConnection::establish(&admin_url).expect("BENCH_DATABASE_URL");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .expect("create database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            bench("PostgreSQL", &format!("{base}/{name}"), "group", length).await;
            diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .expect("drop database");
        }
    });
}
