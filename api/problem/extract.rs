//! Extractors whose failures are problems: a JSON body parsed with a JSON pointer for the
//! first bad member and then validated field by field, query strings, path parameters and
//! the `If-Match` precondition. actix's own extractors answer in plain text; every one
//! used here is configured to answer with a problem instead.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use super::{field_errors, ApiError, FieldError, ProblemCode};
use crate::config::Settings;
use crate::i18n::Text;

pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A JSON request body, size-limited, parsed and validated; no text in it may hold a
/// control character (see `first_control_character`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> FromRequest for ApiJson<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json::<T>(req, payload, TextCheck::WholeBody);
        Box::pin(async move { body.await.map(ApiJson) })
    }
}

/// A JSON body whose parts are checked one by one by their handler: a sync push, where a
/// control character in one mutation's `data` rejects that mutation alone (`parse_value`),
/// not the whole batch — which the phone would resend, refused, forever.
#[derive(Debug)]
pub struct EnvelopeJson<T>(pub T);

impl<T> FromRequest for EnvelopeJson<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json::<T>(req, payload, TextCheck::ByHandler);
        Box::pin(async move { body.await.map(EnvelopeJson) })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TextCheck {
    WholeBody,
    ByHandler,
}

fn read_json<T>(
    req: &HttpRequest,
    payload: &mut Payload,
    check: TextCheck,
) -> LocalBoxFuture<'static, Result<T, ApiError>>
where
    T: DeserializeOwned + Validate + 'static,
{
    let limit = req
        .app_data::<web::Data<Settings>>()
        .map(|s| s.http.max_body_bytes)
        .unwrap_or(512 * 1024);
    let content_type_ok = is_json(req);
    let declared_length = declared_length(req);
    let mut payload = payload.take();
    Box::pin(async move {
        if !content_type_ok {
            return Err(
                ApiError::from(ProblemCode::UnsupportedMediaType).with_detail(Text::new(
                    "Nội dung phải có Content-Type: application/json",
                    "The body must be sent with Content-Type: application/json",
                )),
            );
        }
        let body = read_limited(&mut payload, declared_length, limit).await?;
        let mut json = parse_json::<serde_json::Value>(&body)?;
        integral_numbers_as_integers(&mut json);
        if check == TextCheck::WholeBody {
            if let Some(error) = control_character_error(&json, "") {
                return Err(error);
            }
        }
        let value: T = serde_path_to_error::deserialize(json)
            .map_err(|error| data_error(json_pointer(error.path()), &error.inner().to_string()))?;
        value
            .validate()
            .map_err(|e| ApiError::validation(field_errors(&e)))?;
        Ok(value)
    })
}

/// Reads a whole body, refusing (413) one over `limit` bytes before reading it when its
/// length is declared, and as soon as it grows past the limit otherwise.
pub async fn read_limited(
    payload: &mut Payload,
    declared_length: Option<usize>,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    if declared_length.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::from(ProblemCode::BadRequest))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        }
        _ => false,
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::from(ProblemCode::PayloadTooLarge).with_detail(Text::owned(
        format!("Nội dung gửi lên vượt quá giới hạn {limit} byte"),
        format!("The request body exceeds the limit of {limit} bytes"),
    ))
}

/// A JSON value inside a larger body (a mutation's `data`), parsed and validated like a
/// body; every field error points below `prefix`.
pub fn parse_value<T: DeserializeOwned + Validate>(
    value: &serde_json::Value,
    prefix: &str,
) -> Result<T, ApiError> {
    // PostgreSQL refuses a NUL in text; refused here, it is the mutation's own fault (a
    // rejection), not a database failure that a resend could get past.
    if let Some(error) = control_character_error(value, prefix) {
        return Err(error);
    }
    let mut value = value.clone();
    integral_numbers_as_integers(&mut value);
    let parsed: T = serde_path_to_error::deserialize(value)
        .map_err(|error| data_error(json_pointer(error.path()), &error.inner().to_string()))
        .and_then(|v: T| {
            v.validate()
                .map_err(|e| ApiError::validation(field_errors(&e)))
                .map(|_| v)
        })
        .map_err(|mut error: ApiError| {
            for field in &mut error.errors {
                field.pointer = format!("{prefix}{}", field.pointer);
            }
            error
        })?;
    Ok(parsed)
}

/// JSON has one number type: `3.0` is the integer 3 (JSON Schema agrees), but serde refuses
/// it for an integer field. Integral numbers are made integers before deserializing; a
/// field of type `f64` takes an integer as well.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64()) {
                if float.fract() == 0.0 && float.abs() < 9.007_199_254_740_992e15 {
                    *value = Value::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(members) => members.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// A control character no text of ours may hold: NUL (PostgreSQL refuses it, SQLite
/// would store it), the other C0 controls except tab, line feed and carriage return, and
/// DEL. They are never typed by a person; they come from broken or hostile clients, and
/// they break exports, logs and terminals downstream.
pub fn is_forbidden_control(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// 422 naming the first string (or member name) of `value` that holds a forbidden control
/// character, its pointer below `prefix`.
pub fn control_character_error(value: &serde_json::Value, prefix: &str) -> Option<ApiError> {
    let (pointer, nul) = first_control_character(value, String::new())?;
    Some(control_character_problem(
        &format!("{prefix}{pointer}"),
        nul,
    ))
}

fn control_character_problem(pointer: &str, nul: bool) -> ApiError {
    if nul {
        ApiError::invalid_field(
            pointer,
            "nul-character",
            Text::new(
                "Không được chứa ký tự NUL (\\u0000)",
                "Must not contain the NUL character (\\u0000)",
            ),
        )
    } else {
        ApiError::invalid_field(
            pointer,
            "control-character",
            Text::new(
                "Không được chứa ký tự điều khiển",
                "Must not contain control characters",
            ),
        )
    }
}

fn forbidden_in(text: &str) -> Option<bool> {
    text.chars()
        .find(|c| is_forbidden_control(*c))
        .map(|c| c == '\0')
}

/// The pointer of the first string (or member name) holding a forbidden control
/// character, and whether it is a NUL.
fn first_control_character(value: &serde_json::Value, at: String) -> Option<(String, bool)> {
    use serde_json::Value;
    match value {
        Value::String(text) => forbidden_in(text).map(|nul| (at, nul)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_control_character(item, format!("{at}/{i}"))),
        Value::Object(members) => members.iter().find_map(|(name, item)| {
            let here = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
            match forbidden_in(name) {
                Some(nul) => Some((here, nul)),
                None => first_control_character(item, here),
            }
        }),
        _ => None,
    }
}

/// Syntax errors are 400 `malformed-json`; a well-formed body of the wrong shape is 422
/// with the pointer of the member that does not fit.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let inner = error.inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::from(ProblemCode::MalformedJson).with_detail(Text::owned(
                    format!(
                        "JSON sai cú pháp ở dòng {}, cột {}",
                        inner.line(),
                        inner.column()
                    ),
                    format!(
                        "Malformed JSON at line {}, column {}",
                        inner.line(),
                        inner.column()
                    ),
                ))
            }
            Category::Data => data_error(json_pointer(error.path()), &inner.to_string()),
        }
    })
}

/// A well-formed value of the wrong shape: 422 pointing at the member that does not fit.
fn data_error(pointer: String, message: &str) -> ApiError {
    // serde reports a missing member at its parent; point at the member.
    let (pointer, code, detail) = match missing_field_name(message) {
        Some(field) => (
            format!("{}/{field}", pointer.trim_end_matches('/')),
            "required",
            Text::new("Trường này là bắt buộc", "This field is required"),
        ),
        None if message.starts_with("unknown variant") => (
            pointer,
            "invalid-value",
            Text::new(
                "Giá trị không thuộc danh sách cho phép",
                "Value is not one of the allowed values",
            ),
        ),
        // serde's path already ends at the unknown member.
        None if message.starts_with("unknown field") => (
            pointer,
            "unknown-field",
            Text::new(
                "Trường này không được hỗ trợ",
                "This field is not supported",
            ),
        ),
        None => (
            pointer,
            "invalid-type",
            Text::new("Kiểu dữ liệu không đúng", "Wrong data type"),
        ),
    };
    ApiError::validation(vec![FieldError {
        pointer,
        code: code.to_owned(),
        detail,
    }])
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { variant } => pointer.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    pointer
}

fn missing_field_name(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field ")
        .and_then(between_backticks_str)
}

fn between_backticks_str(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

/// A query string parsed into `T` and validated.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T> FromRequest for ApiQuery<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = query_text_check(req.query_string())
            .and_then(|_| serde_urlencoded_query::<T>(req.query_string()))
            .and_then(|value| {
                value
                    .validate()
                    .map_err(|e| ApiError::validation(field_errors(&e)))?;
                Ok(value)
            });
        std::future::ready(parsed.map(ApiQuery))
    }
}

/// No query parameter (a search term, a cursor) may hold a forbidden control character.
fn query_text_check(query: &str) -> Result<(), ApiError> {
    let pairs = serde_urlencoded_query::<Vec<(String, String)>>(query)?;
    for (name, value) in pairs {
        if let Some(nul) = forbidden_in(&name).or_else(|| forbidden_in(&value)) {
            let pointer = format!("/{}", name.replace('~', "~0").replace('/', "~1"));
            return Err(control_character_problem(&pointer, nul));
        }
    }
    Ok(())
}

fn serde_urlencoded_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    web::Query::<T>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(|e| {
            ApiError::from(ProblemCode::InvalidQuery).with_detail(Text::owned(
                format!("Tham số truy vấn không hợp lệ: {e}"),
                format!("Invalid query parameters: {e}"),
            ))
        })
}

/// The `If-Match` header of a PATCH: the version the client last read. Absent → 428,
/// not an ETag (`"7"`) → 400, another version than the record's → 412. Read at extraction but answered by `version()`, which the handler
/// calls after checking the caller's role and the body, so a request with several faults
/// gets the answer of the first in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(Result<i32, ProblemCode>);

impl IfMatch {
    pub fn version(&self) -> Result<i32, ApiError> {
        self.0.map_err(ApiError::from)
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let version = match req.headers().get(header::IF_MATCH) {
            None => Err(ProblemCode::PreconditionRequired),
            // Not an ETag of ours at all: a malformed request, not a stale one.
            Some(value) => value
                .to_str()
                .ok()
                .and_then(crate::etag::parse_version)
                .ok_or(ProblemCode::InvalidIfMatch),
        };
        std::future::ready(Ok(IfMatch(version)))
    }
}

/// actix's `Json` extractor is not used, but any stray use still answers with a problem.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().error_handler(|err, _| {
        use actix_web::error::JsonPayloadError;
        let code = match err {
            JsonPayloadError::ContentType => ProblemCode::UnsupportedMediaType,
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                ProblemCode::PayloadTooLarge
            }
            _ => ProblemCode::MalformedJson,
        };
        ApiError::from(code).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        ApiError::from(ProblemCode::InvalidQuery)
            .with_detail(Text::owned(
                format!("Tham số truy vấn không hợp lệ: {err}"),
                format!("Invalid query parameters: {err}"),
            ))
            .into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| {
        ApiError::from(ProblemCode::InvalidPathParameter)
            .with_detail(Text::owned(
                format!("Tham số đường dẫn không hợp lệ: {err}"),
                format!("Invalid path parameter: {err}"),
            ))
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, Validate)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        nested: Nested,
    }

    #[derive(Debug, serde::Deserialize, Validate)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    #[test]
    fn a_syntax_error_is_malformed_json() {
        let err = parse_json::<Sample>(b"{\"name\": ").unwrap_err();
        assert_eq!(err.code, ProblemCode::MalformedJson);
    }

    #[test]
    fn a_wrong_type_points_at_the_member() {
        let err = parse_json::<Sample>(br#"{"name":"a","nested":{"count":"x"}}"#).unwrap_err();
        assert_eq!(err.code, ProblemCode::ValidationFailed);
        assert_eq!(err.errors[0].pointer, "/nested/count");
        assert_eq!(err.errors[0].code, "invalid-type");
    }

    #[test]
    fn a_missing_member_points_at_itself() {
        let err = parse_json::<Sample>(br#"{"nested":{"count":1}}"#).unwrap_err();
        assert_eq!(err.errors[0].pointer, "/name");
        assert_eq!(err.errors[0].code, "required");
    }
}
