//! Property tests: random histories made through the API (people turning 18, late events,
//! corrections, certificates expiring, moves, erasures, deletions, merges, voided visits)
//! and, whatever happened, every figure the API serves equals a recount of the raw rows,
//! on any day, for every area; and `recount` finds no difference in the counters.

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde_json::{json, Value};

use eid_adoption::adoption::check::check_all;
use eid_adoption::adoption::{recount_days, Counts};
use eid_adoption::schema::areas;
use eid_adoption::status::today;

use crate::helpers::{TestApp, World, NATIONAL_ADMIN, OFFICIAL};
use crate::households::add_household;

/// SplitMix64: small, seeded, the same history for the same seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len() as u64) as usize])
    }

    /// A day between `from` and `to` (inclusive).
    fn day(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0) as u64;
        from + Days::new(self.below(span + 1))
    }
}

struct Person {
    id: String,
    household: String,
    name: String,
    birth: String,
}

#[derive(Default)]
pub struct History {
    households: Vec<(String, String)>,
    people: Vec<Person>,
    visits: Vec<String>,
    pub days: Vec<NaiveDate>,
}

pub fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()
}

fn event(rng: &mut Rng, person: Option<&str>, history: &mut History) -> Value {
    let on = rng.day(start(), today());
    history.days.push(on);
    match (person, rng.below(4)) {
        (None, _) => {
            let value = ["yes", "no", "yes"][rng.below(3) as usize];
            json!({"kind": "broadband", "value": value, "effective_on": on})
        }
        (Some(person), 0 | 1) => {
            let level = ["level1", "level2_pending", "level2", "none"][rng.below(4) as usize];
            json!({"kind": "eid", "resident_id": person, "value": level, "effective_on": on})
        }
        (Some(person), 2) => {
            json!({"kind": "signature", "resident_id": person, "value": "electronic", "effective_on": on})
        }
        (Some(person), _) => {
            let issued = rng.day(on - Days::new(400), on);
            let expires = rng.day(issued, issued + Days::new(900));
            history.days.extend([expires, expires + Days::new(1)]);
            json!({"kind": "signature", "resident_id": person, "value": "digital", "effective_on": on,
                   "issued_on": issued, "expires_on": expires})
        }
    }
}

fn birth(rng: &mut Rng, history: &mut History) -> String {
    // Many people turn 18 inside the checked period, so the boundary is crossed often.
    let born = if rng.chance(40) {
        rng.day(
            NaiveDate::from_ymd_opt(2004, 6, 1).unwrap(),
            NaiveDate::from_ymd_opt(2008, 12, 31).unwrap(),
        )
    } else {
        rng.day(
            NaiveDate::from_ymd_opt(1935, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2004, 1, 1).unwrap(),
        )
    };
    if let Some(adult) = born.checked_add_months(chrono::Months::new(18 * 12)) {
        history.days.push(adult);
    }
    match rng.below(5) {
        0 => born.format("%Y").to_string(),
        1 => born.format("%Y-%m").to_string(),
        _ => born.to_string(),
    }
}

async fn etag_of(app: &TestApp, token: &str, path: &str) -> Option<String> {
    let found = app.get(path, Some(token)).await;
    (found.status == 200).then(|| found.header("etag").unwrap_or_default().to_owned())
}

/// One random step of a history, new households going to one of `neighbourhoods`.
pub async fn step(
    app: &TestApp,
    token: &str,
    neighbourhoods: &[String],
    rng: &mut Rng,
    history: &mut History,
) {
    match rng.below(100) {
        0..=9 => {
            let Some(area) = rng.pick(neighbourhoods).cloned() else {
                return;
            };
            let id = add_household(app, token, &area, "Số 1, đường Lê Lợi", "Chủ hộ").await;
            history.households.push((id, area));
        }
        10..=29 => {
            let Some((household, _)) = rng.pick(&history.households).cloned() else {
                return;
            };
            let name = format!("Người số {}", history.people.len() + 1);
            let birth = birth(rng, history);
            let sex = ["male", "female", "unspecified"][rng.below(3) as usize];
            let mut body = json!({"full_name": name, "birth_date": birth, "sex": sex, "relation_to_head": "other"});
            if rng.chance(15) {
                let since = rng.day(start(), today());
                history.days.push(since);
                body["presence"] = json!(if rng.chance(70) {
                    "moved_away"
                } else {
                    "deceased"
                });
                body["presence_since"] = json!(since);
            }
            let created = app
                .post(
                    &format!("/api/v1/households/{household}/residents"),
                    Some(token),
                    &body,
                )
                .await;
            // A birth date after a recorded death, say, is refused: nothing to remember.
            if created.status == 201 {
                history.people.push(Person {
                    id: created.body["id"].as_str().unwrap().to_owned(),
                    household,
                    name,
                    birth,
                });
            }
        }
        30..=54 => {
            let Some((household, _)) = rng.pick(&history.households).cloned() else {
                return;
            };
            let people: Vec<String> = history
                .people
                .iter()
                .filter(|p| p.household == household)
                .map(|p| p.id.clone())
                .collect();
            let events: Vec<Value> = (0..1 + rng.below(3))
                .map(|_| {
                    let person = if rng.chance(80) {
                        rng.pick(&people).cloned()
                    } else {
                        None
                    };
                    event(rng, person.as_deref(), history)
                })
                .collect();
            let visit = app
                .post(
                    "/api/v1/visits",
                    Some(token),
                    &json!({"household_id": household, "visited_at": "2025-09-01T08:30:00Z", "outcome": "helped", "events": events}),
                )
                .await;
            if visit.status == 201 {
                history
                    .visits
                    .push(visit.body["id"].as_str().unwrap().to_owned());
            }
        }
        55..=64 => {
            // A late or corrected event, outside a visit.
            let Some(person) = rng.pick(&history.people) else {
                return;
            };
            let (id, household) = (person.id.clone(), person.household.clone());
            let late = if rng.chance(35) {
                // A head's correction: it may lower the level, unlike an observation.
                let on = rng.day(start(), today());
                history.days.push(on);
                let level = ["none", "level1", "level2"][rng.below(3) as usize];
                json!({"kind": "eid", "resident_id": id, "value": level, "effective_on": on, "correction": true})
            } else {
                event(rng, Some(&id), history)
            };
            app.post(
                "/api/v1/status-events",
                Some(token),
                &json!({"household_id": household, "events": [late]}),
            )
            .await;
        }
        65..=71 => {
            let Some(visit) = rng.pick(&history.visits).cloned() else {
                return;
            };
            app.post(
                &format!("/api/v1/visits/{visit}/void"),
                Some(token),
                &json!({"reason": "ghi nhầm"}),
            )
            .await;
        }
        72..=79 => {
            let Some(person) = rng.pick(&history.people) else {
                return;
            };
            let path = format!("/api/v1/residents/{}", person.id);
            let Some(etag) = etag_of(app, token, &path).await else {
                return;
            };
            let change = if rng.chance(50) {
                let since = rng.day(start(), today());
                history.days.push(since);
                json!({"presence": "moved_away", "presence_since": since})
            } else {
                json!({"birth_date": birth(rng, history)})
            };
            app.patch(&path, Some(token), Some(&etag), &change).await;
        }
        80..=83 => {
            let Some(person) = rng.pick(&history.people) else {
                return;
            };
            app.post(
                &format!("/api/v1/residents/{}/erase", person.id),
                Some(token),
                &json!({}),
            )
            .await;
        }
        84..=87 => {
            let Some(person) = rng.pick(&history.people) else {
                return;
            };
            let id = person.id.clone();
            let deleted = app
                .delete(&format!("/api/v1/residents/{id}"), Some(token))
                .await;
            if deleted.status == 204 {
                history.people.retain(|p| p.id != id);
            }
        }
        88..=90 => {
            let Some((household, _)) = rng.pick(&history.households).cloned() else {
                return;
            };
            let deleted = app
                .delete(&format!("/api/v1/households/{household}"), Some(token))
                .await;
            if deleted.status == 204 {
                history.households.retain(|(id, _)| *id != household);
                history.people.retain(|p| p.household != household);
            }
        }
        _ => {
            // The same person entered twice, then merged into one.
            let Some(person) = rng.pick(&history.people) else {
                return;
            };
            let (household, name, birth) = (
                person.household.clone(),
                person.name.clone(),
                person.birth.clone(),
            );
            let copy = app
                .post(
                    &format!("/api/v1/households/{household}/residents"),
                    Some(token),
                    &json!({"full_name": name, "birth_date": birth, "sex": "female", "relation_to_head": "other"}),
                )
                .await;
            if copy.status != 201 {
                return;
            }
            let copy_id = copy.body["id"].as_str().unwrap().to_owned();
            let late = event(rng, Some(&copy_id), history);
            app.post(
                "/api/v1/status-events",
                Some(token),
                &json!({"household_id": household, "events": [late]}),
            )
            .await;
            history.people.push(Person {
                id: copy_id.clone(),
                household,
                name,
                birth,
            });
            let pairs = app.get("/api/v1/duplicates", Some(token)).await;
            for pair in pairs.body["items"].as_array().cloned().unwrap_or_default() {
                let ids: Vec<String> = (0..2)
                    .map(|i| pair["residents"][i]["id"].as_str().unwrap().to_owned())
                    .collect();
                if !ids.contains(&copy_id) {
                    continue;
                }
                let keep = rng.below(2) as usize;
                let merge = app
                    .post(
                        &format!("/api/v1/duplicates/{}/merge", pair["id"].as_str().unwrap()),
                        Some(token),
                        &json!({"survivor_id": ids[keep]}),
                    )
                    .await;
                if merge.status == 200 {
                    history.people.retain(|p| p.id != ids[1 - keep]);
                }
            }
        }
    }
}

pub fn as_counts(figures: &Value) -> Counts {
    let of = |name: &str| {
        figures["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["indicator"] == name)
            .unwrap()
            .clone()
    };
    Counts {
        adults: of("eid")["recorded_denominator"].as_i64().unwrap(),
        adults_with_eid: of("eid")["count"].as_i64().unwrap(),
        adults_with_signature: of("signature")["count"].as_i64().unwrap(),
        households: of("broadband")["recorded_denominator"].as_i64().unwrap(),
        households_with_fibre: of("broadband")["count"].as_i64().unwrap(),
    }
}

/// Served figures of every area on the given days == the recount of the raw rows.
async fn assert_served_equals_recount(app: &TestApp, world: &World, days: &[NaiveDate]) {
    let official = app.token_for(OFFICIAL).await;
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let areas_to_check = [
        (&world.n1, &official),
        (&world.n2, &official),
        (&world.ward, &official),
        (&world.n3, &admin),
        (&world.ward2, &admin),
        (&world.province, &admin),
    ];
    for (area, token) in areas_to_check {
        let path: String = app.with_db(|conn| {
            areas::table
                .find(area)
                .select(areas::path)
                .first(conn)
                .unwrap()
        });
        let recounted = app.with_db(|conn| recount_days(conn, &path, days).unwrap());
        for (day, expected) in days.iter().zip(&recounted) {
            let served = app
                .get(
                    &format!("/api/v1/areas/{area}/adoption?as_of={day}"),
                    Some(token),
                )
                .await;
            assert_eq!(served.status, 200, "{}", served.text);
            assert_eq!(as_counts(&served.body), *expected, "area {area} on {day}");
        }
        // The series reads the same counters another way (buckets, then day deltas).
        let (from, to) = (days[0].max(start()), days[days.len() - 1]);
        let series = app
            .get(
                &format!("/api/v1/areas/{area}/adoption/series?from={from}&to={to}&interval=week"),
                Some(token),
            )
            .await;
        assert_eq!(series.status, 200, "{}", series.text);
        let points = series.body["points"].as_array().unwrap();
        let point_days: Vec<NaiveDate> = points
            .iter()
            .map(|p| p["day"].as_str().unwrap().parse().unwrap())
            .collect();
        let expected = app.with_db(|conn| recount_days(conn, &path, &point_days).unwrap());
        for (point, expected) in points.iter().zip(expected) {
            let counts = Counts {
                adults: point["values"][0]["recorded_denominator"].as_i64().unwrap(),
                adults_with_eid: point["values"][0]["count"].as_i64().unwrap(),
                adults_with_signature: point["values"][1]["count"].as_i64().unwrap(),
                households: point["values"][2]["recorded_denominator"].as_i64().unwrap(),
                households_with_fibre: point["values"][2]["count"].as_i64().unwrap(),
            };
            assert_eq!(counts, expected, "series of {area} on {}", point["day"]);
        }
    }
}

async fn random_history_keeps_the_counters_exact(seed: u64, steps: usize) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let mut rng = Rng(seed);
    let mut history = History::default();
    for _ in 0..steps {
        let neighbourhoods = [world.n1.clone(), world.n2.clone(), world.n3.clone()];
        step(&app, &admin, &neighbourhoods, &mut rng, &mut history).await;
    }
    // The days where something happened (and the day before each), plus a few others.
    let mut days: Vec<NaiveDate> = history
        .days
        .iter()
        .flat_map(|d| [*d - Days::new(1), *d])
        .filter(|d| *d <= today())
        .collect();
    days.sort();
    days.dedup();
    let mut sample: Vec<NaiveDate> = (0..12)
        .filter_map(|_| rng.pick(&days).copied())
        .chain([start(), today()])
        .collect();
    sample.sort();
    sample.dedup();
    assert_served_equals_recount(&app, &world, &sample).await;
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(
        report.differences.is_empty(),
        "seed {seed}: {:?}",
        report.differences
    );
    assert!(report.subjects > 0);
    history_was_varied(&app, seed);
}

/// The history really did what the test is about (a test that skipped every merge would
/// prove nothing about merges).
fn history_was_varied(app: &TestApp, seed: u64) {
    use eid_adoption::schema::{duplicate_pairs, households, residents, status_events};
    let counts = app.with_db(|conn| {
        [
            residents::table
                .filter(residents::erased_at.is_not_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
            residents::table
                .filter(residents::deleted_at.is_not_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
            households::table
                .filter(households::deleted_at.is_not_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
            status_events::table
                .filter(status_events::voided_at.is_not_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
            status_events::table
                .filter(status_events::correction.eq(true))
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
            duplicate_pairs::table
                .filter(duplicate_pairs::status.eq("merged"))
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
            residents::table
                .filter(residents::presence.ne("present"))
                .count()
                .get_result::<i64>(conn)
                .unwrap(),
        ]
    });
    assert!(
        counts.iter().all(|c| *c > 0),
        "seed {seed}: erased, deleted people, deleted households, voided events, corrections, merges, moves = {counts:?}"
    );
}

#[actix_web::test]
async fn served_figures_equal_a_recount_after_random_histories() {
    for seed in [1, 2, 3] {
        random_history_keeps_the_counters_exact(seed, 120).await;
    }
}

#[actix_web::test]
async fn recount_reports_a_tampered_counter_and_repair_restores_it() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let mut rng = Rng(7);
    let mut history = History::default();
    for _ in 0..40 {
        let neighbourhoods = [world.n1.clone(), world.n2.clone(), world.n3.clone()];
        step(&app, &admin, &neighbourhoods, &mut rng, &mut history).await;
    }
    app.with_db(|conn| {
        // Whatever is still in the log goes into the buckets first, where it is tampered.
        eid_adoption::adoption::counters::fold_all(conn).unwrap();
        diesel::sql_query(
            "UPDATE adoption_deltas SET delta = delta + 1 \
             WHERE grain = 'day' AND measure = 'households'",
        )
        .execute(conn)
        .unwrap()
    });
    let report = app.with_db(|conn| check_all(conn, "/", today(), true, &|_, _| {}).unwrap());
    assert!(!report.differences.is_empty());
    assert!(report.repaired > 0);
    let again = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(again.differences.is_empty(), "{:?}", again.differences);
}
