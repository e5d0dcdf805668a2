//! `mobile-spec/` is what a phone team builds from: it may only name operations the
//! contract has and problem codes the server has, and `errors.md` must list every problem
//! code the server can answer with.

use std::collections::BTreeSet;

use eid_adoption::problem::ProblemCode;
use serde_json::Value;

fn spec_files() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/mobile-spec");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("mobile-spec/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The texts of links `[text](target)` with this exact target prefix, and the rest of the target.
fn links<'a>(text: &'a str, target: &str) -> Vec<(&'a str, &'a str)> {
    let needle = format!("]({target}");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let before = &rest[..at];
        let after = &rest[at + needle.len()..];
        if let (Some(open), Some(close)) = (before.rfind('['), after.find(')')) {
            found.push((&before[open + 1..], &after[..close]));
        }
        rest = after;
    }
    found
}

fn contract() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap(),
    )
    .unwrap()
}

fn server_codes() -> BTreeSet<String> {
    ProblemCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

#[test]
fn the_mobile_spec_names_only_operations_the_contract_has() {
    let contract = contract();
    let mut operations = BTreeSet::new();
    for (path, methods) in contract["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            operations.insert(operation["operationId"].as_str().unwrap_or("").to_owned());
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let mut named = 0;
    for (file, text) in spec_files() {
        for (operation, _) in links(&text, "../openapi/openapi.json") {
            assert!(
                operations.contains(operation),
                "{file} links to unknown operation {operation}"
            );
            named += 1;
        }
        for quoted in text.split('`').skip(1).step_by(2) {
            let is_endpoint = ["GET ", "POST ", "PUT ", "PATCH ", "DELETE "]
                .iter()
                .any(|m| quoted.starts_with(m) && quoted.contains(" /api/"));
            if is_endpoint {
                let endpoint = quoted.split('?').next().unwrap();
                assert!(
                    operations.contains(endpoint),
                    "{file} names unknown endpoint {endpoint}"
                );
            }
        }
    }
    assert!(named > 10, "the spec links to the operations it uses");
}

#[test]
fn the_mobile_spec_names_only_problem_codes_the_server_has_and_errors_md_lists_them_all() {
    let codes = server_codes();
    for (file, text) in spec_files() {
        for (code, anchor) in links(&text, "errors.md#") {
            assert!(
                codes.contains(anchor),
                "{file} links to unknown problem code {anchor}"
            );
            assert_eq!(code, anchor, "{file}: link text and anchor differ");
        }
    }
    let errors = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mobile-spec/errors.md"
    ))
    .expect("mobile-spec/errors.md");
    let listed: BTreeSet<String> = errors
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    let missing: Vec<_> = codes.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&codes).collect();
    assert!(missing.is_empty(), "errors.md lacks {missing:?}");
    assert!(
        unknown.is_empty(),
        "errors.md lists codes the server does not have: {unknown:?}"
    );
}
