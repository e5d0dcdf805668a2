//! The server killed mid-work: several phones push their queues to the real binary
//! (`eid-adoption serve`, a process of its own on the test's database) while a head imports
//! registers; at a random moment the process is killed with SIGKILL and started again on the
//! same database, cycle after cycle. On PostgreSQL some cycles also cancel, and others
//! terminate, the server's running statements from outside. The phones follow
//! `mobile-spec/sync.md`: one frozen batch and key at a time, the same key on every resend,
//! `/sync/state` after a restart. At the end nothing a phone was told was saved is missing
//! or doubled, no valid mutation was refused, every device's `last_seq` is what it sent, no
//! idempotency key is left in progress, the SQLite file is sound, `recount` finds no
//! difference and every imported household is there once.
//!
//! Bounded: `CRASH_CYCLES` cycles (default 20) of a few seconds each. The seed is printed;
//! `CRASH_SEED` replays the same plan (what each phone records, when the server dies, which
//! faults), while the timing of the requests stays real. `CRASH_STUCK_SECS` (default 20) is
//! how long a key may answer "in progress" before the test calls it stuck. A longer run:
//!
//! ```sh
//! CRASH_CYCLES=200 cargo test --test api crash -- --nocapture
//! ```

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Months, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use eid_adoption::schema::{
    devices, households, idempotency_keys, residents, status_events, sync_mutations, visits,
};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::adoption_properties::Rng;
use crate::helpers::{ServedBinary, TestApp, HEAD, PASSWORD, VOLUNTEER};
use crate::phone::APP_VERSION;

/// The seeded volunteer on this many phones (device ids).
const PHONES: usize = 4;
/// How long the phones get, after the last start, to send everything still queued.
const DRAIN: Duration = Duration::from_secs(60);

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn sleep(duration: Duration) {
    actix_web::rt::time::sleep(duration).await
}

/// The phones' clock and calendar: Vietnam, UTC+7 all year.
fn vietnam_now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
}

fn vietnam_today() -> NaiveDate {
    vietnam_now().date_naive()
}

fn seq(mutation: &Value) -> i64 {
    mutation["seq"].as_i64().unwrap()
}

/// What one request got: an answer, or none (refused, reset, cut off, timed out).
enum Reply {
    Answer {
        status: u16,
        retry_after: Option<u64>,
        replayed: bool,
        body: Value,
        text: String,
    },
    Nothing,
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let Ok(response) = request.send().await else {
        return Reply::Nothing;
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after").and_then(|v| v.parse().ok());
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    match response.text().await {
        Ok(text) => Reply::Answer {
            status,
            retry_after,
            replayed,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        },
        Err(_) => Reply::Nothing,
    }
}

/// After no answer, a 5xx, a 429 or a 409: `sync.md`'s backoff scaled down for a test, at
/// least `Retry-After` but never more than a second.
async fn back_off(rng: &mut Rng, retry_after: Option<u64>) {
    let jitter = 50 + rng.below(150);
    let wait = retry_after.map_or(jitter, |s| (s * 1000).max(jitter));
    sleep(ms(wait.min(1000))).await
}

/// What one cycle (or the final drain) shares: the server's address and the cycle's clock.
struct Run<'a> {
    app: &'a TestApp,
    client: &'a reqwest::Client,
    base: String,
    area: &'a str,
    started: Instant,
    /// Only for the drain: work until done, or until then.
    drain_by: Option<Instant>,
    stuck_after: Duration,
    /// The server was killed; it comes back in the next cycle.
    down: Cell<bool>,
    /// Requests under way (the killer aims at them).
    busy: Cell<u32>,
}

impl<'a> Run<'a> {
    fn new(
        app: &'a TestApp,
        client: &'a reqwest::Client,
        server: &ServedBinary,
        area: &'a str,
    ) -> Run<'a> {
        Run {
            app,
            client,
            base: server.base.clone(),
            area,
            started: Instant::now(),
            drain_by: None,
            stuck_after: Duration::from_secs(setting("CRASH_STUCK_SECS", 20)),
            down: Cell::new(false),
            busy: Cell::new(0),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        self.busy.set(self.busy.get() + 1);
        let reply = send(request).await;
        self.busy.set(self.busy.get() - 1);
        reply
    }

    fn keep_going(&self, done: bool) -> bool {
        !self.down.get() && self.drain_by.is_none_or(|by| !done && Instant::now() < by)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

#[derive(Default, Debug)]
struct Tally {
    sent: u32,
    answered_200: u32,
    replayed: u32,
    no_answer: u32,
    server_errors: u32,
    in_progress_409: u32,
    renewed_sessions: u32,
    state_calls: u32,
}

/// A signed-in user's tokens. On 401 the phone refreshes; when that fails (a refresh whose
/// answer a crash lost makes the next one a reuse) it signs in again, as `sync.md` says.
struct Session {
    email: &'static str,
    access: String,
    refresh: String,
}

impl Session {
    async fn sign_in(app: &TestApp, email: &'static str) -> Session {
        let login = app.login(email, PASSWORD).await;
        assert_eq!(login.status, 200, "{}", login.text);
        Session {
            email,
            access: login.body["access_token"].as_str().unwrap().to_owned(),
            refresh: login.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn renew(&mut self, run: &Run<'_>, tally: &mut Tally) {
        tally.renewed_sessions += 1;
        let refreshed = run
            .send(
                run.client
                    .post(run.url("/api/v1/auth/refresh"))
                    .json(&json!({"refresh_token": self.refresh})),
            )
            .await;
        if let Reply::Answer {
            status: 200, body, ..
        } = refreshed
        {
            self.access = body["access_token"].as_str().unwrap().to_owned();
            self.refresh = body["refresh_token"].as_str().unwrap().to_owned();
        } else {
            *self = Session::sign_in(run.app, self.email).await;
        }
    }
}

/// The batch being sent, frozen: the same bytes under the same key until it is answered.
struct Batch {
    key: String,
    body: Vec<u8>,
    first: i64,
    /// Since when every answer has been 409 "in progress".
    in_progress_since: Option<Instant>,
}

struct CrashPhone {
    name: String,
    device_id: String,
    session: Session,
    /// What the volunteer records (the same for a seed, whatever the timing).
    actions: Rng,
    /// Batch sizes, waits, and whether to ask `/sync/state` after a restart.
    chance: Rng,
    /// Every mutation made, in `seq` order.
    made: Vec<Value>,
    /// Not yet taken by the server, as far as the phone knows.
    queue: Vec<Value>,
    in_flight: Option<Batch>,
    /// Every result received, replays and duplicates included.
    received: Vec<Value>,
    /// Households created on this phone, with their residents.
    households: Vec<(String, Vec<String>)>,
    /// Stopped pushing after an answer `sync.md` has no way on from.
    stopped: bool,
    failures: Vec<String>,
    tally: Tally,
}

impl CrashPhone {
    fn new(number: usize, session: Session, seed: u64) -> CrashPhone {
        CrashPhone {
            name: format!("phone {number}"),
            device_id: uuid::Uuid::new_v4().to_string(),
            session,
            actions: Rng(seed.wrapping_add(1000 + number as u64)),
            chance: Rng(seed.wrapping_add(2000 + number as u64)),
            made: Vec::new(),
            queue: Vec::new(),
            in_flight: None,
            received: Vec::new(),
            households: Vec::new(),
            stopped: false,
            failures: Vec::new(),
            tally: Tally::default(),
        }
    }

    fn drained(&self) -> bool {
        self.stopped || (self.queue.is_empty() && self.in_flight.is_none())
    }

    /// One action of the volunteer: a household, a person in one of hers, or a visit with
    /// e-ID and signature events dated today in Vietnam. All valid.
    fn act(&mut self, area: &str) {
        let seq = self.made.len() + 1;
        let id = uuid::Uuid::now_v7().to_string();
        let roll = self.actions.below(10);
        let (entity, data) = if self.households.is_empty() || roll < 2 {
            self.households.push((id.clone(), Vec::new()));
            let address = format!("Số {seq}, ngõ {} phố Khởi Động Lại", self.name);
            (
                "household",
                json!({"area_id": area, "address": address, "head_name": "Hoàng Văn Khởi"}),
            )
        } else {
            let at = self.actions.below(self.households.len() as u64) as usize;
            let (household, people) = self.households[at].clone();
            if roll < 5 || people.is_empty() {
                self.households[at].1.push(id.clone());
                ("resident", self.person(&household, people.is_empty()))
            } else {
                ("visit", self.visit(&household, &people))
            }
        };
        let mutation =
            json!({"seq": seq, "op": "create", "entity": entity, "id": id, "data": data});
        self.made.push(mutation.clone());
        self.queue.push(mutation);
    }

    fn person(&mut self, household: &str, first: bool) -> Value {
        let relation = if first {
            "head"
        } else {
            ["spouse", "child", "parent", "other"][self.actions.below(4) as usize]
        };
        let birth = format!(
            "19{}-{:02}-{:02}",
            50 + self.actions.below(50),
            1 + self.actions.below(12),
            1 + self.actions.below(28)
        );
        let sex = ["male", "female"][self.actions.below(2) as usize];
        json!({"household_id": household, "full_name": format!("Người {} số {}", self.name, self.made.len() + 1),
               "birth_date": birth, "sex": sex, "relation_to_head": relation})
    }

    fn visit(&mut self, household: &str, people: &[String]) -> Value {
        let visited_at = vietnam_now().to_rfc3339();
        if self.actions.chance(20) {
            return json!({"household_id": household, "visited_at": visited_at,
                          "outcome": "not_home", "events": []});
        }
        let today = vietnam_today();
        let event = |kind: &str, value: &str| {
            json!({"id": uuid::Uuid::now_v7().to_string(), "kind": kind, "value": value,
                   "effective_on": today})
        };
        let person = json!(people[self.actions.below(people.len() as u64) as usize]);
        let level = ["level1", "level2_pending", "level2"][self.actions.below(3) as usize];
        let mut eid = event("eid", level);
        let mut signature = if self.actions.chance(60) {
            let mut digital = event("signature", "digital");
            digital["expires_on"] = json!(today.checked_add_months(Months::new(36)).unwrap());
            digital
        } else {
            event("signature", "electronic")
        };
        eid["resident_id"] = person.clone();
        signature["resident_id"] = person;
        let mut events = vec![eid, signature];
        if self.actions.chance(30) {
            events.push(event("broadband", "yes"));
        }
        json!({"household_id": household, "visited_at": visited_at, "outcome": "helped",
               "events": events})
    }

    /// A cycle of the phone: records its actions when they are due and pushes until the
    /// server dies (or, in the drain, until everything is sent). What is due after the
    /// server died is recorded all the same: the volunteer goes on working offline.
    async fn work(&mut self, run: &Run<'_>, due: Vec<u64>) {
        if self.chance.chance(50) {
            self.recover(run).await;
        }
        let mut due = due.into_iter().peekable();
        while run.keep_going(self.drained()) {
            while due.next_if(|at| run.started.elapsed() >= ms(*at)).is_some() {
                self.act(run.area);
            }
            if self.drained() {
                sleep(ms(10)).await;
                continue;
            }
            self.push_once(run).await;
        }
        for _ in due {
            self.act(run.area);
        }
    }

    /// `sync.md`, start-up: ask what the server took and drop it from the queue. A frozen
    /// batch stays frozen: it is resent as it is, and if the server took it, its stored
    /// answer comes back.
    async fn recover(&mut self, run: &Run<'_>) {
        if let Some(last_seq) = self.server_last_seq(run).await {
            if last_seq > self.made.len() as i64 {
                self.failures.push(format!(
                    "{}: the server says it took up to {last_seq}, but only {} were made",
                    self.name,
                    self.made.len()
                ));
            }
            self.queue.retain(|m| seq(m) > last_seq);
        }
    }

    async fn server_last_seq(&mut self, run: &Run<'_>) -> Option<i64> {
        for _ in 0..2 {
            self.tally.state_calls += 1;
            let path = format!("/api/v1/sync/state?device_id={}", self.device_id);
            let reply = run
                .send(
                    run.client
                        .get(run.url(&path))
                        .bearer_auth(&self.session.access)
                        .header("X-App-Version", APP_VERSION),
                )
                .await;
            match reply {
                Reply::Answer {
                    status: 200, body, ..
                } => return body["last_seq"].as_i64(),
                Reply::Answer { status: 401, .. } => self.session.renew(run, &mut self.tally).await,
                _ => return None,
            }
        }
        None
    }

    /// The next batch from the queue's head, frozen: its bytes and key never change.
    fn freeze(&mut self) -> Batch {
        let size = 1 + self.chance.below(8) as usize;
        let mutations: Vec<Value> = self.queue.iter().take(size).cloned().collect();
        let (first, last) = (seq(&mutations[0]), seq(mutations.last().unwrap()));
        let body = json!({"device_id": self.device_id, "mutations": mutations});
        Batch {
            key: format!("{}:{first}-{last}", self.device_id),
            body: serde_json::to_vec(&body).unwrap(),
            first,
            in_progress_since: None,
        }
    }

    /// One send of the frozen batch (freezing the next one first if there is none).
    async fn push_once(&mut self, run: &Run<'_>) {
        if self.in_flight.is_none() {
            self.in_flight = Some(self.freeze());
        }
        let batch = self.in_flight.as_ref().unwrap();
        let key = batch.key.clone();
        let request = run
            .client
            .post(run.url("/api/v1/sync/push"))
            .bearer_auth(&self.session.access)
            .header("X-App-Version", APP_VERSION)
            .header("Idempotency-Key", &key)
            .header("X-Device-Time", vietnam_now().to_rfc3339())
            .header("Content-Type", "application/json")
            .body(batch.body.clone());
        self.tally.sent += 1;
        let reply = run.send(request).await;
        if matches!(&reply, Reply::Answer { status, .. } if *status != 409) {
            if let Some(batch) = self.in_flight.as_mut() {
                batch.in_progress_since = None;
            }
        }
        match reply {
            Reply::Nothing => {
                self.tally.no_answer += 1;
                back_off(&mut self.chance, None).await
            }
            Reply::Answer {
                status: 200,
                body,
                replayed,
                ..
            } => {
                self.tally.answered_200 += 1;
                self.tally.replayed += u32::from(replayed);
                self.take(&body);
            }
            Reply::Answer { status: 401, .. } => self.session.renew(run, &mut self.tally).await,
            Reply::Answer {
                status: 409,
                body,
                retry_after,
                ..
            } if body["code"] == "idempotency-key-in-progress" => {
                self.tally.in_progress_409 += 1;
                let batch = self.in_flight.as_mut().unwrap();
                let since = *batch.in_progress_since.get_or_insert_with(Instant::now);
                if since.elapsed() > run.stuck_after {
                    self.give_up_on_key(run, since.elapsed()).await
                } else {
                    back_off(&mut self.chance, retry_after).await
                }
            }
            Reply::Answer {
                status: 429 | 500..=599,
                retry_after,
                ..
            } => {
                self.tally.server_errors += 1;
                back_off(&mut self.chance, retry_after).await
            }
            Reply::Answer { status, text, .. } => {
                self.failures.push(format!(
                    "{}: push {key} answered {status}, which sync.md has no way on from: {text}",
                    self.name
                ));
                self.stopped = true;
            }
        }
    }

    /// A 200: every result is kept, and what the server took up to `last_seq` leaves the queue.
    fn take(&mut self, answer: &Value) {
        let (Some(results), Some(last_seq)) =
            (answer["results"].as_array(), answer["last_seq"].as_i64())
        else {
            self.failures.push(format!(
                "{}: a push answer without results: {answer}",
                self.name
            ));
            self.stopped = true;
            return;
        };
        self.received.extend(results.iter().cloned());
        self.queue.retain(|m| seq(m) > last_seq);
        self.in_flight = None;
    }

    /// `sync.md`, Batches: a key "in progress" for too long means its first attempt died
    /// on the server. Ask what it took; if the head moved, the next batch has a new key;
    /// if not, only a new device id would help, and the phone stops.
    async fn give_up_on_key(&mut self, run: &Run<'_>, waited: Duration) {
        let Some(last_seq) = self.server_last_seq(run).await else {
            return back_off(&mut self.chance, None).await;
        };
        let batch = self.in_flight.take().unwrap();
        self.failures.push(format!(
            "{}: key stuck in progress: {} answered 409 idempotency-key-in-progress for {:.1} s \
             (the server had taken up to seq {last_seq})",
            self.name,
            batch.key,
            waited.as_secs_f64()
        ));
        self.queue.retain(|m| seq(m) > last_seq);
        if last_seq < batch.first {
            self.failures.push(format!(
                "{}: its queue's head did not move, so only a new device id could send it: \
                 stopped with {} mutations unsent",
                self.name,
                self.queue.len()
            ));
            self.in_flight = Some(batch);
            self.stopped = true;
        }
    }
}

/// A small register for the head's neighbourhood: five households of two people each.
fn register(file: usize) -> (Vec<String>, Vec<u8>) {
    let mut csv = String::from(
        "household_code,address,head_name,full_name,birth_date,sex,relation_to_head,citizen_id,eid_level,eid_since\n",
    );
    let mut codes = Vec::new();
    for h in 1..=5 {
        let code = format!("CR-{file:03}-{h}");
        let head = format!("Nguyễn Văn Sổ {file}-{h}");
        csv.push_str(&format!(
            "{code},\"Số {h}, ngõ {file}, phố Sổ Hộ Khẩu\",{head},{head},1970-0{h}-15,male,head,0380{file:06}{h}1,level2,2025-03-01\n"
        ));
        csv.push_str(&format!(
            "{code},,,Trần Thị Sổ {file}-{h},1975-0{h}-20,female,spouse,0380{file:06}{h}2,level1,2025-04-01\n"
        ));
        codes.push(code);
    }
    (codes, csv.into_bytes())
}

struct Import {
    codes: Vec<String>,
    body: Vec<u8>,
    key: String,
    in_progress_since: Option<Instant>,
    answered: bool,
}

/// The neighbourhood head, uploading registers and resending each until it is answered.
struct Head {
    session: Session,
    chance: Rng,
    imports: Vec<Import>,
    failures: Vec<String>,
    tally: Tally,
}

impl Head {
    fn new(session: Session, seed: u64) -> Head {
        Head {
            session,
            chance: Rng(seed.wrapping_add(3000)),
            imports: Vec::new(),
            failures: Vec::new(),
            tally: Tally::default(),
        }
    }

    fn start_import(&mut self) {
        let file = self.imports.len() + 1;
        let (codes, body) = register(file);
        self.imports.push(Import {
            codes,
            body,
            key: format!("register-{file}"),
            in_progress_since: None,
            answered: false,
        });
    }

    fn pending(&self) -> Option<usize> {
        self.imports.iter().position(|i| !i.answered)
    }

    /// Sends the registers until each is answered; a new one is uploaded at `new_at` ms into
    /// the cycle (or after it, if the server died first).
    async fn work(&mut self, run: &Run<'_>, mut new_at: Option<u64>) {
        while run.keep_going(self.pending().is_none()) {
            if new_at.is_some_and(|at| run.started.elapsed() >= ms(at)) {
                self.start_import();
                new_at = None;
            }
            match self.pending() {
                Some(at) => self.send_import(run, at).await,
                None => sleep(ms(5)).await,
            }
        }
        if new_at.is_some() {
            self.start_import();
        }
    }

    async fn send_import(&mut self, run: &Run<'_>, at: usize) {
        let import = &mut self.imports[at];
        let path = format!(
            "/api/v1/imports/households?area_id={}&dry_run=false",
            run.area
        );
        self.tally.sent += 1;
        let reply = run
            .send(
                run.client
                    .post(run.url(&path))
                    .bearer_auth(&self.session.access)
                    .header("Idempotency-Key", &import.key)
                    .header("Content-Type", "text/csv")
                    .body(import.body.clone()),
            )
            .await;
        if let Reply::Answer { status, .. } = &reply {
            if *status != 409 {
                import.in_progress_since = None;
            }
        }
        match reply {
            Reply::Nothing => {
                self.tally.no_answer += 1;
                back_off(&mut self.chance, None).await
            }
            Reply::Answer {
                status: 200,
                body,
                replayed,
                ..
            } => {
                self.tally.answered_200 += 1;
                self.tally.replayed += u32::from(replayed);
                import.answered = true;
                let households = body["households_created"].as_u64().unwrap_or(0)
                    + body["households_matched"].as_u64().unwrap_or(0);
                if households != import.codes.len() as u64 {
                    self.failures.push(format!(
                        "import {}: the answer counts {households} households, not {}: {body}",
                        import.key,
                        import.codes.len()
                    ));
                }
            }
            Reply::Answer { status: 401, .. } => self.session.renew(run, &mut self.tally).await,
            Reply::Answer {
                status: 409,
                body,
                retry_after,
                ..
            } if body["code"] == "idempotency-key-in-progress" => {
                self.tally.in_progress_409 += 1;
                let since = *import.in_progress_since.get_or_insert_with(Instant::now);
                if since.elapsed() > run.stuck_after {
                    // Importing the same file again creates nothing new: a new key will do.
                    self.failures.push(format!(
                        "head: key stuck in progress: import {} answered 409 \
                         idempotency-key-in-progress for {:.1} s; sent again under a new key",
                        import.key,
                        since.elapsed().as_secs_f64()
                    ));
                    import.key.push_str("-again");
                    import.in_progress_since = None;
                } else {
                    back_off(&mut self.chance, retry_after).await
                }
            }
            Reply::Answer {
                status: 429 | 500..=599,
                retry_after,
                ..
            } => {
                self.tally.server_errors += 1;
                back_off(&mut self.chance, retry_after).await
            }
            Reply::Answer { status, text, .. } => {
                self.failures
                    .push(format!("import {} answered {status}: {text}", import.key));
                import.answered = true;
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Cancel,
    Terminate,
}

/// One cycle, drawn from the seed: when the server dies, when each phone records something,
/// whether the head starts a new register, and (used on PostgreSQL only) which faults when.
struct Plan {
    kill_after: u64,
    /// Kill only once a request is under way, this many ms into it.
    aim: Option<u64>,
    due: Vec<Vec<u64>>,
    /// When the head uploads a new register (just before the kill, mostly).
    new_import: Option<u64>,
    faults: Vec<(u64, Fault)>,
}

impl Plan {
    fn draw(rng: &mut Rng) -> Plan {
        let kill_after = 300 + rng.below(1700);
        let aim = rng.chance(75).then(|| rng.below(15));
        let due = (0..PHONES)
            .map(|_| {
                let mut at: Vec<u64> = (0..4 + rng.below(12))
                    .map(|_| rng.below(kill_after + 300))
                    .collect();
                at.sort_unstable();
                at
            })
            .collect();
        let new_import = rng
            .chance(40)
            .then(|| kill_after.saturating_sub(rng.below(120)));
        let kind = if rng.chance(50) {
            Fault::Cancel
        } else {
            Fault::Terminate
        };
        let faults = if rng.chance(60) {
            let mut at: Vec<(u64, Fault)> = (0..1 + rng.below(3))
                .map(|_| (50 + rng.below(kill_after), kind))
                .collect();
            at.sort_unstable_by_key(|f| f.0);
            at
        } else {
            Vec::new()
        };
        Plan {
            kill_after,
            aim,
            due,
            new_import,
            faults,
        }
    }
}

/// SIGKILL at the planned moment; when aiming, not before a request is under way (for at
/// most half a second), and a few ms into it, so that most kills land mid-request.
async fn kill_later(server: ServedBinary, after: u64, aim: Option<u64>, run: &Run<'_>) {
    sleep(ms(after)).await;
    if let Some(into) = aim {
        let waiting = Instant::now();
        while run.busy.get() == 0 && waiting.elapsed() < ms(500) {
            sleep(ms(1)).await;
        }
        sleep(ms(into)).await;
    }
    server.kill();
    run.down.set(true);
}

/// Cancels or terminates, from a connection of its own, every statement the server runs on
/// the test's database, trying for up to 50 ms until it hits one. Returns how many it hit.
fn interrupt(database_url: &str, fault: Fault) -> usize {
    #[derive(QueryableByName)]
    struct Hit {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        hit: bool,
    }
    let name = database_url
        .rsplit('/')
        .next()
        .and_then(|n| n.split('?').next())
        .unwrap();
    let function = match fault {
        Fault::Cancel => "pg_cancel_backend",
        Fault::Terminate => "pg_terminate_backend",
    };
    let query = format!(
        "SELECT {function}(pid) AS hit FROM pg_stat_activity WHERE datname = '{name}' \
         AND pid <> pg_backend_pid() AND state = 'active' AND backend_type = 'client backend'"
    );
    let mut conn = PgConnection::establish(database_url).expect("admin connection");
    let trying = Instant::now();
    loop {
        let hits = diesel::sql_query(&query)
            .load::<Hit>(&mut conn)
            .expect("interrupt the server's statements")
            .iter()
            .filter(|h| h.hit)
            .count();
        if hits > 0 || trying.elapsed() > ms(50) {
            return hits;
        }
    }
}

/// The planned faults, each once a request is under way (waiting at most half a second).
async fn inject_faults(run: &Run<'_>, faults: &[(u64, Fault)], hits: &mut BTreeMap<String, usize>) {
    for &(at, fault) in faults {
        sleep(ms(at).saturating_sub(run.started.elapsed())).await;
        let waiting = Instant::now();
        while run.busy.get() == 0 && waiting.elapsed() < ms(500) && !run.down.get() {
            sleep(ms(1)).await;
        }
        if run.down.get() {
            return;
        }
        let url = run.app.settings.database_url.clone();
        let hit = tokio::task::spawn_blocking(move || interrupt(&url, fault))
            .await
            .unwrap();
        *hits.entry(format!("{fault:?} hit")).or_default() += hit;
        *hits.entry(format!("{fault:?} tried")).or_default() += 1;
    }
}

fn counted(ids: Vec<String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// A result refusing a mutation, then or the first time.
fn refusal(result: &Value) -> bool {
    let refused = |r: &Value| matches!(r.as_str(), Some("rejected" | "conflict"));
    refused(&result["result"]) || refused(&result["original_result"])
}

fn describe(result: &Value) -> String {
    let mut text = result["result"].as_str().unwrap_or("?").to_owned();
    if let Some(original) = result["original_result"].as_str() {
        text.push_str(&format!(" (first: {original})"));
    }
    if let Some(code) = result["problem"]["code"].as_str() {
        text.push_str(&format!(" {code}"));
    }
    if let Some(error) = result["problem"]["errors"].get(0) {
        text.push_str(&format!(" at {} ({})", error["pointer"], error["code"]));
    }
    text
}

/// Every mutation the server took is in the database once (a visit with its events), and
/// none of them, all valid, was ever refused.
fn lost_or_doubled(app: &TestApp, phones: &[CrashPhone]) -> Vec<String> {
    let (rows, events, recorded) = app.with_db(|conn| {
        let rows: HashMap<&str, HashMap<String, usize>> = HashMap::from([
            (
                "household",
                counted(households::table.select(households::id).load(conn).unwrap()),
            ),
            (
                "resident",
                counted(residents::table.select(residents::id).load(conn).unwrap()),
            ),
            (
                "visit",
                counted(visits::table.select(visits::id).load(conn).unwrap()),
            ),
        ]);
        let events: Vec<(String, Option<String>)> = status_events::table
            .select((status_events::id, status_events::visit_id))
            .load(conn)
            .unwrap();
        // What the server recorded for each mutation, for those whose answer was lost.
        let recorded: Vec<(String, i64, String, Option<String>)> = sync_mutations::table
            .select((
                sync_mutations::device_id,
                sync_mutations::seq,
                sync_mutations::result,
                sync_mutations::problem_code,
            ))
            .load(conn)
            .unwrap();
        let recorded: HashMap<(String, i64), (String, Option<String>)> = recorded
            .into_iter()
            .map(|(device, seq, result, code)| ((device, seq), (result, code)))
            .collect();
        (rows, events, recorded)
    });
    let events_by_id = counted(events.iter().map(|(id, _)| id.clone()).collect());
    let events_of_visit = counted(events.iter().filter_map(|(_, v)| v.clone()).collect());
    let (mut missing, mut refused) = (Vec::new(), Vec::new());
    for phone in phones {
        for mutation in &phone.made {
            let (seq, entity) = (seq(mutation), mutation["entity"].as_str().unwrap());
            let id = mutation["id"].as_str().unwrap();
            if phone.queue.iter().any(|m| m["seq"] == seq) {
                continue; // never taken by the server: still on the phone (reported above)
            }
            let what = format!("{} seq {seq} create {entity} {id}", phone.name);
            let answers: Vec<&Value> = phone.received.iter().filter(|r| r["seq"] == seq).collect();
            // For an answer the phone never got: what the server recorded.
            let server = recorded.get(&(phone.device_id.clone(), seq));
            let answered = match (answers.first(), server) {
                (Some(first), _) => describe(first),
                (None, Some((result, code))) => format!(
                    "no result received; the server recorded {result} {}",
                    code.as_deref().unwrap_or("")
                ),
                (None, None) => "no result received".to_owned(),
            };
            let server_refused = server.is_some_and(|(r, _)| r == "rejected" || r == "conflict");
            if answers.iter().any(|r| refusal(r)) || (answers.is_empty() && server_refused) {
                let story = if answers.is_empty() {
                    answered
                } else {
                    let all: Vec<String> = answers.iter().map(|r| describe(r)).collect();
                    all.join(", then ")
                };
                refused.push(format!("{what}: {story}"));
                continue;
            }
            let rows = rows[entity].get(id).copied().unwrap_or(0);
            if rows != 1 {
                missing.push(format!("{what} ({answered}): {rows} rows"));
            }
            if entity == "visit" {
                let sent = mutation["data"]["events"].as_array().unwrap();
                let stored = events_of_visit.get(id).copied().unwrap_or(0);
                let each_once = sent
                    .iter()
                    .all(|e| events_by_id.get(e["id"].as_str().unwrap()).copied() == Some(1));
                if stored != sent.len() || !each_once {
                    missing.push(format!(
                        "{what} ({answered}): {} events sent, {stored} stored with the visit",
                        sent.len()
                    ));
                }
            }
        }
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{} mutations are not in the database exactly once:\n    {}",
            missing.len(),
            missing.join("\n    ")
        ));
    }
    if !refused.is_empty() {
        problems.push(format!(
            "{} valid mutations were refused (lost records):\n    {}",
            refused.len(),
            refused.join("\n    ")
        ));
    }
    problems
}

/// What went wrong on the phones and for the head: stuck keys, unexpected answers, queues
/// that never drained, registers never answered.
fn what_the_clients_saw(phones: &[CrashPhone], head: &Head) -> Vec<String> {
    let mut problems = Vec::new();
    for phone in phones {
        problems.extend(phone.failures.iter().cloned());
        if !phone.drained() {
            problems.push(format!(
                "{}: did not drain in {} s: {} mutations still queued",
                phone.name,
                DRAIN.as_secs(),
                phone.queue.len()
            ));
        }
    }
    problems.extend(head.failures.iter().cloned());
    if let Some(at) = head.pending() {
        problems.push(format!(
            "import {} was never answered",
            head.imports[at].key
        ));
    }
    problems
}

/// Every device's `last_seq`, served and stored, is the number of mutations its phone made.
async fn last_seqs_that_differ(
    app: &TestApp,
    run: &Run<'_>,
    phones: &mut [CrashPhone],
) -> Vec<String> {
    let mut problems = Vec::new();
    for phone in phones {
        let made = phone.made.len() as i64;
        let served = phone.server_last_seq(run).await;
        let stored: Option<i64> = app.with_db(|conn| {
            devices::table
                .find(&phone.device_id)
                .select(devices::last_seq)
                .first(conn)
                .optional()
                .unwrap()
        });
        if served != Some(made) || stored != Some(made) {
            problems.push(format!(
                "{} made {made} mutations, but /sync/state says last_seq {served:?} and the \
                 devices table {stored:?}",
                phone.name
            ));
        }
    }
    problems
}

/// No key is left "in progress" once no request is running.
fn keys_left_in_progress(app: &TestApp) -> Vec<String> {
    let in_progress: Vec<(String, NaiveDateTime)> = app.with_db(|conn| {
        idempotency_keys::table
            .filter(idempotency_keys::status.is_null())
            .select((idempotency_keys::key, idempotency_keys::created_at))
            .load(conn)
            .unwrap()
    });
    if in_progress.is_empty() {
        return Vec::new();
    }
    let keys: Vec<String> = in_progress
        .iter()
        .map(|(key, at)| format!("{key} (since {at})"))
        .collect();
    vec![format!(
        "{} idempotency keys are left in progress with no request running:\n    {}",
        keys.len(),
        keys.join("\n    ")
    )]
}

/// Every imported household is there once, with its two people.
fn imports_not_there_once(app: &TestApp, head: &Head) -> Vec<String> {
    let codes: Vec<String> = head.imports.iter().flat_map(|i| i.codes.clone()).collect();
    let (imported, people) = app.with_db(|conn| {
        let imported: Vec<(Option<String>, String)> = households::table
            .filter(households::code.eq_any(codes.clone()))
            .select((households::code, households::id))
            .load(conn)
            .unwrap();
        let ids: Vec<String> = imported.iter().map(|(_, id)| id.clone()).collect();
        let people = residents::table
            .filter(residents::household_id.eq_any(ids))
            .select(residents::household_id)
            .load(conn)
            .unwrap();
        (imported, counted(people))
    });
    let by_code = counted(imported.iter().filter_map(|(c, _)| c.clone()).collect());
    let mut problems = Vec::new();
    for code in &codes {
        let found = by_code.get(code).copied().unwrap_or(0);
        if found != 1 {
            problems.push(format!("imported household {code} is there {found} times"));
        }
    }
    for (code, id) in &imported {
        let found = people.get(id).copied().unwrap_or(0);
        if found != 2 {
            problems.push(format!(
                "imported household {code:?} has {found} residents, not 2"
            ));
        }
    }
    problems
}

/// On SQLite, `PRAGMA integrity_check` says `ok`.
fn sqlite_file_not_sound(database_url: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let Some(path) = database_url.strip_prefix("sqlite://") else {
        return Vec::new();
    };
    let mut conn = SqliteConnection::establish(path).unwrap();
    let answer: Vec<String> = diesel::sql_query("PRAGMA integrity_check")
        .load::<Check>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|c| c.integrity_check)
        .collect();
    if answer == ["ok"] {
        Vec::new()
    } else {
        vec![format!("PRAGMA integrity_check: {answer:?}")]
    }
}

/// `eid-adoption recount` finds no difference between the served counters and the rows.
fn recount_differences(database_url: &str) -> Vec<String> {
    let recount = crate::cli::binary()
        .env("DATABASE_URL", database_url)
        .arg("recount")
        .output()
        .expect("run eid-adoption recount");
    if recount.status.success() {
        return Vec::new();
    }
    vec![format!(
        "eid-adoption recount exited {}:\n{}{}",
        recount.status,
        String::from_utf8_lossy(&recount.stdout),
        String::from_utf8_lossy(&recount.stderr)
    )]
}

#[actix_web::test]
async fn phones_and_an_import_survive_sigkill_and_database_faults_without_losing_or_doubling_anything(
) {
    let cycles = setting("CRASH_CYCLES", 20);
    // A new seed each run unless one is given.
    let seed = setting("CRASH_SEED", u64::from(Utc::now().timestamp_subsec_nanos()));
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let database_url = app.settings.database_url.clone();
    let postgres = database_url.starts_with("postgres");
    println!(
        "crash test on {}: {cycles} cycles, seed {seed} (CRASH_SEED={seed} replays the plan)",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let began = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mail_dir = app.mail_dir.path().display().to_string();
    let env = [("EID_WORKERS", "2"), ("EID_MAIL_DIR", mail_dir.as_str())];
    let mut phones = Vec::new();
    for number in 1..=PHONES {
        let session = Session::sign_in(&app, VOLUNTEER).await;
        phones.push(CrashPhone::new(number, session, seed));
    }
    let mut head = Head::new(Session::sign_in(&app, HEAD).await, seed);
    head.start_import();
    let mut rng = Rng(seed);
    let mut fault_hits = BTreeMap::new();
    // Restarted where it ran: the same node, so it releases its predecessor's leases.
    let port = crate::cli::free_port();

    for _ in 0..cycles {
        let plan = Plan::draw(&mut rng);
        let faults = if postgres { plan.faults } else { Vec::new() };
        let server = ServedBinary::start_on(port, &database_url, &env).await;
        let run = Run::new(&app, &client, &server, &world.n1);
        let phones_work = join_all(
            phones
                .iter_mut()
                .zip(plan.due)
                .map(|(phone, due)| phone.work(&run, due)),
        );
        tokio::join!(
            kill_later(server, plan.kill_after, plan.aim, &run),
            phones_work,
            head.work(&run, plan.new_import),
            inject_faults(&run, &faults, &mut fault_hits),
        );
    }

    // The last start: everything still queued goes through, and the registers are in.
    let server = ServedBinary::start_on(port, &database_url, &env).await;
    let run = Run {
        drain_by: Some(Instant::now() + DRAIN),
        ..Run::new(&app, &client, &server, &world.n1)
    };
    tokio::join!(
        join_all(phones.iter_mut().map(|phone| phone.work(&run, Vec::new()))),
        head.work(&run, None),
    );

    let mut problems = what_the_clients_saw(&phones, &head);
    problems.extend(lost_or_doubled(&app, &phones));
    problems.extend(last_seqs_that_differ(&app, &run, &mut phones).await);
    problems.extend(keys_left_in_progress(&app));
    problems.extend(imports_not_there_once(&app, &head));
    server.kill();
    problems.extend(sqlite_file_not_sound(&database_url));
    problems.extend(recount_differences(&database_url));

    let made: usize = phones.iter().map(|p| p.made.len()).sum();
    println!(
        "{cycles} cycles and the drain in {:.1} s: {made} mutations from {PHONES} phones, {} registers, faults {fault_hits:?}",
        began.elapsed().as_secs_f64(),
        head.imports.len()
    );
    for phone in &phones {
        println!(
            "  {}: {} made, {:?}",
            phone.name,
            phone.made.len(),
            phone.tally
        );
    }
    println!("  head: {:?}", head.tally);
    assert!(
        problems.is_empty(),
        "seed {seed} (CRASH_SEED={seed} CRASH_CYCLES={cycles} replays the plan): {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
