//! Residents: details, citizen IDs kept only as keyed hashes, bad input refused with
//! pointers and nothing written, erasure that leaves no personal trace.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;

use crate::helpers::{TestApp, HEAD, OFFICIAL, VOLUNTEER, WARD_ADMIN};
use crate::households::{add_household, add_resident, urlencode};

fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.with_db(|conn| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(conn)
            .unwrap()
            .n
    })
}

#[actix_web::test]
async fn a_resident_is_recorded_with_a_partial_birth_date_and_a_hidden_citizen_id() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(&app, &head, &world.n1, "Số 1", "Nguyễn Văn Ánh").await;
    let created = app
        .post(
            &format!("/api/v1/households/{household}/residents"),
            Some(&head),
            &json!({"full_name": "Nguyễn Văn Ánh", "birth_date": "1968-04", "sex": "male",
                    "relation_to_head": "head", "consent": true, "citizen_id": "038068001234"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["birth_date"], "1968-04");
    assert_eq!(created.body["birth_date_estimated"], true);
    assert_eq!(created.body["adult_on"], "1986-04-15");
    assert_eq!(created.body["citizen_id_last4"], "1234");
    assert_eq!(created.body["eid_level"], "none");
    let stored: Vec<Option<String>> = app.with_db(|conn| {
        eid_adoption::schema::residents::table
            .select(eid_adoption::schema::residents::citizen_id_hash)
            .load(conn)
            .unwrap()
    });
    let hash = stored[0].clone().unwrap();
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains("038068001234"));

    let found = app
        .get(
            &format!("/api/v1/residents?q={}", urlencode("nguyen van anh")),
            Some(&head),
        )
        .await;
    assert_eq!(
        found.ids().len(),
        1,
        "diacritic-insensitive search on names"
    );
    let upper = app.get("/api/v1/residents?q=ANH", Some(&head)).await;
    assert_eq!(upper.ids().len(), 1);
    let official = app.token_for(OFFICIAL).await;
    assert_eq!(
        app.get("/api/v1/residents", Some(&official)).await.status,
        403,
        "officials never receive names"
    );
}

#[actix_web::test]
async fn bad_resident_input_is_refused_with_pointers_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(&app, &head, &world.n1, "Số 1", "Chủ hộ").await;
    let path = format!("/api/v1/households/{household}/residents");
    let valid = json!({"full_name": "Lê Thị Hoa", "birth_date": "1990-01-02", "sex": "female", "relation_to_head": "spouse"});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with("birth_date", json!("2999-01-01")),
            "/birth_date",
            "date-in-future",
        ),
        (
            with("birth_date", json!("1990-02-30")),
            "/birth_date",
            "invalid-date",
        ),
        (with("sex", json!("robot")), "/sex", "invalid-value"),
        (
            with("relation_to_head", json!("cousin")),
            "/relation_to_head",
            "invalid-value",
        ),
        (
            with("citizen_id", json!("03806800123")),
            "/citizen_id",
            "invalid-citizen-id",
        ),
        (
            with("citizen_id", json!("03806800123x")),
            "/citizen_id",
            "invalid-citizen-id",
        ),
        (
            with("full_name", json!("x".repeat(201))),
            "/full_name",
            "length",
        ),
        (
            with("presence", json!("moved_away")),
            "/presence_since",
            "required",
        ),
    ];
    let before = count(&app, "residents");
    for (body, pointer, code) in cases {
        let response = app.post(&path, Some(&head), &body).await;
        assert_eq!(response.status, 422, "{pointer}: {}", response.text);
        assert_eq!(response.body["errors"][0]["pointer"], pointer);
        assert_eq!(response.body["errors"][0]["code"], code, "{pointer}");
    }
    assert_eq!(count(&app, "residents"), before, "nothing written");
    let elsewhere = add_household(
        &app,
        &app.token_for(WARD_ADMIN).await,
        &world.n2,
        "Số 2",
        "Khác",
    )
    .await;
    let wrong_area = app
        .post(
            &format!("/api/v1/households/{elsewhere}/residents"),
            Some(&head),
            &valid,
        )
        .await;
    assert_eq!(
        wrong_area.status, 404,
        "a household outside the scope does not exist"
    );
}

#[actix_web::test]
async fn erasure_leaves_no_personal_trace_but_keeps_the_statuses() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(&app, &head, &world.n1, "Số 4, ngõ Hòe", "Phùng Thị Xuân").await;
    let resident = add_resident(
        &app,
        &head,
        &household,
        json!({"full_name": "Phùng Thị Xuân", "birth_date": "1971-03-09", "sex": "female",
               "relation_to_head": "head", "consent": true, "citizen_id": "038171009876"}),
    )
    .await;
    let hash: String = app.with_db(|conn| {
        eid_adoption::schema::residents::table
            .select(eid_adoption::schema::residents::citizen_id_hash)
            .first::<Option<String>>(conn)
            .unwrap()
            .unwrap()
    });
    let visit = app
        .post(
            "/api/v1/visits",
            Some(&head),
            &json!({"household_id": household, "visited_at": "2025-06-01T09:00:00Z", "outcome": "helped",
                    "events": [{"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": "2025-06-01"}]}),
        )
        .await;
    assert_eq!(visit.status, 201, "{}", visit.text);
    app.get(
        &format!("/api/v1/residents?q={}", urlencode("phung")),
        Some(&head),
    )
    .await;

    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(
        app.post(
            &format!("/api/v1/residents/{resident}/erase"),
            Some(&volunteer),
            &json!({})
        )
        .await
        .status,
        403
    );
    let erased = app
        .post(
            &format!("/api/v1/residents/{resident}/erase"),
            Some(&head),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert!(erased.body["full_name"].is_null());
    assert_eq!(erased.body["birth_date"], "1971");
    assert_eq!(
        erased.body["eid_level"], "level2",
        "the status the figures need remains"
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/residents/{resident}/erase"),
            Some(&head),
            &json!({})
        )
        .await
        .status,
        409
    );

    let everything = dump_every_table(&app);
    let (month, day): (Option<i32>, Option<i32>) = app.with_db(|conn| {
        eid_adoption::schema::residents::table
            .select((
                eid_adoption::schema::residents::birth_month,
                eid_adoption::schema::residents::birth_day,
            ))
            .first(conn)
            .unwrap()
    });
    assert_eq!((month, day), (None, None), "no birth day or month");
    for trace in [
        "Phùng",
        "Xuân",
        "phung",
        "xuan",
        "1971-03-09",
        "038171009876",
        hash.as_str(),
    ] {
        assert!(
            !everything.contains(trace),
            "{trace} is still in the database"
        );
    }
}

/// Every text column of every table, as one string.
fn dump_every_table(app: &TestApp) -> String {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        row: String,
    }
    app.with_db(|conn| {
        let postgres = matches!(conn, eid_adoption::db::DbConnection::Postgresql(_));
        let tables_sql = if postgres {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        };
        let tables: Vec<Name> = diesel::sql_query(tables_sql).load(conn).unwrap();
        let mut dump = String::new();
        for table in tables {
            let sql = if postgres {
                format!("SELECT CAST(t AS TEXT) AS row FROM \"{}\" t", table.name)
            } else {
                let columns: Vec<Name> = diesel::sql_query(format!("SELECT name FROM pragma_table_info('{}')", table.name))
                    .load(conn)
                    .unwrap();
                let joined = columns
                    .iter()
                    .map(|c| format!("COALESCE(CAST(\"{}\" AS TEXT), '')", c.name))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                format!("SELECT {joined} AS row FROM \"{}\"", table.name)
            };
            for row in diesel::sql_query(sql).load::<Row>(conn).unwrap() {
                dump.push_str(&row.row);
                dump.push('\n');
            }
        }
        dump
    })
}

#[actix_web::test]
async fn a_resident_recorded_by_mistake_is_deleted_by_the_head_only() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(&app, &head, &world.n1, "Số 1", "Chủ hộ").await;
    let resident = add_resident(
        &app,
        &head,
        &household,
        json!({"full_name": "Nhầm", "birth_date": "2000", "sex": "unspecified", "relation_to_head": "other"}),
    )
    .await;
    let path = format!("/api/v1/residents/{resident}");
    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(app.delete(&path, Some(&volunteer)).await.status, 403);
    assert_eq!(app.delete(&path, Some(&head)).await.status, 204);
    assert_eq!(
        app.get(&path, Some(&head)).await.problem_code(),
        "resident-not-found"
    );
    assert_eq!(count(&app, "residents"), 1, "kept as a tombstone");
}

#[actix_web::test]
async fn every_resident_endpoint_answers_each_role_inside_and_outside_its_scope() {
    use crate::helpers::{NATIONAL_ADMIN, OTHER_OFFICIAL};
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let person = json!({"full_name": "Người Thử", "birth_date": "1985", "sex": "male", "relation_to_head": "head"});
    let inside_home = add_household(&app, &admin, &world.n1, "Trong", "A").await;
    let outside_home = add_household(&app, &admin, &world.n3, "Ngoài", "B").await;
    let inside = add_resident(&app, &admin, &inside_home, person.clone()).await;
    let outside = add_resident(&app, &admin, &outside_home, person.clone()).await;
    // (caller, read inside, read outside, may erase or delete inside)
    let cases = [
        (NATIONAL_ADMIN, 200, 200, true),
        (WARD_ADMIN, 200, 404, true),
        (HEAD, 200, 404, true),
        (VOLUNTEER, 200, 404, false),
        (OFFICIAL, 403, 403, false),
        (OTHER_OFFICIAL, 403, 403, false),
    ];
    for (email, read_inside, read_outside, manages) in cases {
        let token = app.token_for(email).await;
        for (target, home, expected) in [
            (&inside, &inside_home, read_inside),
            (&outside, &outside_home, read_outside),
        ] {
            let who = format!("{email} on {target}");
            assert_eq!(
                app.get(&format!("/api/v1/residents/{target}"), Some(&token))
                    .await
                    .status,
                expected,
                "GET {who}"
            );
            assert_eq!(
                app.get(
                    &format!("/api/v1/residents/{target}/status-events"),
                    Some(&token)
                )
                .await
                .status,
                expected,
                "history {who}"
            );
            let patch = app
                .patch(
                    &format!("/api/v1/residents/{target}"),
                    Some(&token),
                    Some("\"999\""),
                    &json!({"consent": true}),
                )
                .await;
            assert_eq!(
                patch.status,
                if expected == 200 { 412 } else { expected },
                "PATCH {who}"
            );
            let create = app
                .post(
                    &format!("/api/v1/households/{home}/residents"),
                    Some(&token),
                    &person,
                )
                .await;
            assert_eq!(
                create.status,
                if expected == 200 { 201 } else { expected },
                "create {who}"
            );
            if expected != 200 {
                assert_eq!(
                    app.post(
                        &format!("/api/v1/residents/{target}/erase"),
                        Some(&token),
                        &json!({})
                    )
                    .await
                    .status,
                    expected,
                    "erase {who}"
                );
                assert_eq!(
                    app.delete(&format!("/api/v1/residents/{target}"), Some(&token))
                        .await
                        .status,
                    expected,
                    "delete {who}"
                );
            }
        }
        if !manages && read_inside == 200 {
            assert_eq!(
                app.post(
                    &format!("/api/v1/residents/{inside}/erase"),
                    Some(&token),
                    &json!({})
                )
                .await
                .status,
                403,
                "erase {email}"
            );
            assert_eq!(
                app.delete(&format!("/api/v1/residents/{inside}"), Some(&token))
                    .await
                    .status,
                403,
                "delete {email}"
            );
        }
        let list = app.get("/api/v1/residents", Some(&token)).await;
        assert_eq!(
            list.status,
            if read_inside == 403 { 403 } else { 200 },
            "list {email}"
        );
    }
}
