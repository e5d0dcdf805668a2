//! Benchmark: a volunteer's phone against the real HTTP server (`cargo bench --bench
//! sync`): the initial download of a 600-household neighbourhood (1,800 residents, their
//! e-ID and signature events), gzipped as a phone asks for it, and a push of 200 visits.
//! Prints figures; asserts only that the work was done (machines are shared and noisy).
//! Runs on a fresh SQLite file, and on PostgreSQL too when `BENCH_DATABASE_URL` names a
//! server where it may create a database.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use eid_adoption::areas::{insert_area, AreaKind, NewArea};
use eid_adoption::audit::Actor;
use eid_adoption::auth::password::hash_password_blocking;
use eid_adoption::auth::Role;
use eid_adoption::config::Settings;
use eid_adoption::i18n::Lang;
use eid_adoption::imports::read::Format;
use eid_adoption::imports::run::{parse, run};
use eid_adoption::state::AppState;
use eid_adoption::users::{insert_account, replace_assignments, NewAccount};
use serde_json::{json, Value};

const HOUSEHOLDS: usize = 600;
const PEOPLE_PER_HOUSEHOLD: usize = 3;
const PUSHED: usize = 200;
const PASSWORD: &str = "bench password for the volunteer";
const APP_VERSION: &str = "1.4.0";

fn register() -> String {
    let mut text = String::from(
        "household_code,address,head_name,phone,broadband,full_name,birth_date,sex,relation_to_head,citizen_id,consent,eid_level,eid_since,signature,signature_since,signature_expires_on\n",
    );
    for n in 0..HOUSEHOLDS * PEOPLE_PER_HOUSEHOLD {
        let household = n / PEOPLE_PER_HOUSEHOLD;
        let first = n % PEOPLE_PER_HOUSEHOLD == 0;
        let (address, head) = if first {
            (
                format!("\"Số {household}, đường Trần Phú\""),
                format!("Nguyễn Văn Chủ {household}"),
            )
        } else {
            (String::new(), String::new())
        };
        text.push_str(&format!(
            "HK-{household:04},{address},{head},{},yes,Nguyễn Thị Người {n},19{:02}-{:02}-{:02},{},{},,yes,level2,2025-03-01,{},{},{}\n",
            if first { "0912345678" } else { "" },
            40 + n % 60,
            1 + n % 12,
            1 + n % 28,
            if n % 2 == 0 { "female" } else { "male" },
            if first { "head" } else { "child" },
            if n % 4 == 0 { "digital" } else { "none" },
            if n % 4 == 0 { "2025-04-01" } else { "" },
            if n % 4 == 0 { "2027-03-31" } else { "" },
        ));
    }
    text
}

fn settings(database_url: &str, mail_dir: &str) -> Settings {
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
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Settings::from_vars(&vars).expect("settings")
}

/// Seeds the neighbourhood and its volunteer; returns the volunteer's e-mail.
fn seed(state: &AppState) -> &'static str {
    let mut conn = state.db.writer_connection().expect("connection");
    let conn = &mut *conn;
    let mut parent = None;
    let mut areas = Vec::new();
    for (kind, code) in [
        (AreaKind::Province, "BP"),
        (AreaKind::Town, "BP-T"),
        (AreaKind::Ward, "BP-T-W"),
        (AreaKind::Neighbourhood, "BP-T-W-1"),
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
        areas.push(area.clone());
        parent = Some(area);
    }
    let neighbourhood = areas.pop().expect("neighbourhood");
    let (rows, problems) = parse(
        Format::Csv,
        register().as_bytes(),
        eid_adoption::clock::today(),
    )
    .expect("parse");
    assert!(problems.is_empty(), "{problems:?}");
    use diesel::Connection;
    conn.transaction(|c| {
        run(
            c,
            &neighbourhood,
            &rows,
            Vec::new(),
            false,
            state.settings.secrets.citizen_id_key_bytes(),
            &Actor::default(),
            Format::Csv,
            &|_| {},
        )
    })
    .expect("import");
    let email = "bench-volunteer@bench.local";
    let volunteer = insert_account(
        conn,
        NewAccount {
            email: Some(email),
            phone: None,
            name: "Tình nguyện viên",
            role: Role::Volunteer,
            area_id: Some(&neighbourhood.id),
            password_hash: &hash_password_blocking(PASSWORD).expect("hash"),
            language: Lang::Vi,
            active: true,
        },
    )
    .expect("volunteer");
    replace_assignments(conn, &volunteer, std::slice::from_ref(&neighbourhood)).expect("assign");
    email
}

/// A full download, page by page; returns (time, pages, bytes on the wire, last body).
async fn download(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    gzip: bool,
) -> (Duration, usize, usize, Vec<Value>) {
    let started = Instant::now();
    let (mut cursor, mut pages, mut bytes, mut bodies) = (None::<String>, 0, 0, Vec::new());
    loop {
        let mut url = format!("{base}/api/v1/sync/pull?limit=500");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let mut request = client
            .get(url)
            .bearer_auth(token)
            .header("X-App-Version", APP_VERSION);
        if gzip {
            request = request.header("Accept-Encoding", "gzip");
        }
        let response = request.send().await.expect("pull");
        assert_eq!(response.status(), 200);
        if gzip {
            assert_eq!(
                response
                    .headers()
                    .get("content-encoding")
                    .and_then(|v| v.to_str().ok()),
                Some("gzip")
            );
        }
        let body = response.bytes().await.expect("body");
        bytes += body.len();
        pages += 1;
        if gzip {
            // Compressed pages are only counted; the plain download is read below.
            if pages > 100 {
                panic!("no end to the download");
            }
            let plain = client
                .get(format!(
                    "{base}/api/v1/sync/pull?limit=500{}",
                    cursor
                        .as_ref()
                        .map(|c| format!("&cursor={c}"))
                        .unwrap_or_default()
                ))
                .bearer_auth(token)
                .header("X-App-Version", APP_VERSION)
                .send()
                .await
                .expect("pull")
                .json::<Value>()
                .await
                .expect("json");
            cursor = plain["cursor"].as_str().map(str::to_owned);
            if plain["has_more"] == false {
                break;
            }
            continue;
        }
        let page: Value = serde_json::from_slice(&body).expect("json");
        cursor = page["cursor"].as_str().map(str::to_owned);
        let more = page["has_more"] == true;
        bodies.push(page);
        if !more {
            break;
        }
    }
    (started.elapsed(), pages, bytes, bodies)
}

async fn bench(label: &str, database_url: &str) {
    let mail = tempfile::tempdir().expect("mail dir");
    let state =
        AppState::build(settings(database_url, &mail.path().display().to_string())).expect("state");
    let seeding = Instant::now();
    let email = seed(&state);
    let seeded = seeding.elapsed();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = eid_adoption::startup::run(state, listener).expect("server");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("token").to_owned();

    let (plain_time, pages, plain_bytes, bodies) = download(&client, &base, &token, false).await;
    let count = |entity: &str| -> usize {
        bodies
            .iter()
            .map(|b| b[entity]["upserted"].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert_eq!(count("households"), HOUSEHOLDS);
    assert_eq!(count("residents"), HOUSEHOLDS * PEOPLE_PER_HOUSEHOLD);
    // The gzip run measures bytes; its time includes a plain read of each page for the cursor.
    let (_, _, gzip_bytes, _) = download(&client, &base, &token, true).await;

    let residents: Vec<(String, String)> = bodies
        .iter()
        .flat_map(|b| {
            b["residents"]["upserted"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|r| {
            (
                r["household_id"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let today = eid_adoption::clock::today().to_string();
    let now = chrono::Utc::now().to_rfc3339();
    let mutations: Vec<Value> = residents
        .iter()
        .step_by(PEOPLE_PER_HOUSEHOLD)
        .take(PUSHED)
        .enumerate()
        .map(|(n, (household, resident))| {
            json!({"seq": n + 1, "op": "create", "entity": "visit",
                   "id": uuid::Uuid::now_v7().to_string(),
                   "data": {"household_id": household, "visited_at": now, "outcome": "helped",
                            "events": [{"kind": "signature", "resident_id": resident,
                                        "value": "electronic", "effective_on": today}]}})
        })
        .collect();
    let body = json!({"device_id": uuid::Uuid::new_v4().to_string(), "mutations": mutations});
    let started = Instant::now();
    let pushed: Value = client
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(&token)
        .header("X-App-Version", APP_VERSION)
        .json(&body)
        .send()
        .await
        .expect("push")
        .json()
        .await
        .expect("json");
    let push_time = started.elapsed();
    assert_eq!(pushed["last_seq"], PUSHED);
    let applied = pushed["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["result"] == "applied")
        .count();
    assert_eq!(applied, PUSHED, "{pushed}");
    let started = Instant::now();
    let (_, _, _, after) = download(&client, &base, &token, false).await;
    let _ = after;
    let after_push = started.elapsed();
    println!(
        "{label:<9} seed {seeded:>8.2?} | initial pull {HOUSEHOLDS} households, {} residents, {} events: {plain_time:>8.2?} in {pages} pages, {:.0} KiB plain, {:.0} KiB gzip | push {PUSHED} visits: {push_time:>8.2?} | full pull again: {after_push:>8.2?}",
        count("residents"),
        count("status_events"),
        plain_bytes as f64 / 1024.0,
        gzip_bytes as f64 / 1024.0,
    );
    handle.stop(true).await;
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        bench(
            "sqlite",
            &format!("sqlite://{}", dir.path().join("bench.db").display()),
        )
        .await;
        if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
            use diesel::{Connection, PgConnection, RunQueryDsl};
            let name = format!("eid_bench_sync_{}", std::process::id());
            let mut admin = PgConnection::establish(&admin_url).expect("BENCH_DATABASE_URL");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .expect("create database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            bench("postgres", &format!("{base}/{name}")).await;
            diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .expect("drop database");
        }
    });
}
