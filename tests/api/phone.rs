//! The reference phone: a small sync client that follows `mobile-spec/sync.md` literally,
//! used by the sync scenarios. It keeps a queue of numbered mutations (persisted with their
//! numbers), pushes them in batches with one `Idempotency-Key` per batch (the same on every
//! resend), refreshes its token on 401 and resends with the same key, drops what the
//! server took up to `last_seq`, pulls pages until `has_more` is false keeping the cursor,
//! re-downloads on 410 keeping its queue, and recovers from a crash with `/sync/state`.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestResponse, PASSWORD};

pub const APP_VERSION: &str = "1.4.0";
/// What `sync.md` allows per push.
pub const BATCH: usize = 200;

pub struct Phone<'a> {
    app: &'a TestApp,
    /// The server this phone talks to (another process, in one scenario).
    pub base: String,
    pub device_id: String,
    pub access_token: String,
    refresh_token: String,
    next_seq: i64,
    /// Unsent mutations, in `seq` order.
    pub queue: Vec<Value>,
    pub cursor: Option<String>,
    /// The phone's copy of the server's records, per entity, by id.
    pub local: BTreeMap<&'static str, BTreeMap<String, Value>>,
    /// Every result received, by seq.
    pub results: BTreeMap<i64, Value>,
    /// How wrong the phone's clock is.
    pub clock_error: chrono::Duration,
    pub batch: usize,
}

pub const ENTITIES: [&str; 4] = ["households", "residents", "visits", "status_events"];

impl<'a> Phone<'a> {
    pub async fn sign_in(app: &'a TestApp, email: &str) -> Phone<'a> {
        let login = app.login(email, PASSWORD).await;
        assert_eq!(login.status, 200, "{}", login.text);
        Phone {
            app,
            base: app.address.clone(),
            device_id: uuid::Uuid::new_v4().to_string(),
            access_token: login.body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: login.body["refresh_token"].as_str().unwrap().to_owned(),
            next_seq: 1,
            queue: Vec::new(),
            cursor: None,
            local: ENTITIES.iter().map(|e| (*e, BTreeMap::new())).collect(),
            results: BTreeMap::new(),
            clock_error: chrono::Duration::zero(),
            batch: BATCH,
        }
    }

    /// The phone's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.clock_error
    }

    /// The phone's today: a day of the ward's calendar (Vietnam), as the app shows it.
    pub fn today(&self) -> String {
        eid_adoption::clock::clock().day_of(self.now()).to_string()
    }

    /// Queues a mutation with the next number; returns the number.
    pub fn queue_mutation(
        &mut self,
        op: &str,
        entity: &str,
        id: &str,
        base_version: Option<i64>,
        data: Value,
    ) -> i64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut mutation = json!({"seq": seq, "op": op, "entity": entity, "id": id, "data": data});
        if let Some(base) = base_version {
            mutation["base_version"] = json!(base);
        }
        self.queue.push(mutation);
        seq
    }

    /// Queues a create with a new UUIDv7 made on the phone; returns the id.
    pub fn create(&mut self, entity: &str, data: Value) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        self.queue_mutation("create", entity, &id, None, data);
        id
    }

    /// Queues an edit based on the version in the phone's copy.
    pub fn update(&mut self, entity: &str, id: &str, data: Value) -> i64 {
        let table = match entity {
            "household" => "households",
            _ => "residents",
        };
        let base = self.local[table]
            .get(id)
            .and_then(|r| r["version"].as_i64())
            .expect("edits are made on downloaded records");
        self.queue_mutation("update", entity, id, Some(base), data)
    }

    /// A visit at the phone's "now", with events dated the phone's "today".
    pub fn visit(&mut self, household_id: &str, outcome: &str, events: Vec<Value>) -> String {
        let visited_at = self.now().to_rfc3339();
        self.create(
            "visit",
            json!({"household_id": household_id, "visited_at": visited_at,
                   "outcome": outcome, "events": events}),
        )
    }

    /// The next batch and its idempotency key (the same batch always gets the same key).
    pub fn next_batch(&self) -> (String, Value) {
        let batch: Vec<Value> = self.queue.iter().take(self.batch).cloned().collect();
        let first = batch
            .first()
            .map(|m| m["seq"].as_i64().unwrap())
            .unwrap_or(0);
        let last = batch
            .last()
            .map(|m| m["seq"].as_i64().unwrap())
            .unwrap_or(0);
        let key = format!("{}:{first}-{last}", self.device_id);
        (
            key,
            json!({"device_id": self.device_id, "mutations": batch}),
        )
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.access_token)
            .header("X-App-Version", APP_VERSION)
    }

    /// Sends one push as is (no retry, no acknowledgement): what goes over the air.
    pub async fn send_push(&self, key: &str, body: &Value) -> TestResponse {
        self.app
            .send(
                self.request(Method::POST, "/api/v1/sync/push")
                    .header("Idempotency-Key", key)
                    .header("X-Device-Time", self.now().to_rfc3339())
                    .json(body),
            )
            .await
    }

    /// Pushes the whole queue, batch by batch, as `sync.md` says. Returns the responses.
    pub async fn push(&mut self) -> Vec<TestResponse> {
        let mut responses = Vec::new();
        while !self.queue.is_empty() {
            let (key, body) = self.next_batch();
            let response = self.send_with_retries(&key, &body).await;
            assert_eq!(response.status, 200, "push: {}", response.text);
            self.acknowledge(&response.body);
            responses.push(response);
        }
        responses
    }

    /// 401 → refresh → the same batch with the same key; 409 (still running) → wait and
    /// resend with the same key.
    pub async fn send_with_retries(&mut self, key: &str, body: &Value) -> TestResponse {
        for _ in 0..10 {
            let response = self.send_push(key, body).await;
            match response.status {
                401 => self.refresh().await,
                409 => actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await,
                _ => return response,
            }
        }
        panic!("push did not get through");
    }

    pub async fn refresh(&mut self) {
        let response = self
            .app
            .send(
                self.app
                    .client
                    .post(format!("{}/api/v1/auth/refresh", self.base))
                    .json(&json!({"refresh_token": self.refresh_token})),
            )
            .await;
        assert_eq!(response.status, 200, "refresh: {}", response.text);
        self.access_token = response.body["access_token"].as_str().unwrap().to_owned();
        self.refresh_token = response.body["refresh_token"].as_str().unwrap().to_owned();
    }

    /// Every result is kept; everything up to `last_seq` leaves the queue.
    pub fn acknowledge(&mut self, body: &Value) {
        for result in body["results"].as_array().unwrap() {
            let seq = result["seq"].as_i64().unwrap();
            if result["result"] != "duplicate" || !self.results.contains_key(&seq) {
                self.results.insert(seq, result.clone());
            }
        }
        let last_seq = body["last_seq"].as_i64().unwrap();
        self.queue.retain(|m| m["seq"].as_i64().unwrap() > last_seq);
    }

    /// After a crash: what did the server take?
    pub async fn recover(&mut self) -> i64 {
        let response = self
            .app
            .send(self.request(
                Method::GET,
                &format!("/api/v1/sync/state?device_id={}", self.device_id),
            ))
            .await;
        assert_eq!(response.status, 200, "state: {}", response.text);
        let last_seq = response.body["last_seq"].as_i64().unwrap();
        self.queue.retain(|m| m["seq"].as_i64().unwrap() > last_seq);
        last_seq
    }

    /// One page from the stored cursor.
    pub async fn pull_page(&self, limit: Option<u32>) -> TestResponse {
        let mut path = "/api/v1/sync/pull?".to_owned();
        if let Some(cursor) = &self.cursor {
            path.push_str(&format!("cursor={cursor}&"));
        }
        if let Some(limit) = limit {
            path.push_str(&format!("limit={limit}"));
        }
        self.app.send(self.request(Method::GET, &path)).await
    }

    /// Applies a page and stores its cursor (together, as one local transaction). A removed
    /// household takes its residents, visits and events with it; records whose household
    /// has not arrived yet are kept (it comes on a later page).
    pub fn apply_page(&mut self, body: &Value) {
        let mut gone_households = Vec::new();
        for entity in ENTITIES {
            let table = self.local.get_mut(entity).unwrap();
            for removed in body[entity]["removed"].as_array().unwrap() {
                let id = removed["id"].as_str().unwrap().to_owned();
                table.remove(&id);
                if entity == "households" {
                    gone_households.push(json!(id));
                }
            }
            for record in body[entity]["upserted"].as_array().unwrap() {
                table.insert(record["id"].as_str().unwrap().to_owned(), record.clone());
            }
        }
        for entity in ["residents", "visits", "status_events"] {
            self.local
                .get_mut(entity)
                .unwrap()
                .retain(|_, r| !gone_households.contains(&r["household_id"]));
        }
        self.cursor = Some(body["cursor"].as_str().unwrap().to_owned());
    }

    /// Pulls until caught up; on 410 wipes the copy and downloads again, keeping the queue.
    /// Returns the number of pages.
    pub async fn pull(&mut self) -> usize {
        let mut pages = 0;
        loop {
            let response = self.pull_page(None).await;
            if response.status == 410 {
                assert_eq!(response.problem_code(), "cursor-expired");
                self.forget_copy();
                continue;
            }
            assert_eq!(response.status, 200, "pull: {}", response.text);
            self.apply_page(&response.body);
            pages += 1;
            if response.body["has_more"] == false {
                return pages;
            }
        }
    }

    pub fn forget_copy(&mut self) {
        self.cursor = None;
        for table in self.local.values_mut() {
            table.clear();
        }
    }

    /// Pushes, then pulls: what the sync button does.
    pub async fn sync(&mut self) {
        self.push().await;
        self.pull().await;
    }

    pub fn result(&self, seq: i64) -> &Value {
        self.results
            .get(&seq)
            .unwrap_or_else(|| panic!("no result for {seq}"))
    }
}
