//! What every request handler can reach: the database, the settings and the token and
//! password services. Built once at start-up and shared as `web::Data<AppState>`.

use std::sync::Arc;

use crate::auth::password::Passwords;
use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub tokens: AccessTokens,
    pub passwords: Passwords,
    /// This server node, "host bind-address": what holds its requests' idempotency leases.
    pub node: String,
}

impl AppState {
    /// Connects to the database and runs pending migrations.
    pub fn build(settings: Settings) -> anyhow::Result<AppState> {
        crate::clock::install(settings.clock).map_err(anyhow::Error::msg)?;
        let db = Db::connect(
            &settings.database_location()?,
            settings.database_pool_size,
            settings.sqlite_commit,
        )?;
        db.run_migrations()?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "localhost".to_owned());
        Ok(AppState {
            node: format!("{host} {}", settings.bind_addr),
            tokens: AccessTokens::new(settings.secrets.jwt_key_bytes(), &settings.auth),
            passwords: Passwords::new(settings.auth.password_hash_concurrency)?,
            db,
            settings: Arc::new(settings),
        })
    }
}
