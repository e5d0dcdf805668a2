//! Every sensitive action leaves exactly one trace with the right actor, nothing secret in
//! it; administrators read the trail of their scope.

use std::collections::HashMap;

use diesel::prelude::*;
use eid_adoption::schema::audit_log;
use serde_json::{json, Value};

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, PASSWORD, VOLUNTEER, WARD_ADMIN};
use crate::smtp::SmtpServer;

/// Every audit row as (action, actor_id, entity_id).
fn rows(app: &TestApp) -> Vec<(String, Option<String>, Option<String>)> {
    app.with_db(|conn| {
        audit_log::table
            .select((audit_log::action, audit_log::actor_id, audit_log::entity_id))
            .order(audit_log::id.asc())
            .load(conn)
            .unwrap()
    })
}

fn count(app: &TestApp, action: &str) -> usize {
    rows(app).iter().filter(|(a, _, _)| a == action).count()
}

fn whole_table_text(app: &TestApp) -> String {
    let all: Vec<(String, Option<String>, String)> = app.with_db(|conn| {
        audit_log::table
            .select((audit_log::action, audit_log::client_ip, audit_log::changes))
            .load(conn)
            .unwrap()
    });
    format!("{all:?}")
}

#[actix_web::test]
async fn every_auth_and_account_action_leaves_exactly_one_row_with_its_actor_and_no_secret() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(&[("SMTP_URL", &smtp.url())]).await;
    let world = app.seed_world();
    let mut secrets: Vec<String> = vec![PASSWORD.to_owned()];

    // Sign-in, failure, refresh, reuse, logout.
    let login = app.login(OFFICIAL, PASSWORD).await;
    let first_refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(first_refresh.clone());
    secrets.push(login.body["access_token"].as_str().unwrap().to_owned());
    assert_eq!(count(&app, "auth.login"), 1);
    assert_eq!(
        rows(&app).last().unwrap().1.as_deref(),
        Some(world.official.as_str())
    );

    app.login(OFFICIAL, "a wrong password").await;
    assert_eq!(count(&app, "auth.login_failed"), 1);
    assert_eq!(
        rows(&app).last().unwrap().1,
        None,
        "a failed login has no actor"
    );

    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first_refresh}),
        )
        .await;
    let second_refresh = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(second_refresh.clone());
    assert_eq!(count(&app, "auth.token_refreshed"), 1);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": first_refresh}),
    )
    .await;
    assert_eq!(count(&app, "auth.refresh_token_reused"), 1);

    let other = app.login(OFFICIAL, PASSWORD).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": other}),
    )
    .await;
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": other}),
    )
    .await;
    assert_eq!(
        count(&app, "auth.logout"),
        1,
        "a second logout of a dead session is no event"
    );

    // Password reset.
    app.post("/api/v1/auth/password-reset", None, &json!({"email": HEAD}))
        .await;
    assert_eq!(count(&app, "auth.password_reset_requested"), 1);
    let reset_token = smtp.wait_for(1).await[0].token();
    secrets.push(reset_token.clone());
    let new_password = "một mật khẩu mới dài";
    secrets.push(new_password.to_owned());
    app.post(
        "/api/v1/auth/password-reset/confirm",
        None,
        &json!({"token": reset_token, "password": new_password}),
    )
    .await;
    assert_eq!(count(&app, "auth.password_reset_completed"), 1);
    assert_eq!(
        rows(&app).last().unwrap().1.as_deref(),
        Some(world.head.as_str())
    );

    // Accounts.
    let admin = app.token_for(WARD_ADMIN).await;
    let created = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"email": "new@test.local", "name": "Mới", "role": "official", "area_id": world.ward, "password": "initial password x"}),
        )
        .await;
    secrets.push("initial password x".to_owned());
    assert_eq!(count(&app, "user.created"), 1);
    let new_user = created.body["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/v1/users/{new_user}"),
        Some(&admin),
        Some("\"1\""),
        &json!({"name": "Tên mới"}),
    )
    .await;
    assert_eq!(count(&app, "user.updated"), 1);
    let (action, actor, entity) = rows(&app).pop().unwrap();
    assert_eq!(
        (action.as_str(), actor.as_deref(), entity.as_deref()),
        (
            "user.updated",
            Some(world.ward_admin.as_str()),
            Some(new_user.as_str())
        )
    );

    // Invitations.
    let head = app.login(HEAD, new_password).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "inv@test.local", "name": "Mời", "role": "volunteer"}),
        )
        .await;
    assert_eq!(count(&app, "invitation.created"), 1);
    assert_eq!(
        rows(&app).last().unwrap().1.as_deref(),
        Some(world.head.as_str())
    );
    let invitation_token = smtp.wait_for(2).await[1].token();
    secrets.push(invitation_token.clone());
    app.post(
        "/api/v1/invitations/accept",
        None,
        &json!({"token": invitation_token, "password": "accepted password"}),
    )
    .await;
    secrets.push("accepted password".to_owned());
    assert_eq!(count(&app, "invitation.accepted"), 1);
    let second = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "inv2@test.local", "name": "Mời 2", "role": "volunteer"}),
        )
        .await;
    app.delete(
        &format!(
            "/api/v1/invitations/{}",
            second.body["id"].as_str().unwrap()
        ),
        Some(&head),
    )
    .await;
    assert_eq!(count(&app, "invitation.revoked"), 1);
    assert_ne!(invited.body["id"], second.body["id"]);

    // Volunteers and sessions.
    let assign = format!(
        "/api/v1/volunteers/{}/assignments/{}",
        world.volunteer, world.n1
    );
    app.delete(&assign, Some(&head)).await;
    assert_eq!(count(&app, "user.unassigned"), 1);
    app.put(&assign, Some(&head)).await;
    assert_eq!(count(&app, "user.assigned"), 1);
    app.login(VOLUNTEER, PASSWORD).await;
    let sessions = app
        .get(
            &format!("/api/v1/users/{}/sessions", world.volunteer),
            Some(&head),
        )
        .await;
    let session = sessions.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.delete(
        &format!("/api/v1/users/{}/sessions/{session}", world.volunteer),
        Some(&head),
    )
    .await;
    assert_eq!(count(&app, "session.revoked"), 1);
    app.post(
        &format!("/api/v1/volunteers/{}/disable", world.volunteer),
        Some(&head),
        &json!({}),
    )
    .await;
    assert_eq!(count(&app, "user.disabled"), 1);

    // Areas.
    let area = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &json!({"parent_id": world.ward, "kind": "neighbourhood", "code": "P-T-W-9", "name": "Khu phố 9"}),
        )
        .await;
    assert_eq!(count(&app, "area.created"), 1);
    app.patch(
        &format!("/api/v1/areas/{}", area.body["id"].as_str().unwrap()),
        Some(&admin),
        Some("\"1\""),
        &json!({"official_adult_population": 900}),
    )
    .await;
    assert_eq!(count(&app, "area.updated"), 1);

    let text = whole_table_text(&app);
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret reached the audit log"
        );
    }
    assert!(
        !text.contains("argon2"),
        "no password hash in the audit log"
    );
}

#[actix_web::test]
async fn administrators_read_the_trail_of_their_scope_with_filters_and_pages() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        app.login(email, PASSWORD).await;
    }
    app.login("unknown@test.local", PASSWORD).await;
    let national = app.token_for(NATIONAL_ADMIN).await;
    let ward_admin = app.token_for(WARD_ADMIN).await;

    let everything = app.get("/api/v1/audit?limit=500", Some(&national)).await;
    assert_eq!(everything.status, 200);
    let all = everything.body["items"].as_array().unwrap();
    assert_eq!(
        all.len(),
        6,
        "four logins, one failure, the admin's own login"
    );
    assert!(all
        .iter()
        .any(|e| e["action"] == "auth.login_failed" && e["area_id"].is_null()));

    let ward = app.get("/api/v1/audit?limit=500", Some(&ward_admin)).await;
    let ward_items = ward.body["items"].as_array().unwrap();
    assert!(
        ward_items.iter().all(|e| !e["area_id"].is_null()),
        "rows without an area are national"
    );
    assert_eq!(
        ward_items.len(),
        4,
        "the official's, head's, volunteer's and ward admin's own logins"
    );

    let by_actor = app
        .get(
            &format!("/api/v1/audit?actor_id={}", world.head),
            Some(&national),
        )
        .await;
    assert_eq!(by_actor.body["items"].as_array().unwrap().len(), 1);
    let failed = app
        .get("/api/v1/audit?action=auth.login_failed", Some(&national))
        .await;
    assert_eq!(failed.body["items"].as_array().unwrap().len(), 1);
    let in_n1 = app
        .get(
            &format!("/api/v1/audit?area_id={}", world.n1),
            Some(&national),
        )
        .await;
    assert_eq!(
        in_n1.body["items"].as_array().unwrap().len(),
        2,
        "the head and the volunteer"
    );
    let outside = app
        .get(
            &format!("/api/v1/audit?area_id={}", world.ward2),
            Some(&ward_admin),
        )
        .await;
    assert_eq!(outside.problem_code(), "area-not-found");
    let future = app
        .get("/api/v1/audit?from=2999-01-01T00:00:00Z", Some(&national))
        .await;
    assert_eq!(future.body["items"].as_array().unwrap().len(), 0);

    let mut seen: HashMap<String, Value> = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit?limit=4&cursor={c}"),
            None => "/api/v1/audit?limit=4".to_owned(),
        };
        let page = app.get(&path, Some(&national)).await;
        for item in page.body["items"].as_array().unwrap() {
            seen.insert(item["id"].as_str().unwrap().to_owned(), item.clone());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(seen.len() >= 6, "paging reaches every row once");

    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        let token = app.token_for(email).await;
        assert_eq!(app.get("/api/v1/audit", Some(&token)).await.status, 403);
    }
    assert_eq!(app.get("/api/v1/audit", None).await.status, 401);
}

#[actix_web::test]
async fn the_audit_log_cannot_be_changed_or_deleted() {
    let app = TestApp::spawn().await;
    app.seed_world();
    app.login(OFFICIAL, PASSWORD).await;
    let updated = app.with_db(|conn| {
        diesel::update(audit_log::table)
            .set(audit_log::action.eq("forged"))
            .execute(conn)
    });
    assert!(updated.is_err());
    let deleted = app.with_db(|conn| diesel::delete(audit_log::table).execute(conn));
    assert!(deleted.is_err());
    assert_eq!(count(&app, "auth.login"), 1);
}

#[actix_web::test]
async fn the_trail_names_the_fields_a_correction_touched_but_never_their_values() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let created = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "address": "Số 5 Ngõ Kín", "head_name": "Lê Thị Riêng", "phone": "0912 000 111"}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let corrected = app
        .patch(
            &format!("/api/v1/households/{id}"),
            Some(&head),
            Some("\"1\""),
            &json!({"phone": "0912 000 222", "head_name": "Lê Thị Khác"}),
        )
        .await;
    assert_eq!(corrected.status, 200, "{}", corrected.text);
    let national = app.token_for(NATIONAL_ADMIN).await;
    let trail = app.get("/api/v1/audit?limit=500", Some(&national)).await;
    for value in ["Ngõ Kín", "Lê Thị", "0912 000"] {
        assert!(!trail.text.contains(value), "{value} is in the trail");
    }
    let update = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "household.updated")
        .unwrap();
    assert_eq!(
        update["changes"],
        json!({"changed": ["head_name", "phone"]})
    );
}

#[actix_web::test]
async fn a_full_sync_download_and_a_look_at_the_duplicates_are_on_the_record() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = crate::phone::Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    let head = app.token_for(HEAD).await;
    assert_eq!(app.get("/api/v1/duplicates", Some(&head)).await.status, 200);
    let rows: Vec<(String, Option<String>)> = app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.eq_any(["sync.downloaded", "duplicate.list_read"]))
            .order(audit_log::action.asc())
            .select((audit_log::action, audit_log::actor_id))
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        rows,
        vec![
            ("duplicate.list_read".to_owned(), Some(world.head.clone())),
            ("sync.downloaded".to_owned(), Some(world.volunteer.clone())),
        ]
    );
}
