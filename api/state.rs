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
}

impl AppState {
    /// Connects to the database and runs pending migrations.
    pub fn build(settings: Settings) -> anyhow::Result<AppState> {
        let db = Db::connect(&settings.database_location()?, settings.database_pool_size)?;
        db.run_migrations()?;
        Ok(AppState {
            tokens: AccessTokens::new(settings.secrets.jwt_key_bytes(), &settings.auth),
            passwords: Passwords::new(settings.auth.password_hash_concurrency)?,
            db,
            settings: Arc::new(settings),
        })
    }
}
