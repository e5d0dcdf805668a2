//! Password guessing is slowed to a crawl: failures are counted per account and per client
//! in the database; past the limit the answer is 429 with Retry-After.

use serde_json::json;

use crate::helpers::{TestApp, HEAD, OFFICIAL, PASSWORD};

#[actix_web::test]
async fn an_account_is_locked_after_repeated_failures_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    app.seed_world();
    for _ in 0..5 {
        assert_eq!(app.login(HEAD, "wrong password!!").await.status, 401);
    }
    let locked = app.login(HEAD, PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.problem_code(), "too-many-requests");
    let retry_after: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60);
    // Another account from the same client is not locked by this one.
    assert_eq!(app.login(OFFICIAL, PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn a_lock_ends_and_a_success_clears_the_account_count() {
    let app = TestApp::spawn_with(&[("EID_LOCKOUT_SECS", "1")]).await;
    app.seed_world();
    for _ in 0..5 {
        app.login(HEAD, "wrong password!!").await;
    }
    assert_eq!(app.login(HEAD, PASSWORD).await.status, 429);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.login(HEAD, PASSWORD).await.status, 200);
    for _ in 0..4 {
        app.login(HEAD, "wrong password!!").await;
    }
    assert_eq!(
        app.login(HEAD, PASSWORD).await.status,
        200,
        "four failures are under the limit"
    );
}

#[actix_web::test]
async fn one_client_guessing_across_accounts_is_locked_out_of_all_of_them() {
    let app = TestApp::spawn_with(&[("EID_FAILURES_PER_IP", "6")]).await;
    app.seed_world();
    for n in 0..6 {
        app.login(&format!("guess{n}@example.vn"), "wrong password!!")
            .await;
    }
    let locked = app.login(OFFICIAL, PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert!(locked.header("retry-after").is_some());
}

#[actix_web::test]
async fn password_reset_requests_and_bad_link_tokens_are_throttled_too() {
    let app = TestApp::spawn_with(&[("EID_FAILURES_PER_IP", "4")]).await;
    app.seed_world();
    for _ in 0..3 {
        let response = app
            .post("/api/v1/auth/password-reset", None, &json!({"email": HEAD}))
            .await;
        assert_eq!(response.status, 202);
    }
    let fourth = app
        .post("/api/v1/auth/password-reset", None, &json!({"email": HEAD}))
        .await;
    assert_eq!(
        fourth.status, 429,
        "three reset mails per account per window"
    );

    let app = TestApp::spawn_with(&[("EID_FAILURES_PER_IP", "3")]).await;
    for _ in 0..3 {
        let bad = app
            .post(
                "/api/v1/invitations/accept",
                None,
                &json!({"token": "guess", "password": "long enough pass"}),
            )
            .await;
        assert_eq!(bad.status, 400);
    }
    let locked = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": "guess", "password": "long enough pass"}),
        )
        .await;
    assert_eq!(locked.status, 429);
    let reset = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": "guess", "password": "long enough pass"}),
        )
        .await;
    assert_eq!(
        reset.status, 429,
        "the client's failures add up across endpoints"
    );
}

#[actix_web::test]
async fn the_server_keeps_answering_other_requests_during_a_login_flood() {
    let app = TestApp::spawn_with(&[
        ("EID_FAILURES_PER_IP", "100000"),
        ("EID_LOGIN_FAILURES_PER_ACCOUNT", "100000"),
        ("EID_WORKERS", "2"),
    ])
    .await;
    app.seed_world();
    let token = app.token_for(OFFICIAL).await;
    // 60 wrong-password logins in flight at once: each costs an argon2 hash, and only
    // `EID_PASSWORD_HASH_CONCURRENCY` of them hash at a time.
    let flood: Vec<_> = (0..60)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/login");
            actix_web::rt::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"email": HEAD, "password": "wrong password!!"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    // Meanwhile, other endpoints answer.
    for _ in 0..3 {
        assert_eq!(app.get("/healthz", None).await.status, 200);
        assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
        assert_eq!(app.get("/api/v1/areas", Some(&token)).await.status, 200);
    }
    let mut unfinished = 0;
    for request in &flood {
        if !request.is_finished() {
            unfinished += 1;
        }
    }
    for request in flood {
        assert_eq!(request.await.unwrap().unwrap(), 401);
    }
    // Not a timing assertion: it only says the other requests did not wait for the flood
    // to drain, which they would if hashing blocked the workers.
    assert!(
        unfinished > 0,
        "the flood was still in flight while the other requests were answered"
    );
}

async fn login_from(app: &TestApp, forwarded_for: &str, email: &str) -> u16 {
    app.send(
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({"email": email, "password": "wrong password!!"})),
    )
    .await
    .status
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address() {
    let app = TestApp::spawn_with(&[
        ("EID_FAILURES_PER_IP", "3"),
        ("EID_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    for n in 0..3 {
        assert_eq!(
            login_from(&app, "203.0.113.7", &format!("a{n}@example.vn")).await,
            401
        );
    }
    assert_eq!(login_from(&app, "203.0.113.7", "b@example.vn").await, 429);
    // The client-supplied part of the header is not believed: the proxy's last entry is.
    assert_eq!(
        login_from(&app, "203.0.113.7, 203.0.113.8", "c@example.vn").await,
        401
    );
}

#[actix_web::test]
async fn without_a_trusted_proxy_a_forwarded_address_is_ignored() {
    let app = TestApp::spawn_with(&[("EID_FAILURES_PER_IP", "3")]).await;
    for n in 0..3 {
        login_from(&app, &format!("203.0.113.{n}"), &format!("a{n}@example.vn")).await;
    }
    assert_eq!(
        login_from(&app, "203.0.113.99", "b@example.vn").await,
        429,
        "all from one peer"
    );
}

#[actix_web::test]
async fn parallel_guesses_cannot_outrun_the_account_limit() {
    let app = TestApp::spawn_with(&[("EID_FAILURES_PER_IP", "1000")]).await;
    app.seed_world();
    let guesses = (0..30).map(|_| app.login(HEAD, "wrong password!!"));
    let mut answers: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.status)
        .collect();
    answers.push(app.login(HEAD, PASSWORD).await.status);
    let heard = answers.iter().filter(|s| **s != 429).count();
    assert!(
        heard <= 5,
        "only the account's five attempts get an answer other than 429: {answers:?}"
    );
    assert_eq!(
        app.login(HEAD, "wrong password!!").await.status,
        429,
        "the account stays locked after the burst"
    );
    assert_eq!(app.login(HEAD, PASSWORD).await.status, 429);
}

#[actix_web::test]
async fn a_guess_made_while_locked_neither_resets_nor_extends_the_lock() {
    let app = TestApp::spawn_with(&[("EID_LOCKOUT_SECS", "2")]).await;
    app.seed_world();
    for _ in 0..5 {
        app.login(HEAD, "wrong password!!").await;
    }
    let first = app.login(HEAD, "wrong password!!").await;
    assert_eq!(first.status, 429);
    let again = app.login(HEAD, "wrong password!!").await;
    assert_eq!(
        again.status, 429,
        "still locked after a guess during the lock"
    );
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        app.login(HEAD, PASSWORD).await.status,
        200,
        "the lock ends when it was set to"
    );
}
