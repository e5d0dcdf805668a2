//! Access tokens are short-lived HS256 JWTs; the algorithm is pinned and `exp`, `iss`, `aud`
//! and `sub` are required on verification. Refresh tokens are opaque random strings, of
//! which only a SHA-256 digest is stored.

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Role;
use crate::config::AuthSettings;
use crate::problem::{ApiError, ProblemCode};

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub role: Role,
    /// The sign-in (refresh family) this token was issued for.
    pub sid: String,
}

#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl AccessTokens {
    pub fn new(key: &[u8], settings: &AuthSettings) -> AccessTokens {
        super::jwt_crypto::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // A token lives exactly `expires_in` seconds, as the client is told.
        validation.leeway = 0;
        AccessTokens {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: settings.access_token_ttl.as_secs(),
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn issue(&self, user_id: &str, role: Role, session_id: &str) -> Result<String, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_owned(),
            exp: now + self.ttl_secs,
            iat: now,
            role,
            sid: session_id.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::unauthorized(ProblemCode::TokenExpired),
                _ => ApiError::unauthorized(ProblemCode::InvalidToken),
            })
    }
}

/// A new opaque single-use token (256 random bits, URL-safe): refresh tokens and the
/// tokens in invitation and password-reset links.
pub fn new_opaque_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a refresh token.
pub fn digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings() -> AuthSettings {
        AuthSettings {
            issuer: "iss".into(),
            audience: "aud".into(),
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(3600),
            password_hash_concurrency: 1,
        }
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", &settings());
        let token = tokens.issue("user-1", Role::Head, "session-1").unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.role, Role::Head);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let ours = AccessTokens::new(b"0123456789abcdef0123456789abcdef", &settings());
        let theirs = AccessTokens::new(b"fedcba9876543210fedcba9876543210", &settings());
        let token = theirs.issue("user-1", Role::Admin, "s").unwrap();
        assert_eq!(
            ours.verify(&token).unwrap_err().code,
            ProblemCode::InvalidToken
        );
    }

    #[test]
    fn a_token_signed_with_another_algorithm_is_refused() {
        let ours = AccessTokens::new(b"0123456789abcdef0123456789abcdef", &settings());
        let token = ours.issue("user-1", Role::Admin, "s").unwrap();
        let (_, rest) = token.split_once('.').unwrap();
        // {"typ":"JWT","alg":"HS512"}
        let forged = format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.{rest}");
        assert_eq!(
            ours.verify(&forged).unwrap_err().code,
            ProblemCode::InvalidToken
        );
        let claims = ours.verify(&token).unwrap();
        assert!(encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef")
        )
        .is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_digests() {
        let a = new_opaque_token();
        assert_ne!(a, new_opaque_token());
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
