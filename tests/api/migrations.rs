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
