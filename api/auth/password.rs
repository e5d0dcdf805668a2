//! Password hashing with argon2id at the OWASP-recommended parameters (19 MiB, 2 passes,
//! 1 lane). Hashing is deliberately expensive, so it runs on the blocking thread pool and
//! behind a semaphore: a flood of logins waits its turn instead of starving the workers
//! that answer every other request.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::problem::ApiError;

/// OWASP Password Storage Cheat Sheet: m = 19456 KiB, t = 2, p = 1.
fn argon2id() -> Argon2<'static> {
    #[allow(clippy::expect_used)]
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password synchronously (CLI commands and demo seeding).
pub fn hash_password_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Verifies synchronously; an unparseable stored hash never matches.
pub fn verify_password_blocking(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            argon2id()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the e-mail is unknown, so both failures cost the same time.
    decoy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> anyhow::Result<Passwords> {
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            decoy_hash: hash_password_blocking("decoy password never used")?.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        actix_web::web::block(move || hash_password_blocking(&password))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    /// Checks a password against the stored hash, or against a decoy when there is none.
    pub async fn verify(
        &self,
        password: String,
        stored_hash: Option<String>,
    ) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let (known, hash) = hash_to_check(stored_hash, &self.decoy_hash);
        let matches = actix_web::web::block(move || verify_password_blocking(&password, &hash))
            .await
            .map_err(ApiError::internal)?;
        Ok(known && matches)
    }
}

/// Whether there is a real hash to check, and the hash to spend the time on: an unknown
/// account, and an invited one (whose hash is empty), are checked against the decoy, so
/// their answer takes as long as a wrong password's.
fn hash_to_check(stored_hash: Option<String>, decoy: &str) -> (bool, String) {
    match stored_hash.filter(|hash| !hash.is_empty()) {
        Some(hash) => (true, hash),
        None => (false, decoy.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invited_account_without_a_password_costs_a_full_hash_like_any_other() {
        assert_eq!(
            hash_to_check(Some(String::new()), "$decoy"),
            (false, "$decoy".into())
        );
        assert_eq!(hash_to_check(None, "$decoy"), (false, "$decoy".into()));
        assert_eq!(
            hash_to_check(Some("$real".into()), "$decoy"),
            (true, "$real".into())
        );
    }

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let hash = hash_password_blocking("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password_blocking("correct horse battery", &hash));
        assert!(!verify_password_blocking("wrong horse battery", &hash));
        assert!(!verify_password_blocking("anything", "not a hash"));
    }
}
