//! Heads manage the volunteers of their neighbourhood; administrators everyone in scope.

use diesel::prelude::*;
use eid_adoption::auth::Role;
use eid_adoption::i18n::Lang;
use eid_adoption::users::{insert_account, NewAccount};
use serde_json::json;

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, PASSWORD, VOLUNTEER, WARD_ADMIN};

/// A volunteer account in `area` (with the seeded users' password).
fn volunteer_in(app: &TestApp, area: &str, email: &str, name: &str) -> String {
    app.with_db(|conn| {
        let hash: String = eid_adoption::schema::users::table
            .select(eid_adoption::schema::users::password_hash)
            .first(conn)
            .unwrap();
        insert_account(
            conn,
            NewAccount {
                email: Some(email),
                phone: None,
                name,
                role: Role::Volunteer,
                area_id: Some(area),
                password_hash: &hash,
                language: Lang::Vi,
                active: true,
            },
        )
        .unwrap()
    })
}

/// A volunteer of the other ward, out of the head's reach.
fn far_volunteer(app: &TestApp, area: &str) -> String {
    volunteer_in(app, area, "far@test.local", "Xa")
}

#[actix_web::test]
async fn a_head_lists_assigns_unassigns_and_disables_the_volunteers_of_their_neighbourhood() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let far = far_volunteer(&app, &world.n3);
    let head = app.token_for(HEAD).await;
    let listed = app.get("/api/v1/volunteers", Some(&head)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.ids(), vec![world.volunteer.clone()]);
    let all = app
        .get(
            "/api/v1/volunteers",
            Some(&app.token_for(NATIONAL_ADMIN).await),
        )
        .await;
    assert_eq!(all.ids().len(), 2);

    let volunteer_session = app.login(VOLUNTEER, PASSWORD).await;
    let access = volunteer_session.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = volunteer_session.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = |area: &str| format!("/api/v1/volunteers/{}/assignments/{area}", world.volunteer);
    let not_mine = app.put(&path(&world.n2), Some(&head)).await;
    assert_eq!(not_mine.status, 404, "N2 is not the head's neighbourhood");
    assert_eq!(not_mine.problem_code(), "area-not-found");
    let unassigned = app.delete(&path(&world.n1), Some(&head)).await;
    assert_eq!(unassigned.status, 200);
    assert_eq!(unassigned.body["assignments"].as_array().unwrap().len(), 0);
    let again = app.delete(&path(&world.n1), Some(&head)).await;
    assert_eq!(again.status, 200, "unassigning is idempotent");
    let assigned = app.put(&path(&world.n1), Some(&head)).await;
    assert_eq!(assigned.status, 200);
    assert_eq!(assigned.body["assignments"][0]["id"], world.n1.as_str());
    assert_eq!(
        app.put(&path(&world.n1), Some(&head)).await.status,
        200,
        "assigning is idempotent"
    );

    let far_path = format!("/api/v1/volunteers/{far}/disable");
    assert_eq!(
        app.post(&far_path, Some(&head), &json!({}))
            .await
            .problem_code(),
        "user-not-found"
    );

    let disabled = app
        .post(
            &format!("/api/v1/volunteers/{}/disable", world.volunteer),
            Some(&head),
            &json!({}),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.body["status"], "disabled");
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(
        refreshed.problem_code(),
        "invalid-refresh-token",
        "every sign-in is revoked at once"
    );
    assert_eq!(app.get("/api/v1/me", Some(&access)).await.status, 401);
}

#[actix_web::test]
async fn an_administrator_assigns_a_volunteer_within_the_volunteers_own_area() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    // The volunteer is scoped to N1: N2 lies outside their own area.
    let outside_own_area = app
        .put(
            &format!(
                "/api/v1/volunteers/{}/assignments/{}",
                world.volunteer, world.n2
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(outside_own_area.status, 422);
    assert_eq!(
        outside_own_area.body["errors"][0]["code"],
        "not-a-neighbourhood-in-area"
    );
    let not_a_volunteer = app
        .put(
            &format!("/api/v1/volunteers/{}/assignments/{}", world.head, world.n1),
            Some(&admin),
        )
        .await;
    assert_eq!(not_a_volunteer.problem_code(), "user-not-found");
}

#[actix_web::test]
async fn officials_and_volunteers_do_not_manage_volunteers() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    for email in [OFFICIAL, VOLUNTEER] {
        let token = app.token_for(email).await;
        assert_eq!(
            app.get("/api/v1/volunteers", Some(&token)).await.status,
            403,
            "{email}"
        );
        let path = format!(
            "/api/v1/volunteers/{}/assignments/{}",
            world.volunteer, world.n1
        );
        assert_eq!(app.put(&path, Some(&token)).await.status, 403);
        assert_eq!(app.delete(&path, Some(&token)).await.status, 403);
        let disable = format!("/api/v1/volunteers/{}/disable", world.volunteer);
        assert_eq!(
            app.post(&disable, Some(&token), &json!({})).await.status,
            403
        );
    }
    assert_eq!(app.get("/api/v1/volunteers", None).await.status, 401);
}

/// A second volunteer of the head's neighbourhood, who never synced.
fn idle_volunteer(app: &TestApp, area: &str) -> String {
    volunteer_in(app, area, "idle@test.local", "Chưa đồng bộ")
}

#[actix_web::test]
async fn a_head_sees_each_volunteers_phones_worst_first_with_the_never_synced_flagged_inactive() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let idle = idle_volunteer(&app, &world.n1);
    far_volunteer(&app, &world.n3);
    let mut phone = crate::phone::Phone::sign_in(&app, VOLUNTEER).await;
    let household = phone.create(
        "household",
        crate::sync::household_data(&world, "Số 3 Trần Phú"),
    );
    phone.visit(&household, "helped", vec![]);
    phone.create(
        "household",
        json!({"area_id": world.n1, "head_name": "Không địa chỉ"}),
    );
    let pushed = phone.push().await;
    assert_eq!(pushed[0].status, 200, "{}", pushed[0].text);
    // The pull that follows says three changes are still waiting on the phone.
    let path = format!("/api/v1/sync/pull?device_id={}&queued=3", phone.device_id);
    let pulled = app.send(phone.request(reqwest::Method::GET, &path)).await;
    assert_eq!(pulled.status, 200, "{}", pulled.text);

    let head = app.token_for(HEAD).await;
    let report = app.get("/api/v1/volunteers/activity", Some(&head)).await;
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(
        report.body["total"], 2,
        "the far volunteer is not the head's"
    );
    assert_eq!(report.body["inactive_days"], 7);
    let items = report.body["items"].as_array().unwrap();
    assert_eq!(items[0]["volunteer"]["id"], idle.as_str());
    assert_eq!(items[0]["inactive"], true);
    assert_eq!(items[0]["last_sync_at"], serde_json::Value::Null);
    assert_eq!(items[0]["devices"], json!([]));
    let busy = &items[1];
    assert_eq!(busy["volunteer"]["id"], world.volunteer.as_str());
    assert_eq!(busy["inactive"], false);
    assert_eq!(busy["records_this_week"], 2);
    assert_eq!(busy["rejected_this_week"], 1);
    assert_eq!(busy["queued_items"], 3);
    let device = &busy["devices"][0];
    assert_eq!(device["device_id"], phone.device_id.as_str());
    assert_eq!(device["app_version"], crate::phone::APP_VERSION);
    assert!(device["last_push_at"].is_string());
    assert!(device["last_pull_at"].is_string());
    assert!(device["queued_reported_at"].is_string());

    // Another user naming this phone on a pull is refused; the phone's record is untouched.
    let other = app
        .send(
            app.client
                .get(app.url(&path))
                .bearer_auth(&head)
                .header("X-App-Version", crate::phone::APP_VERSION),
        )
        .await;
    assert_eq!(other.status, 403);
    assert_eq!(other.problem_code(), "device-not-yours");

    for (who, status) in [(VOLUNTEER, 403), (OFFICIAL, 403)] {
        let token = app.token_for(who).await;
        let refused = app.get("/api/v1/volunteers/activity", Some(&token)).await;
        assert_eq!(refused.status, status, "{who}");
    }
    let bad = app
        .get("/api/v1/volunteers/activity?inactive_days=0", Some(&head))
        .await;
    assert_eq!(bad.status, 422);
    let admin = app
        .get(
            "/api/v1/volunteers/activity?limit=1",
            Some(&app.token_for(NATIONAL_ADMIN).await),
        )
        .await;
    assert_eq!(admin.body["total"], 3);
    assert_eq!(admin.body["items"].as_array().unwrap().len(), 1);
}
