//! Sign-ins per device: listed and revoked by their owner, or by an administrator or head.

use serde_json::json;

use crate::helpers::{TestApp, HEAD, OFFICIAL, OTHER_OFFICIAL, PASSWORD, VOLUNTEER, WARD_ADMIN};

async fn login_from(app: &TestApp, email: &str, device: &str) -> (String, String) {
    let response = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("User-Agent", device)
                .json(&json!({"email": email, "password": PASSWORD})),
        )
        .await;
    (
        response.body["access_token"].as_str().unwrap().to_owned(),
        response.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh_status(app: &TestApp, refresh_token: &str) -> u16 {
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh_token}),
    )
    .await
    .status
}

#[actix_web::test]
async fn a_user_lists_their_devices_and_signs_one_out() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let (phone_access, _) = login_from(&app, HEAD, "Android phone").await;
    let (_, laptop_refresh) = login_from(&app, HEAD, "Laptop browser").await;
    let listed = app.get("/api/v1/me/sessions", Some(&phone_access)).await;
    assert_eq!(listed.status, 200);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let current: Vec<_> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Android phone");
    let laptop = items
        .iter()
        .find(|s| s["user_agent"] == "Laptop browser")
        .unwrap();

    let path = format!("/api/v1/me/sessions/{}", laptop["id"].as_str().unwrap());
    assert_eq!(app.delete(&path, Some(&phone_access)).await.status, 204);
    assert_eq!(refresh_status(&app, &laptop_refresh).await, 401);
    let gone = app.delete(&path, Some(&phone_access)).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.problem_code(), "session-not-found");
    assert_eq!(
        app.get("/api/v1/me/sessions", Some(&phone_access))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Somebody else's session id is not found either.
    let (other_access, _) = login_from(&app, OFFICIAL, "Other").await;
    let mine = app
        .get("/api/v1/me/sessions", Some(&phone_access))
        .await
        .body["items"][0]["id"]
        .clone();
    let foreign = app
        .delete(
            &format!("/api/v1/me/sessions/{}", mine.as_str().unwrap()),
            Some(&other_access),
        )
        .await;
    assert_eq!(foreign.status, 404);
}

#[actix_web::test]
async fn a_head_cuts_off_a_volunteers_lost_phone() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let (_, lost_phone) = login_from(&app, VOLUNTEER, "Lost phone").await;
    let head = app.token_for(HEAD).await;
    let path = format!("/api/v1/users/{}/sessions", world.volunteer);
    let listed = app.get(&path, Some(&head)).await;
    assert_eq!(listed.status, 200);
    let session = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete(&format!("{path}/{session}"), Some(&head))
            .await
            .status,
        204
    );
    assert_eq!(refresh_status(&app, &lost_phone).await, 401);

    let admin = app.token_for(WARD_ADMIN).await;
    assert_eq!(
        app.get(
            &format!("/api/v1/users/{}/sessions", world.official),
            Some(&admin)
        )
        .await
        .status,
        200
    );
    let heads_cannot_see_officials = app
        .get(
            &format!("/api/v1/users/{}/sessions", world.official),
            Some(&head),
        )
        .await;
    assert_eq!(heads_cannot_see_officials.status, 404);
    let outside = app
        .get(
            &format!("/api/v1/users/{}/sessions", world.other_official),
            Some(&admin),
        )
        .await;
    assert_eq!(outside.problem_code(), "user-not-found");
    for email in [OFFICIAL, VOLUNTEER, OTHER_OFFICIAL] {
        let token = app.token_for(email).await;
        assert_eq!(app.get(&path, Some(&token)).await.status, 403, "{email}");
        assert_eq!(
            app.delete(&format!("{path}/{session}"), Some(&token))
                .await
                .status,
            403
        );
    }
}

#[actix_web::test]
async fn an_access_token_is_refused_the_moment_its_sign_in_ends() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let refused = |response: crate::helpers::TestResponse, how: &str| {
        assert_eq!(response.status, 401, "{how}: {}", response.text);
        assert_eq!(response.problem_code(), "session-revoked", "{how}");
    };

    let (access, refresh) = login_from(&app, HEAD, "Logged out").await;
    let out = app
        .post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(out.status, 204);
    refused(app.get("/api/v1/me", Some(&access)).await, "logout");

    let (access, _) = login_from(&app, HEAD, "Signed out from elsewhere").await;
    let (other, _) = login_from(&app, HEAD, "Other device").await;
    let sessions = app.get("/api/v1/me/sessions", Some(&other)).await;
    let target = sessions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_agent"] == "Signed out from elsewhere")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .delete(&format!("/api/v1/me/sessions/{target}"), Some(&other))
        .await;
    assert_eq!(revoked.status, 204);
    refused(
        app.get("/api/v1/me", Some(&access)).await,
        "revoked by its owner",
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&other)).await.status,
        200,
        "the other sign-in holds"
    );

    let (access, refresh) = login_from(&app, VOLUNTEER, "Copied token").await;
    assert_eq!(refresh_status(&app, &refresh).await, 200);
    assert_eq!(
        refresh_status(&app, &refresh).await,
        401,
        "reuse revokes the family"
    );
    refused(
        app.get("/api/v1/me", Some(&access)).await,
        "refresh token reused",
    );

    let (access, _) = login_from(&app, VOLUNTEER, "Lost phone").await;
    let head = app.token_for(HEAD).await;
    let path = format!("/api/v1/users/{}/sessions", world.volunteer);
    let listed = app.get(&path, Some(&head)).await;
    for session in listed.body["items"].as_array().unwrap() {
        let id = session["id"].as_str().unwrap();
        app.delete(&format!("{path}/{id}"), Some(&head)).await;
    }
    refused(
        app.get("/api/v1/me", Some(&access)).await,
        "revoked by the head",
    );
}
