//! Cursor pagination: lists are ordered by a unique key, and the cursor is that key of the
//! last item returned, encoded so clients treat it as opaque.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use crate::i18n::Text;
use crate::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl PageParams {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    /// The sort key after which this page starts.
    pub fn after(&self) -> Result<Option<String>, ApiError> {
        self.cursor.as_deref().map(decode).transpose()
    }

    /// The id after which a page of a list ordered by id starts: a cursor that does not
    /// hold one is refused before any query (it could only be forged).
    pub fn after_id(&self) -> Result<Option<String>, ApiError> {
        let after = self.after()?;
        if after
            .as_deref()
            .is_some_and(|a| uuid::Uuid::parse_str(a).is_err())
        {
            return Err(invalid_cursor());
        }
        Ok(after)
    }
}

pub fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid_cursor)
}

/// A cursor that does not decode to a key this list made.
pub fn invalid_cursor() -> ApiError {
    ApiError::invalid_field(
        "/cursor",
        "invalid-cursor",
        Text::new(
            "Con trỏ phân trang không hợp lệ; hãy tải lại từ trang đầu",
            "Invalid pagination cursor; start again from the first page",
        ),
    )
}

/// Given `limit + 1` rows, keeps `limit` and returns the cursor of the next page if there is one.
pub fn finish<T>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|row| encode(key(row)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let params = PageParams {
            cursor: Some(encode("/a/b/")),
            limit: None,
        };
        assert_eq!(params.after().unwrap().as_deref(), Some("/a/b/"));
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_rows_exist() {
        let (rows, next) = finish(vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(rows, vec!["a", "b"]);
        assert_eq!(next, Some(encode("b")));
        let (_, next) = finish(vec!["a", "b"], 2, |s| s);
        assert_eq!(next, None);
    }
}
