//! The committed contract is the generated one. Regenerate with
//! `UPDATE_OPENAPI=1 cargo test --test api contract`.

use eid_adoption::openapi;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn the_committed_contract_equals_the_generated_one() {
    let generated = openapi::spec_json();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(PATH, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api contract` and commit it"
    );
}

#[test]
fn the_contract_is_openapi_3_1_with_a_summary_and_error_answers_for_every_operation() {
    let spec: serde_json::Value = serde_json::from_str(&openapi::spec_json()).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let label = format!("{method} {path}");
            assert!(operation["summary"].is_string(), "{label} has no summary");
            assert!(
                operation["operationId"].is_string(),
                "{label} has no operationId"
            );
            assert!(
                operation["responses"]["500"].is_object(),
                "{label} lacks 500"
            );
            if operation["security"].is_array() {
                assert!(
                    operation["responses"]["401"].is_object(),
                    "{label} lacks 401"
                );
            }
            if operation["requestBody"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{label} lacks {status}"
                    );
                }
            }
        }
    }
}

#[test]
fn protected_operations_declare_the_bearer_scheme_and_public_ones_do_not() {
    let spec: serde_json::Value = serde_json::from_str(&openapi::spec_json()).unwrap();
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
        "/api/v1/invitations/accept",
    ];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let secured = operation["security"].is_array();
            if path == "/metrics" {
                // Optional: a bearer token when the server sets EID_METRICS_TOKEN.
                assert_eq!(operation["security"][0], serde_json::json!({}));
                continue;
            }
            assert_eq!(secured, !public.contains(&path.as_str()), "{method} {path}");
        }
    }
}
