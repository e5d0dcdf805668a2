//! Both migration folders hold the same migrations, and they run up, down and up again on
//! the test's backend.

use std::collections::BTreeSet;
use std::path::Path;

use eid_adoption::db::{revert_all_migrations, run_pending_migrations, Db};

use crate::helpers::TestApp;

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                entry.path().join("up.sql").exists(),
                "{backend}/{name} lacks up.sql"
            );
            assert!(
                entry.path().join("down.sql").exists(),
                "{backend}/{name} lacks down.sql"
            );
            name
        })
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, migration_names("postgres"));
}

fn table_count(db: &Db) -> i64 {
    use diesel::prelude::*;
    use eid_adoption::db::DbConnection;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.writer_connection().unwrap();
    let sql = match &mut *conn {
        DbConnection::Sqlite(_) => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('areas', 'users', 'refresh_tokens')"
        }
        DbConnection::Postgresql(_) => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('areas', 'users', 'refresh_tokens')"
        }
    };
    diesel::sql_query(sql)
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n
}

#[actix_web::test]
async fn migrations_run_up_down_and_up_again() {
    let app = TestApp::spawn().await;
    assert_eq!(table_count(&app.db), 3);
    {
        let mut conn = app.db.writer_connection().unwrap();
        revert_all_migrations(&mut conn).unwrap();
    }
    assert_eq!(table_count(&app.db), 0);
    {
        let mut conn = app.db.writer_connection().unwrap();
        run_pending_migrations(&mut conn).unwrap();
    }
    assert_eq!(table_count(&app.db), 3);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
}

#[actix_web::test]
async fn audit_rows_written_before_the_no_values_rule_keep_only_the_names_of_their_fields() {
    use diesel::prelude::*;
    use eid_adoption::db::{revert_migrations_through, run_pending_migrations};
    use eid_adoption::schema::audit_log;
    let app = TestApp::spawn().await;
    let mut conn = app.db.writer_connection().unwrap();
    revert_migrations_through(&mut conn, "2026-12-07-000011_audit_without_values").unwrap();
    let old = [
        (
            "a",
            "household.updated",
            r#"{"phone":{"from":"0912","to":"0913"},"head_name":{"from":"Bí Mật","to":"X"}}"#,
        ),
        (
            "b",
            "household.created",
            r#"{"code":"HK-1","address":"Số 7 Nhà Riêng"}"#,
        ),
        (
            "c",
            "invitation.created",
            r#"{"user_id":"u","email":"rieng@example.vn","role":"volunteer"}"#,
        ),
        ("d", "login", r#"{"session_id":"s"}"#),
    ];
    for (id, action, changes) in old {
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::id.eq(id),
                audit_log::occurred_at.eq(eid_adoption::db::now()),
                audit_log::action.eq(action),
                audit_log::entity.eq("x"),
                audit_log::changes.eq(changes),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    run_pending_migrations(&mut conn).unwrap();
    let rows: Vec<(String, String)> = audit_log::table
        .filter(audit_log::id.eq_any(["a", "b", "c", "d"]))
        .order(audit_log::id.asc())
        .select((audit_log::id, audit_log::changes))
        .load(&mut conn)
        .unwrap();
    let changes: Vec<serde_json::Value> = rows
        .iter()
        .map(|(_, c)| serde_json::from_str(c).unwrap())
        .collect();
    assert_eq!(
        changes[0],
        serde_json::json!({"changed": ["head_name", "phone"]})
    );
    assert_eq!(changes[1]["changed"][1], "address");
    assert_eq!(
        changes[2],
        serde_json::json!({"user_id": "u", "role": "volunteer"})
    );
    assert_eq!(changes[3], serde_json::json!({"session_id": "s"}));
    for (_, text) in &rows {
        for secret in ["0912", "Bí Mật", "Nhà Riêng", "rieng@example.vn"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    // Append-only again.
    let update = diesel::update(audit_log::table.find("d"))
        .set(audit_log::changes.eq("{}"))
        .execute(&mut conn);
    assert!(update.is_err(), "the audit log is append-only again");
}
