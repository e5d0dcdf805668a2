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

fn committed() -> serde_json::Value {
    serde_json::from_str(&openapi::spec_json()).unwrap()
}

#[test]
fn every_reference_resolves_and_no_operation_declares_a_parameter_twice() {
    let spec = committed();
    let mut stack = vec![&spec];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(reference)) = map.get("$ref") {
                    let pointer = reference.trim_start_matches('#');
                    assert!(
                        spec.pointer(pointer).is_some(),
                        "{reference} points nowhere"
                    );
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (member, value) in operation.as_object().unwrap() {
                assert!(!value.is_null(), "{method} {path}: `{member}` is null");
            }
            let mut seen = std::collections::HashSet::new();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let key = (parameter["name"].to_string(), parameter["in"].to_string());
                assert!(
                    seen.insert(key),
                    "{method} {path} declares {} twice",
                    parameter["name"]
                );
            }
        }
    }
}

#[test]
fn every_json_request_body_has_an_example_that_its_own_schema_accepts() {
    let spec = committed();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(content) = operation["requestBody"]["content"].get("application/json") else {
                continue;
            };
            let label = format!("{method} {path}");
            let example = content
                .get("example")
                .unwrap_or_else(|| panic!("{label} has no example"));
            let schema = serde_json::json!({
                "$ref": content["schema"]["$ref"],
                "components": spec["components"],
            });
            let validator = jsonschema::validator_for(&schema).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(example)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{label}: its example is invalid: {errors:?}"
            );
        }
    }
}

#[test]
fn creates_link_to_the_reads_and_edits_of_what_they_made() {
    let spec = committed();
    let links = &spec["paths"]["/api/v1/households"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["GetHousehold"]["operationId"], "get_household");
    assert_eq!(
        links["UpdateHousehold"]["parameters"]["If-Match"],
        "$response.header.ETag"
    );
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    let target = link["operationId"].as_str().unwrap();
                    let exists = spec["paths"].as_object().unwrap().values().any(|item| {
                        item.as_object()
                            .unwrap()
                            .values()
                            .any(|op| op["operationId"] == target)
                    });
                    assert!(
                        exists,
                        "{method} {path} {status} link {name} targets nothing"
                    );
                }
            }
        }
    }
}
