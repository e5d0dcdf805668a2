//! The binary itself: `create-admin`, `seed-demo`, `serve --demo` and the production-mode
//! start-up checks, run as a user runs them, against the test's database.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, JWT_SECRET};

pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eid-adoption"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("EID_JWT_SECRET", JWT_SECRET)
        .env(
            "EID_CITIZEN_ID_KEY",
            "test-citizen-id-key-0123456789abcdef-0123",
        );
    command
}

fn run_with_stdin(mut command: Command, stdin: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eid-adoption");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_sign_in() {
    let app = TestApp::spawn().await;
    let mut command = binary();
    command
        .env("DATABASE_URL", &app.settings.database_url)
        .args(["create-admin", "--email", "Chief@Ward.example"]);
    let output = run_with_stdin(command, "a very long password\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let login = app
        .login("chief@ward.example", "a very long password")
        .await;
    assert_eq!(login.status, 200);
    let me = app
        .get("/api/v1/me", login.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["role"], "admin");

    let mut again = binary();
    again.env("DATABASE_URL", &app.settings.database_url).args([
        "create-admin",
        "--email",
        "chief@ward.example",
    ]);
    let output = run_with_stdin(again, "a very long password\n");
    assert!(!output.status.success(), "the same e-mail twice is refused");

    let mut weak = binary();
    weak.env("DATABASE_URL", &app.settings.database_url).args([
        "create-admin",
        "--email",
        "other@ward.example",
    ]);
    let output = run_with_stdin(weak, "short\n");
    assert!(!output.status.success(), "a short password is refused");
}

#[actix_web::test]
async fn seed_demo_fills_an_empty_database_once() {
    let app = TestApp::spawn().await;
    let mut first = binary();
    first
        .env("DATABASE_URL", &app.settings.database_url)
        .env("EID_DEMO_PASSWORD", "x")
        .arg("seed-demo");
    let output = run_with_stdin(first, "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut second = binary();
    second
        .env("DATABASE_URL", &app.settings.database_url)
        .arg("seed-demo");
    let output = run_with_stdin(second, "");
    assert!(output.status.success());

    let token = {
        let login = app.login("admin@demo.local", "x").await;
        assert_eq!(
            login.status, 200,
            "the demo password survives a second seed-demo"
        );
        login.body["access_token"].as_str().unwrap().to_owned()
    };
    let areas = app.get("/api/v1/areas?limit=500", Some(&token)).await;
    let codes: Vec<&str> = areas.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes.len(),
        27,
        "the map of today, seeded once: the province, Quang Trung ward and its 25 neighbourhoods: {codes:?}"
    );
    assert_eq!(codes[1], "TH-QT");
    // The town and the four units that formed the ward are history, listed on request.
    let all = app
        .get("/api/v1/areas?limit=500&include_ended=true", Some(&token))
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 32);
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Killed(pub std::process::Child);

#[actix_web::test]
async fn serve_demo_answers_every_demo_user_with_their_own_subtree() {
    // An empty database of the test's backend; the harness's own server is not used.
    let app = TestApp::spawn().await;
    let port = free_port();
    let mut command = binary();
    command
        .env("DATABASE_URL", &app.settings.database_url)
        .env("EID_DEMO_PASSWORD", "x")
        .env("EID_WORKERS", "1")
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _server = Killed(command.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "serve --demo did not come up");
    for (email, visible) in [
        ("admin@demo.local", 27),
        ("official@demo.local", 26),
        ("head@demo.local", 1),
        ("volunteer@demo.local", 1),
    ] {
        let login: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": "x"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{email}: {login}"));
        let me: serde_json::Value = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["email"], email);
        let areas: serde_json::Value = client
            .get(format!("{base}/api/v1/areas?limit=500"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(areas["items"].as_array().unwrap().len(), visible, "{email}");
    }
}

#[test]
fn production_mode_without_secrets_refuses_to_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_eid-adoption"))
        .env_clear()
        .env("EID_ENV", "production")
        .env("DATABASE_URL", "sqlite:///nonexistent/never-created.db")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let log = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("EID_JWT_SECRET"), "{log}");
}

#[test]
fn demo_data_is_refused_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/prod.db", dir.path().display());
    for args in [
        &["seed-demo"][..],
        &["serve", "--demo", "--bind", "127.0.0.1:0"][..],
    ] {
        let output = binary()
            .env("EID_ENV", "production")
            .env("SMTP_URL", "smtp://127.0.0.1:1")
            .env("DATABASE_URL", &url)
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let log = String::from_utf8_lossy(&output.stderr).to_string()
            + &String::from_utf8_lossy(&output.stdout);
        assert!(log.contains("demo data"), "{args:?}: {log}");
    }
}

#[actix_web::test]
async fn production_serves_metrics_only_with_the_metrics_token_and_keeps_its_files_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/prod.db");
    let url = format!("sqlite://{}", db.display());
    let production = [
        ("EID_ENV", "production"),
        ("SMTP_URL", "smtp://127.0.0.1:1"),
    ];
    let client = reqwest::Client::new();
    let server = crate::helpers::ServedBinary::start(&url, &production).await;
    let open = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        open.status(),
        404,
        "production without a metrics token serves no metrics"
    );
    server.kill();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&db),
        0o600,
        "the database file is the service user's alone"
    );
    assert_eq!(mode(&db.with_extension("db-wal")), 0o600);
    assert_eq!(mode(db.parent().unwrap()), 0o700);

    let token = "metrics-token-0123456789abcdef-0123456789";
    let server = crate::helpers::ServedBinary::start(
        &url,
        &[production[0], production[1], ("EID_METRICS_TOKEN", token)],
    )
    .await;
    let metrics = format!("{}/metrics", server.base);
    assert_eq!(client.get(&metrics).send().await.unwrap().status(), 401);
    assert_eq!(
        client
            .get(&metrics)
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        client
            .get(&metrics)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
