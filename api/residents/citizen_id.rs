//! Citizen IDs (CCCD, 12 digits) are never stored: only a keyed hash (HMAC-SHA256 with the
//! server's secret), to find the same person twice, and the last 4 digits, to show.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn is_valid(citizen_id: &str) -> bool {
    citizen_id.len() == 12 && citizen_id.bytes().all(|b| b.is_ascii_digit())
}

pub fn keyed_hash(key: &[u8], citizen_id: &str) -> String {
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(citizen_id.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn last4(citizen_id: &str) -> String {
    citizen_id[citizen_id.len().saturating_sub(4)..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_twelve_digits_are_a_citizen_id() {
        assert!(is_valid("038123456789"));
        assert!(!is_valid("03812345678"));
        assert!(!is_valid("03812345678a"));
        assert!(!is_valid("０３８１２３４５６７８９"));
    }

    #[test]
    fn the_hash_depends_on_the_key_and_hides_the_number() {
        let a = keyed_hash(b"key-one", "038123456789");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("038123456789"));
        assert_ne!(a, keyed_hash(b"key-two", "038123456789"));
        assert_eq!(last4("038123456789"), "6789");
    }
}
