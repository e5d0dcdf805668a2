//! Many phones, a bad network and a busy head: seeded random histories in which phones go
//! offline for a while, record households, people and visits, edit phone numbers, void
//! their visits, lose answers, send the same batch twice at once, while the head edits the
//! same households. Whatever happened, the server ends up with every accepted mutation
//! applied exactly once, and every phone's copy equals the server's view of its assignment.

use std::collections::{BTreeMap, BTreeSet};

use eid_adoption::auth::Role;
use eid_adoption::i18n::Lang;
use eid_adoption::users::{insert_account, replace_assignments, NewAccount};
use serde_json::{json, Value};

use crate::adoption_properties::Rng;
use crate::helpers::{TestApp, World, HEAD, PASSWORD, VOLUNTEER};
use crate::phone::Phone;
use crate::sync::assert_same_as_a_fresh_download;

/// What the server should hold, from the answers it gave (the test sees every answer,
/// also those the phone lost).
#[derive(Default)]
struct Model {
    created: BTreeMap<&'static str, BTreeSet<String>>,
    events: usize,
    phone_numbers: BTreeMap<String, Option<String>>,
    voided: BTreeSet<String>,
}

impl Model {
    /// Takes the results of a push as the server committed them.
    fn take(&mut self, sent: &Value, answer: &Value) {
        let mutations = sent["mutations"].as_array().unwrap();
        for result in answer["results"].as_array().unwrap() {
            let mutation = mutations
                .iter()
                .find(|m| m["seq"] == result["seq"])
                .unwrap();
            let kind = result["result"].as_str().unwrap();
            if kind != "applied" && kind != "conflict" {
                continue;
            }
            let id = mutation["id"].as_str().unwrap().to_owned();
            match (
                mutation["op"].as_str().unwrap(),
                mutation["entity"].as_str().unwrap(),
            ) {
                ("create", "household") => {
                    self.phone_numbers.insert(id.clone(), None);
                    self.created.entry("households").or_default().insert(id);
                }
                ("create", "resident") => {
                    self.created.entry("residents").or_default().insert(id);
                }
                ("create", "visit") => {
                    self.events += mutation["data"]["events"].as_array().unwrap().len();
                    self.created.entry("visits").or_default().insert(id);
                }
                ("void", "visit") => {
                    self.voided.insert(id);
                }
                ("update", "household") => {
                    let kept = result["conflicts"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c["field"] == "phone"));
                    if !kept {
                        let number = mutation["data"]["phone"].as_str().map(str::to_owned);
                        self.phone_numbers.insert(id, number);
                    }
                }
                other => panic!("unexpected mutation {other:?}"),
            }
        }
    }
}

fn count(app: &TestApp, table: &str) -> usize {
    crate::sync::count(app, &format!("SELECT COUNT(*) AS n FROM {table}")) as usize
}

async fn history(seed: u64) {
    let app = TestApp::spawn().await;
    let world: World = app.seed_world();
    let emails = [VOLUNTEER, "volunteer2@test.local", "volunteer3@test.local"];
    app.with_db(|conn| {
        let hash = eid_adoption::auth::password::hash_password_blocking(PASSWORD).unwrap();
        let n1 = eid_adoption::areas::find_by_code(conn, "P-T-W-1")
            .unwrap()
            .unwrap();
        for email in &emails[1..] {
            let id = insert_account(
                conn,
                NewAccount {
                    email: Some(email),
                    phone: None,
                    name: "Tình nguyện viên",
                    role: Role::Volunteer,
                    area_id: Some(&world.n1),
                    password_hash: &hash,
                    language: Lang::Vi,
                    active: true,
                },
            )
            .unwrap();
            replace_assignments(conn, &id, std::slice::from_ref(&n1)).unwrap();
        }
    });
    let head = app.token_for(HEAD).await;
    let mut model = Model::default();
    for n in 0..4 {
        let created = app
            .post(
                "/api/v1/households",
                Some(&head),
                &json!({"area_id": world.n1, "address": format!("Số {n} Hàng Bạc"), "head_name": "Đỗ Văn Giang"}),
            )
            .await;
        model
            .phone_numbers
            .insert(created.body["id"].as_str().unwrap().to_owned(), None);
    }
    let mut phones = Vec::new();
    for email in emails {
        let mut phone = Phone::sign_in(&app, email).await;
        phone.batch = 4;
        phone.pull().await;
        phones.push(phone);
    }
    let mut online = [true; 3];
    let mut rng = Rng(seed);
    let mut own_visits: Vec<Vec<String>> = vec![Vec::new(); 3];
    for step in 0..90 {
        let p = rng.below(3) as usize;
        let households: Vec<String> = phones[p].local["households"].keys().cloned().collect();
        match rng.below(10) {
            0 => online[p] = !online[p],
            1 => {
                phones[p].create(
                    "household",
                    json!({"area_id": world.n1, "address": format!("Số {step} Hàng Đào"), "head_name": "Bùi Thị Hoa"}),
                );
            }
            2 => {
                if let Some(household) = rng.pick(&households).cloned() {
                    phones[p].create(
                        "resident",
                        json!({"household_id": household, "full_name": format!("Người {step}"),
                               "birth_date": "1970", "sex": "female", "relation_to_head": "other"}),
                    );
                }
            }
            3 | 4 => {
                if let Some(household) = rng.pick(&households).cloned() {
                    let residents: Vec<String> = phones[p].local["residents"]
                        .values()
                        .filter(|r| r["household_id"] == json!(household))
                        .map(|r| r["id"].as_str().unwrap().to_owned())
                        .collect();
                    let today = phones[p].today();
                    let events: Vec<Value> = rng
                        .pick(&residents)
                        .map(|r| json!({"kind": "eid", "resident_id": r, "value": "level2", "effective_on": today}))
                        .into_iter()
                        .collect();
                    let visit = phones[p].visit(&household, "helped", events);
                    own_visits[p].push(visit);
                }
            }
            5 => {
                if let Some(household) = rng.pick(&households).cloned() {
                    let number = format!("09{:08}", rng.below(100_000_000));
                    phones[p].update("household", &household, json!({"phone": number}));
                }
            }
            6 => {
                if let Some(visit) = rng.pick(&own_visits[p]).cloned() {
                    phones[p].queue_mutation(
                        "void",
                        "visit",
                        &visit,
                        None,
                        json!({"reason": "Ghi nhầm"}),
                    );
                }
            }
            7 => {
                // The head corrects a phone number on the web.
                if let Some(household) = rng.pick(&households).cloned() {
                    let current = app
                        .get(&format!("/api/v1/households/{household}"), Some(&head))
                        .await;
                    if current.status == 200 {
                        let number = format!("08{:08}", rng.below(100_000_000));
                        let etag = current.header("etag").unwrap().to_owned();
                        let edited = app
                            .patch(
                                &format!("/api/v1/households/{household}"),
                                Some(&head),
                                Some(&etag),
                                &json!({"phone": number}),
                            )
                            .await;
                        if edited.status == 200 {
                            model.phone_numbers.insert(household, Some(number));
                        }
                    }
                }
            }
            _ if online[p] && !phones[p].queue.is_empty() => {
                let (key, body) = phones[p].next_batch();
                if rng.chance(30) {
                    // Two sends of one batch at once (different keys: a retry racing the first).
                    let (key_1, key_2) = (format!("{key}-1"), format!("{key}-2"));
                    let (a, b) = tokio::join!(
                        phones[p].send_push(&key_1, &body),
                        phones[p].send_push(&key_2, &body)
                    );
                    model.take(&body, &a.body);
                    model.take(&body, &b.body);
                    phones[p].acknowledge(&b.body);
                } else {
                    let answer = phones[p].send_push(&key, &body).await;
                    assert_eq!(answer.status, 200, "{}", answer.text);
                    model.take(&body, &answer.body);
                    if rng.chance(25) {
                        // The answer is lost; the phone will learn from /sync/state or a resend.
                        if rng.chance(50) {
                            phones[p].recover().await;
                        }
                    } else {
                        phones[p].acknowledge(&answer.body);
                    }
                }
                phones[p].pull().await;
            }
            _ if online[p] => {
                phones[p].pull().await;
            }
            _ => {}
        }
    }
    // Everyone comes home and syncs until nothing is left.
    for _ in 0..2 {
        for phone in phones.iter_mut() {
            while !phone.queue.is_empty() {
                let (key, body) = phone.next_batch();
                let answer = phone.send_with_retries(&key, &body).await;
                model.take(&body, &answer.body);
                phone.acknowledge(&answer.body);
            }
            phone.pull().await;
        }
    }
    for (phone, email) in phones.iter().zip(emails) {
        assert!(phone.queue.is_empty());
        assert_same_as_a_fresh_download(&app, phone, email).await;
    }
    // Each accepted create exactly once, nothing else; voids and phone numbers as accepted.
    let created = |entity: &str| model.created.get(entity).map_or(0, BTreeSet::len);
    assert_eq!(
        count(&app, "households"),
        4 + created("households"),
        "seed {seed}"
    );
    assert_eq!(
        count(&app, "residents"),
        created("residents"),
        "seed {seed}"
    );
    assert_eq!(count(&app, "visits"), created("visits"), "seed {seed}");
    assert_eq!(count(&app, "status_events"), model.events, "seed {seed}");
    let copy = &phones[0].local;
    for id in model.created.get("visits").into_iter().flatten() {
        assert_eq!(
            !copy["visits"][id]["voided_at"].is_null(),
            model.voided.contains(id),
            "seed {seed}: visit {id}"
        );
    }
    for (id, number) in &model.phone_numbers {
        assert_eq!(
            copy["households"][id]["phone"],
            json!(number),
            "seed {seed}: household {id}"
        );
    }
    assert!(
        created("visits") > 0 && created("households") > 0,
        "seed {seed}: a dull history"
    );
}

#[actix_web::test]
async fn many_phones_on_a_bad_network_end_with_every_accepted_mutation_applied_once() {
    for seed in [11, 29, 47] {
        history(seed).await;
    }
}
