//! The test harness: every test gets the real application on a real HTTP port, backed by a
//! fresh database of its own: a temporary SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set (dropped when the test ends). Every response is checked
//! against the committed contract in `openapi/openapi.json`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};

use diesel::{Connection, PgConnection, RunQueryDsl};
use eid_adoption::areas::{insert_area, Area, AreaKind, NewArea};
use eid_adoption::auth::password::hash_password_blocking;
use eid_adoption::auth::Role;
use eid_adoption::config::Settings;
use eid_adoption::db::{Db, DbConnection};
use eid_adoption::i18n::Lang;
use eid_adoption::startup;
use eid_adoption::state::AppState;
use eid_adoption::users::{insert_account, replace_assignments, NewAccount};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

pub const JWT_SECRET: &str = "test-signing-key-0123456789abcdef-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

/// Where the test's database lives; dropping it removes the database.
enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn);
            }
        }
    }
}

/// A fresh, empty database URL for one test.
fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(admin_url) => {
            let name = format!("eid_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .expect("create test database");
            let url = with_database_name(&admin_url, &name);
            (url, TestDatabase::Postgres { admin_url, name })
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (url, TestDatabase::Sqlite(dir))
        }
    }
}

/// `postgres://u@h:5432/postgres?x=y` with another database name.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{name}?{query}"),
        None => format!("{host_part}/{name}"),
    }
}

pub fn test_settings(database_url: &str, mail_dir: &str, extra: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("EID_MAIL_DIR", mail_dir),
        ("EID_MAIL_POLL_MS", "50"),
        ("EID_MAIL_RETRY_BASE_MS", "100"),
        ("EID_PUBLIC_URL", "https://eid.test"),
        ("EID_JWT_SECRET", JWT_SECRET),
        (
            "EID_CITIZEN_ID_KEY",
            "test-citizen-id-key-0123456789abcdef-0123",
        ),
        ("EID_WORKERS", "1"),
        ("EID_DATABASE_POOL_SIZE", "3"),
        // Tests that want the weekly schedule set it themselves.
        ("EID_DIGEST_SCHEDULE", "off"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    Settings::from_vars(&vars).expect("test settings")
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub settings: Settings,
    pub mail_dir: tempfile::TempDir,
    server: actix_web::dev::ServerHandle,
    _database: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// With extra environment-style settings, e.g. `("EID_MAX_BODY_BYTES", "1024")`.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        let (url, database) = fresh_database();
        let mail_dir = tempfile::tempdir().expect("mail dir");
        let settings = test_settings(&url, &mail_dir.path().display().to_string(), extra);
        let state = AppState::build(settings.clone()).expect("app state");
        let db = state.db.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let server = startup::run(state, listener).expect("server");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            // Idle connections are dropped well before the server's 5-second keep-alive
            // closes them: a request sent on a connection the server is closing at that
            // moment fails as an incomplete message, a race of the test, not the server.
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            db,
            settings,
            mail_dir,
            server: handle,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request and checks the response against the contract.
    pub async fn send(&self, builder: reqwest::RequestBuilder) -> TestResponse {
        let request = builder.build().expect("request");
        let method = request.method().clone();
        let path = request.url().path().to_owned();
        let response = self.client.execute(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let response = TestResponse {
            status,
            headers,
            body,
            text,
            bytes,
        };
        contract().check(&method, &path, &response);
        response
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(self.with_token(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(
            self.with_token(self.client.post(self.url(path)), token)
                .json(body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(self.with_token(self.client.delete(self.url(path)), token))
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(self.with_token(self.client.put(self.url(path)), token))
            .await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(
            self.with_token(self.client.put(self.url(path)), token)
                .json(body),
        )
        .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: Option<&str>,
        etag: Option<&str>,
        body: &Value,
    ) -> TestResponse {
        let mut builder = self
            .with_token(self.client.patch(self.url(path)), token)
            .json(body);
        if let Some(etag) = etag {
            builder = builder.header("If-Match", etag);
        }
        self.send(builder).await
    }

    fn with_token(
        &self,
        builder: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs in with the shared test password and returns the access token.
    pub async fn token_for(&self, email: &str) -> String {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status, 200, "login of {email}: {}", response.text);
        response.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Runs a closure on a database connection (to read what the API does not show).
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self.db.writer_connection().unwrap();
        f(&mut conn)
    }

    /// Seeds the standard world of these tests.
    pub fn seed_world(&self) -> World {
        World::seed(&self.db)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion,
        // which a synchronous drop cannot do. The database is dropped right after.
        drop(self.server.stop(false));
    }
}

pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as received (spreadsheets are not text).
    pub bytes: Vec<u8>,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem `code` of an error response (and checks it is a problem).
    pub fn problem_code(&self) -> &str {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not a problem: {} {}",
            self.status,
            self.text
        );
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(self.status)));
        self.body["code"].as_str().expect("problem code")
    }

    pub fn ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The committed OpenAPI document, and validators for its response schemas.
pub struct Contract {
    document: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
                .expect("openapi/openapi.json is committed");
        Contract {
            document: serde_json::from_str(&text).expect("openapi.json is JSON"),
            validators: Mutex::new(HashMap::new()),
        }
    })
}

impl Contract {
    /// The path template of the contract that `path` matches, if any.
    fn template_for(&self, path: &str) -> Option<String> {
        let paths = self.document["paths"].as_object()?;
        // Literal templates win over ones with parameters (`/me` before `/{id}`).
        let mut matches: Vec<&String> = paths
            .keys()
            .filter(|template| actix_router::ResourceDef::new(template.as_str()).is_match(path))
            .collect();
        matches.sort_by_key(|t| t.matches('{').count());
        matches.first().map(|t| (*t).clone())
    }

    pub fn check(&self, method: &Method, path: &str, response: &TestResponse) {
        let content_type = response
            .header("content-type")
            .map(|c| c.split(';').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default();
        let operation = self
            .template_for(path)
            .map(|t| {
                (
                    t.clone(),
                    self.document["paths"][&t][method.as_str().to_lowercase()].clone(),
                )
            })
            .filter(|(_, op)| op.is_object());
        let Some((template, operation)) = operation else {
            // Not an operation of the contract (unknown route, wrong method, docs): errors
            // must still be problems.
            if response.status >= 400 {
                assert_eq!(
                    content_type, "application/problem+json",
                    "{method} {path}: {}",
                    response.text
                );
                self.validate(
                    "#/components/schemas/Problem",
                    &response.body,
                    &format!("{method} {path}"),
                );
            }
            return;
        };
        let status = response.status.to_string();
        let documented = &operation["responses"][&status];
        assert!(
            documented.is_object(),
            "{method} {template} answered {status}, which the contract does not list: {}",
            response.text
        );
        if response.text.is_empty() {
            return;
        }
        let content = &documented["content"];
        assert!(
            content[&content_type].is_object(),
            "{method} {template} {status}: content type {content_type} is not in the contract"
        );
        if content_type.ends_with("json") {
            let pointer = format!(
                "#/paths/{}/{}/responses/{}/content/{}/schema",
                escape(&template),
                method.as_str().to_lowercase(),
                status,
                escape(&content_type)
            );
            self.validate(
                &pointer,
                &response.body,
                &format!("{method} {template} {status}"),
            );
        }
    }

    fn validate(&self, pointer: &str, instance: &Value, context: &str) {
        let validator = {
            let mut cache = self.validators.lock().unwrap();
            cache
                .entry(pointer.to_owned())
                .or_insert_with(|| {
                    let schema = resolve_pointer(&self.document, pointer)
                        .unwrap_or_else(|| panic!("{context}: no schema at {pointer}"));
                    let mut root = schema.clone();
                    if let Value::Object(map) = &mut root {
                        map.insert("components".into(), self.document["components"].clone());
                    } else {
                        root =
                            json!({"allOf": [schema], "components": self.document["components"]});
                    }
                    std::sync::Arc::new(
                        jsonschema::options()
                            .with_draft(jsonschema::Draft::Draft202012)
                            // `date-time`, `date`, `uuid` … are promises a client relies on.
                            .should_validate_formats(true)
                            .build(&root)
                            .unwrap_or_else(|e| panic!("{context}: bad schema: {e}")),
                    )
                })
                .clone()
        };
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{context}: response does not match the contract: {errors:?}\n{instance}"
        );
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn resolve_pointer<'a>(document: &'a Value, pointer: &str) -> Option<&'a Value> {
    let pointer = pointer.strip_prefix('#')?;
    let mut current = document;
    for part in pointer.split('/').skip(1) {
        let key = part.replace("~1", "/").replace("~0", "~");
        current = current.get(&key)?;
    }
    Some(current)
}

/// The standard world of these tests:
/// province P → town T → ward W (neighbourhoods N1, N2) and ward W2 (neighbourhood N3);
/// a national admin, a ward admin of W, an official of W, a head of N1, a volunteer of N1
/// and an official of W2. Everybody's password is `PASSWORD`.
pub struct World {
    pub province: String,
    pub town: String,
    pub ward: String,
    pub n1: String,
    pub n2: String,
    pub ward2: String,
    pub n3: String,
    pub national_admin: String,
    pub ward_admin: String,
    pub official: String,
    pub head: String,
    pub volunteer: String,
    pub other_official: String,
}

pub const NATIONAL_ADMIN: &str = "root@test.local";
pub const WARD_ADMIN: &str = "ward-admin@test.local";
pub const OFFICIAL: &str = "official@test.local";
pub const HEAD: &str = "head@test.local";
pub const VOLUNTEER: &str = "volunteer@test.local";
pub const OTHER_OFFICIAL: &str = "official2@test.local";

impl World {
    pub fn seed(db: &Db) -> World {
        static HASH: OnceLock<String> = OnceLock::new();
        let hash = HASH.get_or_init(|| hash_password_blocking(PASSWORD).unwrap());
        let mut conn = db.writer_connection().unwrap();
        let conn = &mut *conn;
        let area = |conn: &mut DbConnection, parent: Option<&Area>, kind, code: &str| {
            let name = format!("Địa bàn {code}");
            insert_area(
                conn,
                NewArea {
                    parent,
                    kind,
                    code,
                    name: &name,
                    official_adult_population: None,
                    official_household_count: None,
                },
            )
            .unwrap()
        };
        let user = |conn: &mut DbConnection, email: &str, role: Role, area: Option<&Area>| {
            insert_account(
                conn,
                NewAccount {
                    email: Some(email),
                    phone: None,
                    name: &format!("Người dùng {email}"),
                    role,
                    area_id: area.map(|a| a.id.as_str()),
                    password_hash: hash,
                    language: Lang::Vi,
                    active: true,
                },
            )
            .unwrap()
        };
        let province = area(conn, None, AreaKind::Province, "P");
        let town = area(conn, Some(&province), AreaKind::Town, "P-T");
        let ward = area(conn, Some(&town), AreaKind::Ward, "P-T-W");
        let n1 = area(conn, Some(&ward), AreaKind::Neighbourhood, "P-T-W-1");
        let n2 = area(conn, Some(&ward), AreaKind::Neighbourhood, "P-T-W-2");
        let ward2 = area(conn, Some(&town), AreaKind::Ward, "P-T-W2");
        let n3 = area(conn, Some(&ward2), AreaKind::Neighbourhood, "P-T-W2-1");
        let volunteer = user(conn, VOLUNTEER, Role::Volunteer, Some(&n1));
        replace_assignments(conn, &volunteer, std::slice::from_ref(&n1)).unwrap();
        World {
            national_admin: user(conn, NATIONAL_ADMIN, Role::Admin, None),
            ward_admin: user(conn, WARD_ADMIN, Role::Admin, Some(&ward)),
            official: user(conn, OFFICIAL, Role::Official, Some(&ward)),
            head: user(conn, HEAD, Role::Head, Some(&n1)),
            volunteer,
            other_official: user(conn, OTHER_OFFICIAL, Role::Official, Some(&ward2)),
            province: province.id,
            town: town.id,
            ward: ward.id,
            n1: n1.id,
            n2: n2.id,
            ward2: ward2.id,
            n3: n3.id,
        }
    }
}

/// The real binary, `eid-adoption serve`, as a separate process on a database of the tests
/// (the one of a `TestApp`): to kill it mid-request, or to run two processes on one
/// database. Dropping it kills it (SIGKILL).
pub struct ServedBinary {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    process: crate::cli::Killed,
}

impl ServedBinary {
    /// Starts `serve` on a free port with the tests' secrets, the digest schedule off and
    /// `extra` environment, and waits until `/healthz` answers (panics after 30 s, or if
    /// the process exits first). Its output is dropped, or appended to the file named by
    /// `EID_TEST_SERVER_LOG`.
    pub async fn start(database_url: &str, extra: &[(&str, &str)]) -> ServedBinary {
        Self::start_on(crate::cli::free_port(), database_url, extra).await
    }

    /// The same on a given port: a server started again where it ran is the same node,
    /// which releases the idempotency leases its killed predecessor held.
    pub async fn start_on(port: u16, database_url: &str, extra: &[(&str, &str)]) -> ServedBinary {
        let log = std::env::var("EID_TEST_SERVER_LOG")
            .ok()
            .filter(|path| !path.is_empty());
        Self::spawn(port, database_url, extra, log.as_deref()).await
    }

    /// The same with everything it prints (`RUST_LOG=info`) appended to `log`.
    pub async fn start_logging_to(
        log: &str,
        database_url: &str,
        extra: &[(&str, &str)],
    ) -> ServedBinary {
        Self::spawn(crate::cli::free_port(), database_url, extra, Some(log)).await
    }

    async fn spawn(
        port: u16,
        database_url: &str,
        extra: &[(&str, &str)],
        log: Option<&str>,
    ) -> ServedBinary {
        let mut command = crate::cli::binary();
        command
            .env("DATABASE_URL", database_url)
            .env("EID_DIGEST_SCHEDULE", "off")
            .envs(extra.iter().copied())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
        // `EID_TEST_SERVER_LOG=FILE` keeps what the processes print, for a failure's story.
        match log {
            Some(path) => {
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("the server's log file");
                command.stdout(log.try_clone().unwrap()).stderr(log);
                if !extra.iter().any(|(name, _)| *name == "RUST_LOG") {
                    command.env("RUST_LOG", "info");
                }
            }
            None => {
                command
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
            }
        }
        let mut process = crate::cli::Killed(command.spawn().expect("run eid-adoption serve"));
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        loop {
            if let Ok(Some(status)) = process.0.try_wait() {
                panic!("eid-adoption serve exited before answering: {status}");
            }
            let up = client
                .get(format!("{base}/healthz"))
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if up {
                return ServedBinary { base, process };
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "eid-adoption serve did not come up in 30 s"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, whatever it was doing.
    pub fn kill(mut self) {
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
    }
}
