//! Suspected duplicates: found when a record is saved, merged or dismissed by the head.

use serde_json::json;

use crate::helpers::{TestApp, HEAD, OTHER_OFFICIAL, VOLUNTEER, WARD_ADMIN};
use crate::households::{add_household, add_resident};

#[actix_web::test]
async fn the_same_name_and_birth_date_in_a_neighbourhood_is_merged_into_the_chosen_record() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let first_home = add_household(&app, &head, &world.n1, "Số 1", "Hoàng Văn Tư").await;
    let second_home = add_household(&app, &head, &world.n1, "Số 2", "Khác").await;
    let person = json!({"full_name": "Hoàng Văn Tư", "birth_date": "1962-07-07", "sex": "male", "relation_to_head": "head"});
    let kept = add_resident(&app, &head, &first_home, person.clone()).await;
    let mut spelled = person.clone();
    spelled["full_name"] = json!("HOANG VAN TU");
    spelled["relation_to_head"] = json!("parent");
    let copy = add_resident(&app, &head, &second_home, spelled).await;
    app.post(
        "/api/v1/status-events",
        Some(&head),
        &json!({"household_id": second_home, "events": [{"kind": "eid", "resident_id": copy, "value": "level2", "effective_on": "2025-05-05"}]}),
    )
    .await;

    let listed = app.get("/api/v1/duplicates", Some(&head)).await;
    assert_eq!(listed.status, 200);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["reason"], "name_and_birth_date");
    let pair = items[0]["id"].as_str().unwrap().to_owned();

    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(
        app.get("/api/v1/duplicates", Some(&volunteer)).await.status,
        403
    );
    let wrong = app
        .post(
            &format!("/api/v1/duplicates/{pair}/merge"),
            Some(&head),
            &json!({"survivor_id": world.n1}),
        )
        .await;
    assert_eq!(wrong.body["errors"][0]["code"], "not-in-pair");
    let merged = app
        .post(
            &format!("/api/v1/duplicates/{pair}/merge"),
            Some(&head),
            &json!({"survivor_id": kept}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.body["status"], "merged");
    let survivor = app
        .get(&format!("/api/v1/residents/{kept}"), Some(&head))
        .await;
    assert_eq!(
        survivor.body["eid_level"], "level2",
        "the merged record's events moved to the survivor"
    );
    assert_eq!(
        app.get(&format!("/api/v1/residents/{copy}"), Some(&head))
            .await
            .status,
        404
    );
    let again = app
        .post(
            &format!("/api/v1/duplicates/{pair}/dismiss"),
            Some(&head),
            &json!({}),
        )
        .await;
    assert_eq!(again.problem_code(), "duplicate-resolved");
    assert!(
        app.get("/api/v1/duplicates", Some(&head)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn the_same_citizen_id_in_the_ward_is_a_suspected_duplicate_that_can_be_dismissed() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let one = add_household(&app, &admin, &world.n1, "Số 1", "A").await;
    let two = add_household(&app, &admin, &world.n2, "Số 2", "B").await;
    add_resident(&app, &admin, &one, json!({"full_name": "Người Một", "birth_date": "1990", "sex": "female", "relation_to_head": "head", "citizen_id": "038190000111"})).await;
    add_resident(&app, &admin, &two, json!({"full_name": "Người Hai", "birth_date": "1991", "sex": "female", "relation_to_head": "head", "citizen_id": "038190000111"})).await;
    let listed = app.get("/api/v1/duplicates", Some(&admin)).await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["reason"], "citizen_id");
    let pair = items[0]["id"].as_str().unwrap();
    let outsider = app.token_for(crate::helpers::NATIONAL_ADMIN).await;
    assert_eq!(
        app.get("/api/v1/duplicates", Some(&outsider)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other_ward = app.token_for(OTHER_OFFICIAL).await;
    assert_eq!(
        app.get("/api/v1/duplicates", Some(&other_ward))
            .await
            .status,
        403
    );
    let dismissed = app
        .post(
            &format!("/api/v1/duplicates/{pair}/dismiss"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(dismissed.status, 200);
    assert_eq!(dismissed.body["status"], "dismissed");
    let missing = app
        .post(
            "/api/v1/duplicates/01936b2e-0000-7000-8000-000000000000/dismiss",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(missing.problem_code(), "duplicate-not-found");
}

#[actix_web::test]
async fn a_head_never_sees_nor_merges_a_pair_whose_other_record_lives_outside_the_neighbourhood() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let head = app.token_for(HEAD).await;
    let elsewhere = add_household(&app, &admin, &world.n2, "Số 9", "B").await;
    let stranger = add_resident(&app, &admin, &elsewhere, json!({"full_name": "Người Lạ", "birth_date": "1970", "sex": "male", "relation_to_head": "head", "citizen_id": "038170000222"})).await;
    // The head types a known citizen ID into a record of their own neighbourhood.
    let home = add_household(&app, &head, &world.n1, "Số 1", "A").await;
    add_resident(&app, &head, &home, json!({"full_name": "Người Mình", "birth_date": "1980", "sex": "male", "relation_to_head": "head", "citizen_id": "038170000222"})).await;

    let seen_by_admin = app.get("/api/v1/duplicates", Some(&admin)).await;
    let pair = seen_by_admin.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen_by_head = app.get("/api/v1/duplicates", Some(&head)).await;
    assert_eq!(seen_by_head.status, 200);
    assert!(
        !seen_by_head.text.contains("Người Lạ") && seen_by_head.ids().is_empty(),
        "the other neighbourhood's person is not shown: {}",
        seen_by_head.text
    );
    for (action, body) in [
        ("merge", json!({"survivor_id": home_resident(&app, &home)})),
        ("dismiss", json!({})),
    ] {
        let answer = app
            .post(
                &format!("/api/v1/duplicates/{pair}/{action}"),
                Some(&head),
                &body,
            )
            .await;
        assert_eq!(answer.problem_code(), "duplicate-not-found", "{action}");
    }
    let person = app
        .get(&format!("/api/v1/residents/{stranger}"), Some(&admin))
        .await;
    assert_eq!(
        person.status, 200,
        "the other neighbourhood's person is untouched"
    );
    assert!(person.body["deleted_at"].is_null());
}

fn home_resident(app: &TestApp, household: &str) -> String {
    use diesel::prelude::*;
    use eid_adoption::schema::residents;
    app.with_db(|conn| {
        residents::table
            .filter(residents::household_id.eq(household))
            .select(residents::id)
            .first(conn)
            .unwrap()
    })
}
