//! Storage: one diesel `MultiConnection` over SQLite and PostgreSQL, r2d2 pools, embedded
//! migrations per backend, and the two doors every handler goes through: `Db::read` and
//! `Db::write`. Both run the blocking diesel work on actix's blocking threads; `write` wraps
//! it in a transaction on the writer pool, retries it when it failed transiently, and on
//! SQLite answers only once the commit is on disk (group commit, `durable.rs`). On SQLite
//! the writer pool has a single connection (SQLite has one writer anyway), so writes queue
//! in-process instead of fighting over the file lock.

mod durable;

pub use durable::CommitMode;
use durable::GroupSync;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseLocation;
use crate::problem::ApiError;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// An r2d2 manager that opens the backend named by the URL scheme. (The derived
/// `MultiConnection::establish` tries each backend in turn, which could turn a mistyped
/// PostgreSQL URL into a new SQLite file.)
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    location: DatabaseLocation,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.location {
            DatabaseLocation::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseLocation::SqliteFile(path) => {
                SqliteConnection::establish(&path.to_string_lossy())
                    .map(DbConnection::Sqlite)
                    .map_err(r2d2::Error::ConnectionError)
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Per-connection SQLite settings: WAL so readers never wait for the writer, foreign keys
/// enforced, a busy timeout for the rare writer outside this process (a CLI command), and
/// the `synchronous` level of the commit mode.
#[derive(Debug)]
struct SqlitePragmas {
    synchronous: &'static str,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(sqlite) = conn {
            sqlite
                .batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA cache_size = -32768;",
                    self.synchronous
                ))
                .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// How often a write that failed transiently (deadlock, serialization failure, lost
/// connection …) is run again before the client gets 503, and the first pause between.
const WRITE_ATTEMPTS: u32 = 3;
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(20);

#[derive(Clone)]
pub struct Db {
    reader: Pool,
    writer: Pool,
    backend: Backend,
    /// SQLite in group-commit mode: the shared fsync every write waits for.
    group_sync: Option<GroupSync>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Opens the pools (creating the SQLite file and its directory when needed). The
    /// commit mode only matters on SQLite; PostgreSQL commits synchronously (its own
    /// group commit) unless the server is configured otherwise.
    pub fn connect(
        location: &DatabaseLocation,
        pool_size: u32,
        commit_mode: CommitMode,
    ) -> anyhow::Result<Db> {
        let manager = ConnectionManager {
            location: location.clone(),
        };
        let builder = || {
            r2d2::Pool::builder()
                .connection_timeout(Duration::from_secs(10))
                .connection_customizer(Box::new(SqlitePragmas {
                    synchronous: commit_mode.synchronous_pragma(),
                }))
        };
        match location {
            DatabaseLocation::SqliteFile(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::private_files::create_dir(dir)?;
                }
                if crate::private_files::restrict_file(path)? {
                    tracing::warn!(path = %path.display(), "the database file was readable by others; it is now private to this user");
                }
                let writer = builder().max_size(1).build(manager.clone())?;
                let reader = builder().max_size(pool_size).build(manager)?;
                let group_sync = match commit_mode {
                    CommitMode::Group => Some(GroupSync::new(&wal_database_file(&writer)?)),
                    _ => None,
                };
                Ok(Db {
                    reader,
                    writer,
                    backend: Backend::Sqlite,
                    group_sync,
                })
            }
            DatabaseLocation::Postgres(_) => {
                let pool = builder().max_size(pool_size).build(manager)?;
                Ok(Db {
                    reader: pool.clone(),
                    writer: pool,
                    backend: Backend::Postgres,
                    group_sync: None,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for synchronous callers (CLI commands, start-up).
    pub fn writer_connection(&self) -> anyhow::Result<PooledConnection> {
        Ok(self.writer.get()?)
    }

    pub fn run_migrations(&self) -> anyhow::Result<()> {
        let mut conn = self.writer_connection()?;
        run_pending_migrations(&mut conn)
    }

    /// Runs read-only work on a blocking thread. On SQLite with group commit the answer
    /// waits until every commit made so far is on disk (at most one fsync, and no wait at
    /// all when none is pending).
    pub async fn read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.reader.clone();
        let group_sync = self.group_sync.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(ApiError::unavailable)?;
            let read = work(&mut conn)?;
            // What was read may include commits whose fsync is still running.
            if let Some(sync) = &group_sync {
                sync.wait(sync.latest());
            }
            Ok(read)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Runs work in one transaction on the writer: all of it commits or none of it does.
    /// A transient failure (deadlock, serialization failure, lost connection, I/O error)
    /// runs the whole work again, a bounded number of times, before the client gets 503;
    /// that is why `work` may be called more than once. `Ok` means committed and, on
    /// SQLite, on disk.
    pub async fn write<T, F>(&self, mut work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.writer.clone();
        let group_sync = self.group_sync.clone();
        actix_web::web::block(move || {
            let mut pause = FIRST_RETRY_PAUSE;
            let mut attempt = 1;
            loop {
                let (outcome, ticket, broken) = {
                    let mut pooled = pool.get().map_err(ApiError::unavailable)?;
                    let conn: &mut DbConnection = &mut pooled;
                    // Counter updates are collected and made once, before the commit.
                    let outcome = conn.transaction(|conn| {
                        crate::adoption::counters::batched(conn, |conn| work(conn))
                    });
                    // Taken before the writer is released: the commit is in the WAL.
                    let ticket = match (&outcome, &group_sync) {
                        (Ok(_), Some(sync)) => Some(sync.committed()),
                        _ => None,
                    };
                    (outcome, ticket, conn.is_broken())
                };
                match outcome {
                    Ok(value) => {
                        if let (Some(sync), Some(ticket)) = (&group_sync, ticket) {
                            sync.wait(ticket);
                        }
                        return Ok(value);
                    }
                    // Only on a connection that is still sound: it rolled the transaction
                    // back. On a broken one the commit may or may not have happened, so
                    // the client resends under its idempotency key (or seq) instead.
                    Err(error) if error.is_transient() && !broken && attempt < WRITE_ATTEMPTS => {
                        tracing::warn!(
                            attempt,
                            "transient database failure; running the write again"
                        );
                        std::thread::sleep(pause);
                        pause *= 4;
                        attempt += 1;
                    }
                    Err(error) => return Err(error),
                }
            }
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// The main database file as SQLite names it (symlinks resolved), after checking that the
/// connection really is in WAL mode: group commit syncs that file's WAL and nothing else.
fn wal_database_file(writer: &Pool) -> anyhow::Result<std::path::PathBuf> {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(diesel::QueryableByName)]
    struct File {
        #[diesel(sql_type = Text)]
        file: String,
    }
    let mut conn = writer.get()?;
    let DbConnection::Sqlite(sqlite) = &mut *conn else {
        anyhow::bail!("group commit is for SQLite");
    };
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(sqlite)?;
    if !mode.journal_mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!(
            "the SQLite database is in journal mode '{}', not WAL; group commit needs WAL",
            mode.journal_mode
        );
    }
    let file: File = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .get_result(sqlite)?;
    Ok(std::path::PathBuf::from(file.file))
}

pub fn run_pending_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("running migrations failed: {e}"))
}

/// Reverts every migration (used by the migration tests: up, down, up again).
pub fn revert_all_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))
}

/// The current time as stored: UTC, microsecond precision on both backends (from the
/// process's clock, `crate::clock`).
pub fn now() -> chrono::NaiveDateTime {
    crate::clock::now_utc()
}

/// A new UUIDv7 as the text both backends store.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Reverts the latest migrations down to and including the one named (its directory name,
/// e.g. `2026-12-07-000011_audit_without_values`): tests of a migration that rewrites rows
/// go down, seed old rows, and up again.
pub fn revert_migrations_through(conn: &mut DbConnection, name: &str) -> anyhow::Result<()> {
    // diesel's version of a migration is its name's leading digits.
    let wanted: String = name
        .split('_')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    loop {
        let reverted = match conn {
            DbConnection::Sqlite(c) => c
                .revert_last_migration(SQLITE_MIGRATIONS)
                .map(|v| v.to_string()),
            DbConnection::Postgresql(c) => c
                .revert_last_migration(POSTGRES_MIGRATIONS)
                .map(|v| v.to_string()),
        }
        .map_err(|e| anyhow::anyhow!("reverting down to {name} failed: {e}"))?;
        let reverted: String = reverted.chars().filter(char::is_ascii_digit).collect();
        if reverted == wanted {
            return Ok(());
        }
        anyhow::ensure!(reverted > wanted, "no migration {name} was applied");
    }
}
