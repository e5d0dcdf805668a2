//! Reorganisations of the map: merges, splits, renames, moves and dissolutions, as dated
//! events. Figures continue across them (a new area's history is its predecessors'; an
//! area that ended stays readable for the days it existed), accounts, assignments and
//! phones follow, a future one waits for its day and may be cancelled, and after random
//! reorganisations every served figure still equals a recount.

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde_json::{json, Value};

use eid_adoption::adoption::check::check_all;
use eid_adoption::adoption::located::located_counts;
use eid_adoption::adoption::{recount_days, Counts};
use eid_adoption::areas::Area;
use eid_adoption::schema::{areas, audit_log};
use eid_adoption::status::today;

use crate::adoption_properties::{as_counts, start, step, History, Rng};
use crate::helpers::{
    TestApp, TestResponse, HEAD, NATIONAL_ADMIN, OFFICIAL, OTHER_OFFICIAL, VOLUNTEER, WARD_ADMIN,
};
use crate::households::{add_household, add_resident};
use crate::phone::Phone;

async fn submit(app: &TestApp, token: &str, plan: &Value) -> TestResponse {
    app.post("/api/v1/reorganisations", Some(token), plan).await
}

async fn dry_run(app: &TestApp, token: &str, plan: &Value) -> TestResponse {
    app.post("/api/v1/reorganisations?dry_run=true", Some(token), plan)
        .await
}

async fn counts(app: &TestApp, token: &str, area: &str, day: NaiveDate) -> Counts {
    let served = app
        .get(
            &format!("/api/v1/areas/{area}/adoption?as_of={day}"),
            Some(token),
        )
        .await;
    assert_eq!(served.status, 200, "{area} on {day}: {}", served.text);
    as_counts(&served.body)
}

fn sum(a: Counts, b: Counts) -> Counts {
    let mut total = a;
    total += b;
    total
}

fn area_by_code(app: &TestApp, code: &str) -> Area {
    app.with_db(|conn| {
        areas::table
            .filter(areas::code.eq(code))
            .select(Area::as_select())
            .first(conn)
            .unwrap()
    })
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A household with two adults, one with an e-ID from `eid_on`, and fibre from `fibre_on`.
async fn family(app: &TestApp, token: &str, area: &str, eid_on: &str, fibre_on: &str) -> String {
    let home = add_household(app, token, area, "Số 7, đường Trần Phú", "Chủ hộ").await;
    let person = |name: &str| json!({"full_name": name, "birth_date": "1980-05-05", "sex": "female", "relation_to_head": "other"});
    let first = add_resident(app, token, &home, person("Lê Thị Một")).await;
    add_resident(app, token, &home, person("Lê Văn Hai")).await;
    let recorded = app
        .post(
            "/api/v1/status-events",
            Some(token),
            &json!({"household_id": home, "events": [
                {"kind": "eid", "resident_id": first, "value": "level2", "effective_on": eid_on},
                {"kind": "broadband", "value": "yes", "effective_on": fibre_on}]}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    home
}

/// The two wards of the test world merged into a new ward under the province, effective
/// `effective_on`, and the town they were in dissolved.
fn merge_of_the_two_wards(effective_on: &str) -> Value {
    json!({"title": "Nghị quyết sắp xếp đơn vị hành chính cấp xã", "effective_on": effective_on, "steps": [
        {"kind": "merge", "sources": ["P-T-W", "P-T-W2"],
         "into": {"code": "P-QT", "new": {"name": "Phường Quang Trung", "kind": "ward", "parent": "P",
                                           "official_adult_population": 10}}},
        {"kind": "dissolve", "area": "P-T"}]})
}

#[actix_web::test]
async fn a_merged_ward_continues_its_predecessors_history_and_theirs_stays_readable() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    family(&app, &admin, &world.n1, "2024-03-01", "2025-09-01").await;
    family(&app, &admin, &world.n2, "2025-03-01", "2024-01-10").await;
    family(&app, &admin, &world.n3, "2025-08-15", "2025-02-01").await;
    let days = [
        day("2024-01-01"),
        day("2024-06-01"),
        day("2025-06-30"),
        day("2025-07-01"),
        today(),
    ];
    let mut before = Vec::new();
    for d in days {
        before.push((
            counts(&app, &admin, &world.ward, d).await,
            counts(&app, &admin, &world.ward2, d).await,
            counts(&app, &admin, &world.province, d).await,
        ));
    }

    // The dry run says what moves and writes nothing.
    let plan = merge_of_the_two_wards("2025-07-01");
    let preview = dry_run(&app, &admin, &plan).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.body["takes_effect_at_once"], true);
    assert_eq!(preview.body["steps"][0]["households_moved"], 3);
    assert_eq!(preview.body["steps"][0]["residents_moved"], 6);
    assert_eq!(
        preview.body["steps"][0]["areas_ended"],
        json!(["P-T-W", "P-T-W2"])
    );
    assert_eq!(preview.body["steps"][1]["areas_ended"], json!(["P-T"]));
    let still = app
        .get(&format!("/api/v1/areas/{}", world.ward), Some(&admin))
        .await;
    assert_eq!(still.body["ended_on"], Value::Null);
    assert!(
        app.with_db(|conn| eid_adoption::areas::find_by_code(conn, "P-QT")
            .unwrap()
            .is_none())
    );

    let applied = submit(&app, &admin, &plan).await;
    assert_eq!(applied.status, 201, "{}", applied.text);
    assert_eq!(applied.body["status"], "applied");
    let new_ward = area_by_code(&app, "P-QT");
    assert_eq!(new_ward.parent_id.as_deref(), Some(world.province.as_str()));

    for (d, (ward, ward2, province)) in days.iter().zip(&before) {
        // The new ward's figures on any day are those of the wards it was formed from…
        assert_eq!(
            counts(&app, &admin, &new_ward.id, *d).await,
            sum(*ward, *ward2),
            "Quang Trung on {d}"
        );
        // …the province did not change at all…
        assert_eq!(counts(&app, &admin, &world.province, *d).await, *province);
        // …and the old wards read as they were on the days they existed.
        if *d < day("2025-07-01") {
            assert_eq!(counts(&app, &admin, &world.ward, *d).await, *ward);
            assert_eq!(counts(&app, &admin, &world.ward2, *d).await, *ward2);
            assert_eq!(
                counts(&app, &admin, &world.town, *d).await,
                sum(*ward, *ward2)
            );
        }
    }
    // After its end an old ward has no figures; without a day it is read on its last one.
    let after = app
        .get(
            &format!("/api/v1/areas/{}/adoption?as_of=2025-07-01", world.ward),
            Some(&admin),
        )
        .await;
    assert_eq!(after.status, 422, "{}", after.text);
    assert_eq!(after.body["errors"][0]["code"], "after-area-ended");
    let last = app
        .get(
            &format!("/api/v1/areas/{}/adoption", world.ward),
            Some(&admin),
        )
        .await;
    assert_eq!(last.body["as_of"], "2025-06-30");

    // The ward's official now belongs to the new ward and reads the old one's history.
    let official = app.token_for(OFFICIAL).await;
    let me = app.get("/api/v1/me", Some(&official)).await;
    assert_eq!(me.body["area"]["code"], "P-QT");
    assert_eq!(
        counts(&app, &official, &world.ward, day("2024-06-01")).await,
        before[1].0
    );
    let history = app
        .get(
            &format!("/api/v1/areas/{}/history", new_ward.id),
            Some(&official),
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    let absorbed: Vec<&Value> = history.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "absorbed")
        .map(|c| &c["other"]["code"])
        .collect();
    assert_eq!(absorbed, [&json!("P-T-W"), &json!("P-T-W2")]);
    // But not the dissolved town, which went to the province.
    let town = app
        .get(&format!("/api/v1/areas/{}", world.town), Some(&official))
        .await;
    assert_eq!(town.status, 404);

    // The series of the new ward runs back through 2024 and equals a recount.
    let series = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/series?from=2024-01-01&to={}&interval=month",
                new_ward.id,
                today()
            ),
            Some(&official),
        )
        .await;
    assert_eq!(series.status, 200, "{}", series.text);
    let points = series.body["points"].as_array().unwrap();
    let point_days: Vec<NaiveDate> = points
        .iter()
        .map(|p| p["day"].as_str().unwrap().parse().unwrap())
        .collect();
    let recounted = app.with_db(|conn| recount_days(conn, &new_ward.path, &point_days).unwrap());
    for (point, expected) in points.iter().zip(recounted) {
        assert_eq!(
            point["values"][0]["count"].as_i64().unwrap(),
            expected.adults_with_eid
        );
        assert_eq!(
            point["values"][0]["recorded_denominator"].as_i64().unwrap(),
            expected.adults
        );
    }
    // Children and the ranking are the map of today: the neighbourhoods under the new ward.
    let children = app
        .get(
            &format!("/api/v1/areas/{}/adoption/children", world.province),
            Some(&admin),
        )
        .await;
    let codes: Vec<&Value> = children.body["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["area_code"])
        .collect();
    assert_eq!(codes, [&json!("P-QT")]);
    let listed = app.get("/api/v1/areas", Some(&admin)).await;
    assert!(!listed.text.contains("\"P-T-W2\""));
    let with_history = app
        .get("/api/v1/areas?include_ended=true", Some(&admin))
        .await;
    assert!(with_history.text.contains("\"P-T-W2\""));
    // Nothing can be placed in an area that ended.
    let refused = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &json!({"parent_id": world.ward, "kind": "neighbourhood", "code": "P-T-W-9", "name": "Khu phố 9"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "area-ended");
    // A late event for a household of the old ward lands in both histories.
    let n1_home: String = app.with_db(|conn| {
        use eid_adoption::schema::households;
        households::table
            .filter(households::area_id.eq(&world.n1))
            .select(households::id)
            .first(conn)
            .unwrap()
    });
    let people = app
        .get(
            &format!("/api/v1/residents?household_id={n1_home}"),
            Some(&admin),
        )
        .await;
    let second = people.body["items"][1]["id"].as_str().unwrap().to_owned();
    let late = app
        .post(
            "/api/v1/status-events",
            Some(&admin),
            &json!({"household_id": n1_home, "events": [
                {"kind": "eid", "resident_id": second, "value": "level1", "effective_on": "2024-05-01"}]}),
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.text);
    let old_ward = counts(&app, &admin, &world.ward, day("2024-06-01")).await;
    assert_eq!(old_ward.adults_with_eid, before[1].0.adults_with_eid + 1);
    let new_ward_then = counts(&app, &admin, &new_ward.id, day("2024-06-01")).await;
    assert_eq!(new_ward_then, sum(old_ward, before[1].1));
    // Audited.
    let actions: Vec<String> = app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.like("reorganisation.%"))
            .select(audit_log::action)
            .order(audit_log::occurred_at)
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        actions,
        ["reorganisation.created", "reorganisation.applied"]
    );
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

#[actix_web::test]
async fn a_split_shares_households_out_and_the_volunteers_phone_follows_without_losing_anything() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let first = family(&app, &admin, &world.n1, "2024-03-01", "2024-04-01").await;
    let second = family(&app, &admin, &world.n1, "2025-03-01", "2025-04-01").await;
    let third = family(&app, &admin, &world.n1, "2025-05-01", "2025-06-01").await;
    family(&app, &admin, &world.n2, "2024-09-01", "2024-10-01").await;
    let probe = [day("2024-06-01"), day("2025-05-15"), today()];
    let mut n1_before = Vec::new();
    let mut n2_before = Vec::new();
    for d in probe {
        n1_before.push(counts(&app, &admin, &world.n1, d).await);
        n2_before.push(counts(&app, &admin, &world.n2, d).await);
    }
    // The volunteer of n1 has everything on the phone and records a visit offline.
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    assert_eq!(phone.local["households"].len(), 3);
    phone.visit(&third, "helped", vec![]);

    let effective = today().to_string();
    let plan = json!({"title": "Chia khu phố 1", "effective_on": effective, "steps": [
        {"kind": "split", "source": "P-T-W-1", "users_follow": "P-T-W-1A", "parts": [
            {"into": {"code": "P-T-W-1A", "new": {"name": "Khu phố 1A", "kind": "neighbourhood", "parent": "P-T-W"}},
             "households": [first, second]},
            {"into": {"code": "P-T-W-2"}, "households": [third]}]}]});
    // Every household must go somewhere.
    let mut incomplete = plan.clone();
    incomplete["steps"][0]["parts"][1]["households"] = json!([]);
    let refused = dry_run(&app, &admin, &incomplete).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "split-incomplete");
    assert_eq!(refused.body["errors"][0]["pointer"], "/steps/0/parts");
    let applied = submit(&app, &admin, &plan).await;
    assert_eq!(applied.status, 201, "{}", applied.text);
    assert_eq!(applied.body["steps"][0]["assignments_moved"], 2);
    let part = area_by_code(&app, "P-T-W-1A");

    for (index, d) in probe.iter().enumerate() {
        let a = counts(&app, &admin, &part.id, *d).await;
        let b = counts(&app, &admin, &world.n2, *d).await;
        // The parts share the old neighbourhood's history out, household by household.
        assert_eq!(sum(a, b), sum(n1_before[index], n2_before[index]), "on {d}");
        if *d < today() {
            assert_eq!(counts(&app, &admin, &world.n1, *d).await, n1_before[index]);
        }
    }
    assert_eq!(
        counts(&app, &admin, &part.id, day("2024-06-01"))
            .await
            .adults_with_eid,
        1
    );

    // The head followed the first part and sees its two households only.
    let head = app.token_for(HEAD).await;
    let me = app.get("/api/v1/me", Some(&head)).await;
    assert_eq!(me.body["area"]["code"], "P-T-W-1A");
    let listed = app.get("/api/v1/households", Some(&head)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    // Creating in the old neighbourhood is refused with a reason.
    let refused = app
        .post(
            "/api/v1/households",
            Some(&admin),
            &json!({"area_id": world.n1, "address": "Số 9", "head_name": "Chủ hộ"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "area-ended");

    // The phone pushes the visit it recorded before the split: still accepted, since the
    // volunteer was assigned to the household's neighbourhood when it happened.
    let results = phone.push().await;
    assert_eq!(results[0].status, 200, "{}", results[0].text);
    assert_eq!(phone.result(1)["result"], "applied", "{:?}", phone.results);
    // Its next pull re-homes the three households (and brings n2's), removing none.
    let page = phone.pull_page(None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["households"]["removed"], json!([]));
    phone.apply_page(&page.body);
    phone.pull().await;
    assert_eq!(phone.local["households"].len(), 4);
    assert_eq!(phone.local["households"][&first]["area_id"], part.id);
    assert_eq!(phone.local["households"][&third]["area_id"], world.n2);
    assert!(phone.local["visits"]
        .values()
        .any(|v| v["household_id"] == third));
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

#[actix_web::test]
async fn renames_moves_and_dissolutions_keep_every_figure_and_bad_plans_say_what_is_wrong() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    family(&app, &admin, &world.n1, "2024-03-01", "2024-04-01").await;
    family(&app, &admin, &world.n3, "2025-03-01", "2025-04-01").await;
    let probe = [day("2024-06-01"), today()];
    let mut ward2_before = Vec::new();
    let mut province_before = Vec::new();
    for d in probe {
        ward2_before.push(counts(&app, &admin, &world.ward2, d).await);
        province_before.push(counts(&app, &admin, &world.province, d).await);
    }

    // Bad plans: each problem points into the plan.
    for (plan, pointer, code) in [
        (
            json!({"title": "x", "effective_on": "2025-07-01", "steps": [
                {"kind": "merge", "sources": ["P-T-W", "NOPE"], "into": {"code": "P-T-W"}}]}),
            "/steps/0/sources/1",
            "area-unknown",
        ),
        (
            json!({"title": "x", "effective_on": "2025-07-01", "steps": [
                {"kind": "merge", "sources": ["P-T-W", "P-T-W-1"], "into": {"code": "P-T-W"}}]}),
            "/steps/0/sources/1",
            "kind-differs",
        ),
        (
            json!({"title": "x", "effective_on": "2025-07-01", "steps": [{"kind": "dissolve", "area": "P-T"}]}),
            "/steps/0/area",
            "area-not-empty",
        ),
        (
            json!({"title": "x", "effective_on": "2025-07-01", "steps": [{"kind": "move", "area": "P-T", "parent": "P-T-W"}]}),
            "/steps/0/parent",
            "parent-inside-area",
        ),
        (
            json!({"title": "x", "effective_on": "2025-07-01", "steps": [{"kind": "move", "area": "P-T-W-1", "parent": "P"}]}),
            "/steps/0/parent",
            "kind-does-not-fit-parent",
        ),
    ] {
        let refused = dry_run(&app, &admin, &plan).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(
            refused.body["errors"][0]["pointer"], pointer,
            "{}",
            refused.text
        );
        assert_eq!(refused.body["errors"][0]["code"], code, "{}", refused.text);
    }
    // Only administrators, and only within their scope.
    let volunteer = app.token_for(VOLUNTEER).await;
    let plan = json!({"title": "Đổi tên", "effective_on": "2025-07-01", "steps": [
        {"kind": "rename", "area": "P-T-W2-1", "name": "Khu phố Đông"}]});
    assert_eq!(submit(&app, &volunteer, &plan).await.status, 403);
    let ward_admin = app.token_for(WARD_ADMIN).await;
    let outside = dry_run(&app, &ward_admin, &plan).await;
    assert_eq!(outside.body["errors"][0]["code"], "area-unknown");

    let plan = json!({"title": "Chính quyền hai cấp", "effective_on": "2025-07-01", "steps": [
        {"kind": "rename", "area": "P-T-W2-1", "name": "Khu phố Đông"},
        {"kind": "move", "area": "P-T-W2", "parent": "P"},
        {"kind": "move", "area": "P-T-W", "parent": "P"},
        {"kind": "dissolve", "area": "P-T"}]});
    let applied = submit(&app, &admin, &plan).await;
    assert_eq!(applied.status, 201, "{}", applied.text);
    let renamed = app
        .get(&format!("/api/v1/areas/{}", world.n3), Some(&admin))
        .await;
    assert_eq!(renamed.body["name"], "Khu phố Đông");
    let moved = app
        .get(&format!("/api/v1/areas/{}", world.ward2), Some(&admin))
        .await;
    assert_eq!(moved.body["parent_id"], world.province);
    let town = app
        .get(&format!("/api/v1/areas/{}", world.town), Some(&admin))
        .await;
    assert_eq!(town.body["ended_on"], "2025-07-01");
    for (index, d) in probe.iter().enumerate() {
        assert_eq!(
            counts(&app, &admin, &world.ward2, *d).await,
            ward2_before[index]
        );
        assert_eq!(
            counts(&app, &admin, &world.province, *d).await,
            province_before[index]
        );
    }
    // The dissolved town reads, for the days it existed, what its wards had then.
    let town_then = counts(&app, &admin, &world.town, day("2024-06-01")).await;
    assert_eq!(town_then, province_before[0]);
    // The ward's official still sees its ward (its path changed, not its identity).
    let other = app.token_for(OTHER_OFFICIAL).await;
    assert_eq!(
        counts(&app, &other, &world.ward2, today()).await,
        ward2_before[1]
    );
    let history = app
        .get(&format!("/api/v1/areas/{}/history", world.n3), Some(&admin))
        .await;
    let renamed = history.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == "renamed")
        .unwrap();
    assert_eq!(renamed["new_name"], "Khu phố Đông");
    assert!(renamed["old_name"].as_str().unwrap().contains("P-T-W2-1"));
    // A plan effective before the last one applied would rewrite history: refused.
    let earlier = json!({"title": "x", "effective_on": "2025-01-01", "steps": [
        {"kind": "rename", "area": "P-T-W-1", "name": "Khu phố Tây"}]});
    let refused = dry_run(&app, &admin, &earlier).await;
    assert_eq!(
        refused.body["errors"][0]["code"],
        "before-last-reorganisation"
    );
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

#[actix_web::test]
async fn a_merge_effective_tomorrow_waits_for_its_day_and_can_be_cancelled_until_then() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    family(&app, &admin, &world.n1, "2024-03-01", "2024-04-01").await;
    family(&app, &admin, &world.n2, "2025-03-01", "2025-04-01").await;
    let tomorrow = today() + Days::new(1);
    let plan = json!({"title": "Sáp nhập khu phố 1 vào khu phố 2", "effective_on": tomorrow, "steps": [
        {"kind": "merge", "sources": ["P-T-W-1", "P-T-W-2"], "into": {"code": "P-T-W-2"}}]});
    let n1_today = counts(&app, &admin, &world.n1, today()).await;
    let n2_today = counts(&app, &admin, &world.n2, today()).await;

    let scheduled = submit(&app, &admin, &plan).await;
    assert_eq!(scheduled.status, 201, "{}", scheduled.text);
    assert_eq!(scheduled.body["status"], "scheduled");
    let id = scheduled.body["id"].as_str().unwrap().to_owned();
    // Nothing moved yet: n1 exists and keeps its households.
    let n1 = app
        .get(&format!("/api/v1/areas/{}", world.n1), Some(&admin))
        .await;
    assert_eq!(n1.body["ended_on"], Value::Null);
    assert_eq!(counts(&app, &admin, &world.n1, today()).await, n1_today);
    let listed = app.get("/api/v1/reorganisations", Some(&admin)).await;
    assert_eq!(listed.body["items"][0]["id"], id);

    let cancelled = app
        .post(
            &format!("/api/v1/reorganisations/{id}/cancel"),
            Some(&admin),
            &json!({"reason": "Nghị quyết được sửa"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    let again = app
        .post(
            &format!("/api/v1/reorganisations/{id}/cancel"),
            Some(&admin),
            &json!({"reason": "lần nữa"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_code(), "reorganisation-not-scheduled");
    // The scheduler leaves a cancelled one alone.
    assert_eq!(
        app.with_db(|conn| eid_adoption::reorganisations::apply_due(conn, tomorrow).unwrap()),
        0
    );

    let scheduled = submit(&app, &admin, &plan).await;
    let id = scheduled.body["id"].as_str().unwrap().to_owned();
    // Today is not its day; tomorrow is (what the scheduler runs, on a later day).
    assert_eq!(
        app.with_db(|conn| eid_adoption::reorganisations::apply_due(conn, today()).unwrap()),
        0
    );
    assert_eq!(
        // As the scheduler runs it: one write transaction, counters batched.
        app.with_db(|conn| {
            conn.transaction(|conn| {
                eid_adoption::adoption::counters::batched(conn, |conn| {
                    eid_adoption::reorganisations::apply_due(conn, tomorrow)
                })
            })
            .unwrap()
        }),
        1
    );
    let applied = app
        .get(&format!("/api/v1/reorganisations/{id}"), Some(&admin))
        .await;
    assert_eq!(applied.body["status"], "applied");
    let n1 = app
        .get(&format!("/api/v1/areas/{}", world.n1), Some(&admin))
        .await;
    assert_eq!(n1.body["ended_on"], tomorrow.to_string());
    assert_eq!(n1.body["succeeded_by"], world.n2);
    // Today n1 still existed: it reads as it was; n2 carries both histories.
    assert_eq!(counts(&app, &admin, &world.n1, today()).await, n1_today);
    assert_eq!(
        counts(&app, &admin, &world.n2, today()).await,
        sum(n1_today, n2_today)
    );
    let me = app
        .get("/api/v1/me", Some(&app.token_for(HEAD).await))
        .await;
    assert_eq!(me.body["area"]["id"], world.n2);
    let cancel_applied = app
        .post(
            &format!("/api/v1/reorganisations/{id}/cancel"),
            Some(&admin),
            &json!({"reason": "quá muộn"}),
        )
        .await;
    assert_eq!(cancel_applied.status, 409);
}

/// The served counts of an ended area are computed from where households were: compare
/// them with what the live counters served before the change.
fn located(app: &TestApp, area: &str, days: &[NaiveDate]) -> Vec<Counts> {
    app.with_db(|conn| {
        let area: Area = areas::table
            .find(area)
            .select(Area::as_select())
            .first(conn)
            .unwrap();
        located_counts(conn, &area, days).unwrap()
    })
}

async fn random_reorganisations_keep_every_figure_exact(seed: u64) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let mut rng = Rng(seed);
    let mut history = History::default();
    let neighbourhoods = [world.n1.clone(), world.n2.clone(), world.n3.clone()];
    for _ in 0..50 {
        step(&app, &admin, &neighbourhoods, &mut rng, &mut history).await;
    }
    let effective = start() + Days::new(rng.below((today() - start()).num_days() as u64));
    let mut days: Vec<NaiveDate> = (0..8)
        .filter_map(|_| rng.pick(&history.days).copied())
        .chain([start(), effective - Days::new(1), effective, today()])
        .filter(|d| *d <= today())
        .collect();
    days.sort();
    days.dedup();
    let mut before = std::collections::BTreeMap::new();
    for area in [&world.n1, &world.n2, &world.n3, &world.ward, &world.ward2] {
        let mut row = Vec::new();
        for d in &days {
            row.push(counts(&app, &admin, area, *d).await);
        }
        before.insert(area.clone(), row);
    }
    let households: Vec<String> = app.with_db(|conn| {
        use eid_adoption::schema::households;
        households::table
            .filter(households::area_id.eq(&world.n1))
            .order(households::id)
            .select(households::id)
            .load(conn)
            .unwrap()
    });
    let (first, second): (Vec<_>, Vec<_>) = households.iter().partition(|_| rng.chance(50));
    let kind = rng.below(3);
    let plan = match kind {
        0 => merge_of_the_two_wards(&effective.to_string()),
        1 => json!({"title": "split", "effective_on": effective, "steps": [
            {"kind": "split", "source": "P-T-W-1", "parts": [
                {"into": {"code": "P-T-W-1A", "new": {"name": "1A", "kind": "neighbourhood", "parent": "P-T-W"}}, "households": first},
                {"into": {"code": "P-T-W-1B", "new": {"name": "1B", "kind": "neighbourhood", "parent": "P-T-W2"}}, "households": second}]}]}),
        _ => json!({"title": "merge", "effective_on": effective, "steps": [
            {"kind": "merge", "sources": ["P-T-W-1", "P-T-W2-1"], "into": {"code": "P-T-W2-1"}}]}),
    };
    let applied = submit(&app, &admin, &plan).await;
    assert_eq!(applied.status, 201, "seed {seed}: {}", applied.text);
    let before_effective: Vec<bool> = days.iter().map(|d| *d < effective).collect();
    // What ended reads as it was on the days it existed.
    let ended: Vec<&String> = match kind {
        0 => vec![&world.ward, &world.ward2],
        _ => vec![&world.n1],
    };
    for area in ended {
        let read = located(&app, area, &days);
        for (index, d) in days.iter().enumerate() {
            if before_effective[index] {
                assert_eq!(
                    read[index], before[area][index],
                    "seed {seed}: {area} on {d}"
                );
            }
        }
    }
    // What formed has its predecessors' history.
    for (index, d) in days.iter().enumerate() {
        match kind {
            0 => {
                let new_ward = area_by_code(&app, "P-QT");
                assert_eq!(
                    counts(&app, &admin, &new_ward.id, *d).await,
                    sum(before[&world.ward][index], before[&world.ward2][index]),
                    "seed {seed} on {d}"
                );
            }
            1 => {
                let a = counts(&app, &admin, &area_by_code(&app, "P-T-W-1A").id, *d).await;
                let b = counts(&app, &admin, &area_by_code(&app, "P-T-W-1B").id, *d).await;
                assert_eq!(sum(a, b), before[&world.n1][index], "seed {seed} on {d}");
                // Each ward now has the history of the households it has.
                assert_eq!(
                    counts(&app, &admin, &world.ward, *d).await,
                    sum(before[&world.n2][index], a),
                    "seed {seed}: ward on {d}"
                );
            }
            _ => {
                assert_eq!(
                    counts(&app, &admin, &world.n3, *d).await,
                    sum(before[&world.n1][index], before[&world.n3][index]),
                    "seed {seed} on {d}"
                );
            }
        }
    }
    // More history after the change, on the map of today, then a recount of everything.
    let live: Vec<String> = app.with_db(|conn| {
        areas::table
            .filter(areas::kind.eq("neighbourhood"))
            .filter(areas::ended_on.is_null())
            .select(areas::id)
            .load(conn)
            .unwrap()
    });
    for _ in 0..30 {
        step(&app, &admin, &live, &mut rng, &mut history).await;
    }
    let every_area: Vec<Area> = app.with_db(|conn| {
        areas::table
            .filter(areas::ended_on.is_null())
            .select(Area::as_select())
            .load(conn)
            .unwrap()
    });
    for area in every_area {
        let recounted = app.with_db(|conn| recount_days(conn, &area.path, &days).unwrap());
        for (d, expected) in days.iter().zip(recounted) {
            assert_eq!(
                counts(&app, &admin, &area.id, *d).await,
                expected,
                "seed {seed}: {} on {d}",
                area.code
            );
        }
    }
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(
        report.differences.is_empty(),
        "seed {seed}: {:?}",
        report.differences
    );
}

#[actix_web::test]
async fn random_reorganisations_keep_every_served_figure_equal_to_a_recount() {
    for seed in [11, 29, 47] {
        random_reorganisations_keep_every_figure_exact(seed).await;
    }
}
