//! Sign-in, the access token's checks, refresh rotation with reuse detection, sign-out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{TestApp, HEAD, JWT_SECRET, OFFICIAL, PASSWORD, VOLUNTEER};

#[actix_web::test]
async fn login_returns_a_bearer_token_pair_that_opens_me() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let login = app.login(HEAD, PASSWORD).await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert!(login.body["refresh_token"].as_str().unwrap().len() >= 40);
    let me = app
        .get("/api/v1/me", login.body["access_token"].as_str())
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], HEAD);
    assert_eq!(me.body["role"], "head");
    assert_eq!(me.body["area"]["code"], "P-T-W-1");
}

#[actix_web::test]
async fn login_is_case_insensitive_on_the_email() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let login = app.login(&HEAD.to_uppercase(), PASSWORD).await;
    assert_eq!(login.status, 200);
}

#[actix_web::test]
async fn an_unknown_email_and_a_wrong_password_give_the_same_401() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let unknown = app.login("nobody@test.local", PASSWORD).await;
    let wrong = app.login(HEAD, "not the password at all").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.problem_code(), "invalid-credentials");
    assert_eq!(wrong.problem_code(), "invalid-credentials");
    assert_eq!(unknown.body["title"], wrong.body["title"]);
    assert_eq!(unknown.body["detail"], wrong.body["detail"]);
}

fn claims(app: &TestApp, overrides: Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "iss": app.settings.auth.issuer,
        "aud": app.settings.auth.audience,
        "sub": "placeholder",
        "exp": now + 600,
        "iat": now,
        "role": "head",
        "sid": "s",
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn sign(claims: &Value, algorithm: Algorithm, key: &str) -> String {
    if algorithm == Algorithm::HS512 {
        // The server's crypto provider signs HS256 only; an HS512 token is made by hand.
        use base64::Engine;
        use hmac::Mac;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signed = format!(
            "{}.{}",
            b64.encode(br#"{"typ":"JWT","alg":"HS512"}"#),
            b64.encode(claims.to_string())
        );
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(signed.as_bytes());
        return format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()));
    }
    encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

/// The sign-in (`sid`) of a fresh login: a token is only good for a sign-in that holds.
async fn session_of(app: &TestApp, email: &str) -> String {
    use base64::Engine;
    let login = app.login(email, PASSWORD).await;
    let token = login.body["access_token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

async fn me_code(app: &TestApp, token: &str) -> String {
    let response = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(response.status, 401, "{}", response.text);
    assert!(response
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer")));
    response.problem_code().to_owned()
}

#[actix_web::test]
async fn a_correctly_signed_token_works_and_each_kind_of_bad_token_gives_401() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let sub = json!({"sub": world.head, "sid": session_of(&app, HEAD).await});
    let good = sign(&claims(&app, sub.clone()), Algorithm::HS256, JWT_SECRET);
    assert_eq!(app.get("/api/v1/me", Some(&good)).await.status, 200);

    let now = jsonwebtoken::get_current_timestamp();
    let expired = sign(
        &claims(
            &app,
            json!({"sub": world.head, "exp": now - 3600, "iat": now - 4000}),
        ),
        Algorithm::HS256,
        JWT_SECRET,
    );
    assert_eq!(me_code(&app, &expired).await, "token-expired");
    // A token lives exactly the seconds it was issued for: no grace period after `exp`.
    let just_expired = sign(
        &claims(
            &app,
            json!({"sub": world.head, "sid": sub["sid"], "exp": now - 2, "iat": now - 902}),
        ),
        Algorithm::HS256,
        JWT_SECRET,
    );
    assert_eq!(me_code(&app, &just_expired).await, "token-expired");

    let wrong_audience = sign(
        &claims(&app, json!({"sub": world.head, "aud": "someone-else"})),
        Algorithm::HS256,
        JWT_SECRET,
    );
    assert_eq!(me_code(&app, &wrong_audience).await, "invalid-token");

    let wrong_issuer = sign(
        &claims(&app, json!({"sub": world.head, "iss": "evil"})),
        Algorithm::HS256,
        JWT_SECRET,
    );
    assert_eq!(me_code(&app, &wrong_issuer).await, "invalid-token");

    let no_exp = sign(
        &claims(&app, json!({"sub": world.head, "exp": null})),
        Algorithm::HS256,
        JWT_SECRET,
    );
    assert_eq!(me_code(&app, &no_exp).await, "invalid-token");

    let wrong_algorithm = sign(&claims(&app, sub.clone()), Algorithm::HS512, JWT_SECRET);
    assert_eq!(me_code(&app, &wrong_algorithm).await, "invalid-token");

    let wrong_key = sign(
        &claims(&app, sub.clone()),
        Algorithm::HS256,
        "another-key-0123456789abcdef-0123456789",
    );
    assert_eq!(me_code(&app, &wrong_key).await, "invalid-token");

    // The payload changed after signing (role raised to admin).
    let parts: Vec<&str> = good.split('.').collect();
    let tampered_payload = URL_SAFE_NO_PAD
        .encode(claims(&app, json!({"sub": world.head, "role": "admin"})).to_string());
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    assert_eq!(me_code(&app, &tampered).await, "invalid-token");

    // `alg: none` with no signature.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&app, sub.clone()).to_string());
    assert_eq!(
        me_code(&app, &format!("{none_header}.{payload}.")).await,
        "invalid-token"
    );

    assert_eq!(me_code(&app, "not-a-jwt").await, "invalid-token");
    let missing = app.get("/api/v1/me", None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.problem_code(), "unauthenticated");
    let basic = app
        .send(
            app.client
                .get(app.url("/api/v1/me"))
                .header("Authorization", "Basic dXNlcjpwYXNz"),
        )
        .await;
    assert_eq!(basic.problem_code(), "invalid-token");
}

#[actix_web::test]
async fn a_token_of_a_disabled_or_deleted_user_is_refused() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let token = sign(
        &claims(&app, json!({"sub": "01000000-0000-7000-8000-000000000000"})),
        Algorithm::HS256,
        JWT_SECRET,
    );
    assert_eq!(me_code(&app, &token).await, "invalid-token");

    let volunteer = app.token_for(VOLUNTEER).await;
    let admin = app.token_for(crate::helpers::NATIONAL_ADMIN).await;
    let path = format!("/api/v1/users/{}", world.volunteer);
    let disabled = app
        .patch(
            &path,
            Some(&admin),
            Some("\"1\""),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_eq!(me_code(&app, &volunteer).await, "invalid-token");
    assert_eq!(
        app.login(VOLUNTEER, PASSWORD).await.problem_code(),
        "invalid-credentials"
    );
}

async fn refresh(app: &TestApp, token: &str) -> crate::helpers::TestResponse {
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

#[actix_web::test]
async fn refresh_rotates_the_pair_and_spends_the_old_refresh_token() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let login = app.login(OFFICIAL, PASSWORD).await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();
    let rotated = refresh(&app, &first).await;
    assert_eq!(rotated.status, 200);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let me = app
        .get("/api/v1/me", rotated.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["email"], OFFICIAL);
    // The successor keeps working.
    assert_eq!(refresh(&app, &second).await.status, 200);
}

#[actix_web::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let login = app.login(OFFICIAL, PASSWORD).await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();
    let second = refresh(&app, &first).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let reuse = refresh(&app, &first).await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.problem_code(), "refresh-token-reused");
    // The legitimate successor died with its family.
    let successor = refresh(&app, &second).await;
    assert_eq!(successor.problem_code(), "invalid-refresh-token");

    // Another sign-in of the same user is a different family and lives on.
    let other = app.login(OFFICIAL, PASSWORD).await;
    assert_eq!(
        refresh(&app, other.body["refresh_token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let response = refresh(&app, "made-up-token").await;
    assert_eq!(response.status, 401);
    assert_eq!(response.problem_code(), "invalid-refresh-token");
}

#[actix_web::test]
async fn logout_revokes_the_refresh_family() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let login = app.login(HEAD, PASSWORD).await;
    let token = login.body["refresh_token"].as_str().unwrap().to_owned();
    let successor = refresh(&app, &token).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let logout = app
        .post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": successor}),
        )
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(
        refresh(&app, &successor).await.problem_code(),
        "invalid-refresh-token"
    );
    // Logging out twice is harmless.
    let again = app
        .post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": successor}),
        )
        .await;
    assert_eq!(again.status, 204);
}

#[actix_web::test]
async fn login_validates_its_body() {
    let app = TestApp::spawn().await;
    let response = app
        .post("/api/v1/auth/login", None, &json!({"email": "a@b.c"}))
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.problem_code(), "validation-failed");
    assert_eq!(response.body["errors"][0]["pointer"], "/password");
    assert_eq!(response.body["errors"][0]["code"], "required");
}
