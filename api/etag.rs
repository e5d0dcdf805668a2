//! Optimistic concurrency for online edits: every editable record has a `version` that
//! each update increments. Reads send it as a strong `ETag`; a PATCH must send it back in
//! `If-Match` and fails with 412 when the record has moved on.

/// The `ETag` value of a record version: `"3"`.
pub fn for_version(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` value names, if it is one of ours.
pub fn parse_version(value: &str) -> Option<i32> {
    value
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_round_trips_through_if_match() {
        assert_eq!(parse_version(&for_version(7)), Some(7));
        assert_eq!(parse_version("W/\"7\""), None);
        assert_eq!(parse_version("*"), None);
    }
}
