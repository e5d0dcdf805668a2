//! Password reset by e-mail: no account enumeration, a single-use link, every device signed
//! out afterwards.

use diesel::prelude::*;
use eid_adoption::auth::tokens::digest;
use eid_adoption::schema::password_resets;
use serde_json::json;

use crate::helpers::{TestApp, HEAD, PASSWORD};
use crate::smtp::SmtpServer;

const NEW_PASSWORD: &str = "mật khẩu mới thật dài";

async fn request(app: &TestApp, email: &str) -> crate::helpers::TestResponse {
    app.post(
        "/api/v1/auth/password-reset",
        None,
        &json!({"email": email}),
    )
    .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> crate::helpers::TestResponse {
    app.post(
        "/api/v1/auth/password-reset/confirm",
        None,
        &json!({"token": token, "password": password}),
    )
    .await
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_from_the_emailed_link_and_every_device_is_signed_out() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(&[("SMTP_URL", &smtp.url())]).await;
    app.seed_world();
    let phone = app.login(HEAD, PASSWORD).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let laptop = app.login(HEAD, PASSWORD).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let accepted = request(&app, HEAD).await;
    assert_eq!(accepted.status, 202);
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, [HEAD]);
    assert!(mail
        .text()
        .contains("https://eid.test/reset-password?token="));
    let token = mail.token();
    let stored: String = app.with_db(|conn| {
        password_resets::table
            .select(password_resets::token_hash)
            .first(conn)
            .unwrap()
    });
    assert_eq!(stored, digest(&token), "only a digest is stored");

    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status, 204);
    for refresh_token in [phone, laptop] {
        let refreshed = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": refresh_token}),
            )
            .await;
        assert_eq!(refreshed.problem_code(), "invalid-refresh-token");
    }
    assert_eq!(app.login(HEAD, PASSWORD).await.status, 401);
    assert_eq!(app.login(HEAD, NEW_PASSWORD).await.status, 200);

    let reused = confirm(&app, &token, "yet another long password").await;
    assert_eq!(reused.status, 409);
    assert_eq!(reused.problem_code(), "reset-token-used");
}

#[actix_web::test]
async fn the_request_answers_the_same_whether_or_not_the_address_has_an_account() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(&[("SMTP_URL", &smtp.url())]).await;
    app.seed_world();
    let known = request(&app, HEAD).await;
    let unknown = request(&app, "nobody@example.vn").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    smtp.wait_for(1).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        smtp.received().len(),
        1,
        "only the real account gets a mail"
    );
}

#[actix_web::test]
async fn a_bad_expired_or_weak_reset_is_refused_clearly() {
    let smtp = SmtpServer::start();
    let app =
        TestApp::spawn_with(&[("SMTP_URL", &smtp.url()), ("EID_RESET_TTL_MINUTES", "0")]).await;
    app.seed_world();
    let unknown = confirm(&app, "no-such-token", NEW_PASSWORD).await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.problem_code(), "invalid-reset-token");
    request(&app, HEAD).await;
    let token = smtp.wait_for(1).await[0].token();
    let expired = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(expired.status, 410);
    assert_eq!(expired.problem_code(), "reset-token-expired");
}

#[actix_web::test]
async fn the_new_password_must_follow_the_policy() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(&[("SMTP_URL", &smtp.url())]).await;
    app.seed_world();
    request(&app, HEAD).await;
    let token = smtp.wait_for(1).await[0].token();
    let same_as_email = confirm(&app, &token, HEAD).await;
    assert_eq!(same_as_email.body["errors"][0]["code"], "password-is-email");
    let common = confirm(&app, &token, "Password123").await;
    assert_eq!(common.body["errors"][0]["code"], "password-too-common");
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status, 204);
}
