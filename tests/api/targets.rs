//! Targets: national defaults, per-area overrides, inheritance from the nearest ancestor.

use serde_json::{json, Value};

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, WARD_ADMIN};

fn of<'a>(targets: &'a Value, indicator: &str) -> Vec<&'a Value> {
    targets["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["indicator"] == indicator)
        .collect()
}

#[actix_web::test]
async fn an_area_without_its_own_targets_inherits_the_nearest_and_names_the_source() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let official = app.token_for(OFFICIAL).await;
    let defaults = app
        .get(
            &format!("/api/v1/areas/{}/targets", world.n1),
            Some(&official),
        )
        .await;
    assert_eq!(defaults.status, 200, "{}", defaults.text);
    assert_eq!(defaults.body["targets"].as_array().unwrap().len(), 4);
    let eid = of(&defaults.body, "eid");
    assert_eq!(eid[0]["comparison"], "at_least");
    assert_eq!(eid[0]["threshold_percent"], 80.0);
    assert_eq!(eid[0]["deadline"], "2025-12-31");
    assert!(eid[0]["source_area_id"].is_null(), "the national default");
    let signature = of(&defaults.body, "signature");
    assert_eq!(
        signature.len(),
        2,
        "more than 50 % by 2025 and more than 70 % by 2030"
    );
    assert_eq!(signature[1]["comparison"], "more_than");
    assert_eq!(signature[1]["threshold_percent"], 70.0);

    let admin = app.token_for(WARD_ADMIN).await;
    let set = app
        .send(
            app.client
                .put(app.url(&format!("/api/v1/areas/{}/targets", world.ward)))
                .bearer_auth(&admin)
                .json(&json!({"targets": [{"indicator": "eid", "comparison": "at_least", "threshold_percent": 85.5, "deadline": "2025-12-31"}]})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(of(&set.body, "eid")[0]["inherited"], false);
    let below = app
        .get(
            &format!("/api/v1/areas/{}/targets", world.n1),
            Some(&official),
        )
        .await;
    let eid = of(&below.body, "eid");
    assert_eq!(eid.len(), 1);
    assert_eq!(eid[0]["threshold_percent"], 85.5);
    assert_eq!(
        eid[0]["source_area_id"],
        world.ward.as_str(),
        "inherited from the ward, named"
    );
    assert_eq!(eid[0]["inherited"], true);
    assert!(of(&below.body, "broadband")[0]["source_area_id"].is_null());

    // Back to inheriting everything.
    let cleared = app
        .send(
            app.client
                .put(app.url(&format!("/api/v1/areas/{}/targets", world.ward)))
                .bearer_auth(&admin)
                .json(&json!({"targets": []})),
        )
        .await;
    assert!(of(&cleared.body, "eid")[0]["source_area_id"].is_null());
}

#[actix_web::test]
async fn only_administrators_set_targets_in_their_scope_and_bad_targets_are_refused() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let put = |token: String, area: String, body: Value| {
        let request = app
            .client
            .put(app.url(&format!("/api/v1/areas/{area}/targets")))
            .bearer_auth(token)
            .json(&body);
        app.send(request)
    };
    let good = json!({"targets": [{"indicator": "broadband", "comparison": "at_least", "threshold_percent": 90, "deadline": "2026-12-31"}]});
    for email in [OFFICIAL, HEAD] {
        let token = app.token_for(email).await;
        assert_eq!(
            put(token, world.n1.clone(), good.clone()).await.status,
            403,
            "{email}"
        );
    }
    let admin = app.token_for(WARD_ADMIN).await;
    assert_eq!(
        put(admin.clone(), world.ward2.clone(), good.clone())
            .await
            .problem_code(),
        "area-not-found"
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/areas/{}/targets", world.ward2),
            Some(&admin)
        )
        .await
        .status,
        404
    );
    let too_high = json!({"targets": [{"indicator": "eid", "comparison": "at_least", "threshold_percent": 101, "deadline": "2026-12-31"}]});
    assert_eq!(
        put(admin.clone(), world.n1.clone(), too_high).await.body["errors"][0]["pointer"],
        "/targets/0/threshold_percent"
    );
    let twice = json!({"targets": [
        {"indicator": "eid", "comparison": "at_least", "threshold_percent": 80, "deadline": "2026-12-31"},
        {"indicator": "eid", "comparison": "more_than", "threshold_percent": 81, "deadline": "2026-12-31"}]});
    assert_eq!(
        put(admin.clone(), world.n1.clone(), twice).await.body["errors"][0]["code"],
        "duplicate"
    );
    let precise = json!({"targets": [{"indicator": "eid", "comparison": "at_least", "threshold_percent": 80.125, "deadline": "2026-12-31"}]});
    assert_eq!(
        put(admin.clone(), world.n1.clone(), precise).await.body["errors"][0]["code"],
        "too-precise"
    );
    let unknown = json!({"targets": [{"indicator": "wifi", "comparison": "at_least", "threshold_percent": 80, "deadline": "2026-12-31"}]});
    assert_eq!(
        put(admin.clone(), world.n1.clone(), unknown).await.status,
        422
    );
    assert_eq!(put(admin.clone(), world.n1.clone(), good).await.status, 200);
    let national = app.token_for(NATIONAL_ADMIN).await;
    let audit = app
        .get("/api/v1/audit?action=area.targets_updated", Some(&national))
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}
