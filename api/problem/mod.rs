//! Errors as RFC 9457 problem details. Every failure the server can produce becomes an
//! `ApiError` carrying a stable `ProblemCode`; the catalogue below gives each code its HTTP
//! status and its Vietnamese and English title. The body is rendered in the request's
//! language by the `render` middleware, which also turns actix's own plain-text errors
//! (unknown route, wrong method …) into problems. Internal causes go to the log, never to
//! the client.

mod extract;
mod render;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{Lang, Text};

pub use extract::{
    control_character_error, declared_length, is_forbidden_control, json_config, parse_value,
    path_config, query_config, read_limited, ApiJson, ApiQuery, EnvelopeJson, IfMatch,
    JSON_CONTENT_TYPE,
};
pub use render::{
    literal_paths_first, localize_problems, not_found_or_method_not_allowed, RouteTable,
};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

macro_rules! problem_codes {
    ($( $variant:ident = ($code:literal, $status:ident, $vi:literal, $en:literal), )*) => {
        /// Every problem `code` the API can return. Clients switch on these strings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ProblemCode { $( $variant, )* }

        impl ProblemCode {
            pub const ALL: &'static [ProblemCode] = &[ $( ProblemCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( ProblemCode::$variant => $code, )* }
            }

            pub fn status(self) -> StatusCode {
                match self { $( ProblemCode::$variant => StatusCode::$status, )* }
            }

            pub fn title(self) -> Text {
                match self { $( ProblemCode::$variant => Text::new($vi, $en), )* }
            }
        }
    };
}

problem_codes! {
    NotFound = ("not-found", NOT_FOUND,
        "Không tìm thấy địa chỉ được yêu cầu", "The requested resource does not exist"),
    MethodNotAllowed = ("method-not-allowed", METHOD_NOT_ALLOWED,
        "Phương thức không được hỗ trợ cho địa chỉ này", "Method not allowed for this resource"),
    BadRequest = ("bad-request", BAD_REQUEST,
        "Yêu cầu không hợp lệ", "Bad request"),
    MalformedJson = ("malformed-json", BAD_REQUEST,
        "Nội dung JSON không đúng cú pháp", "The request body is not valid JSON"),
    InvalidQuery = ("invalid-query", BAD_REQUEST,
        "Tham số truy vấn không hợp lệ", "Invalid query parameters"),
    InvalidPathParameter = ("invalid-path-parameter", BAD_REQUEST,
        "Tham số trên đường dẫn không hợp lệ", "Invalid path parameter"),
    UnsupportedMediaType = ("unsupported-media-type", UNSUPPORTED_MEDIA_TYPE,
        "Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
    PayloadTooLarge = ("payload-too-large", PAYLOAD_TOO_LARGE,
        "Dữ liệu gửi lên quá lớn", "The request body is too large"),
    ValidationFailed = ("validation-failed", UNPROCESSABLE_ENTITY,
        "Dữ liệu không hợp lệ", "Validation failed"),
    Unauthenticated = ("unauthenticated", UNAUTHORIZED,
        "Cần đăng nhập", "Authentication required"),
    InvalidToken = ("invalid-token", UNAUTHORIZED,
        "Mã truy cập không hợp lệ", "Invalid access token"),
    TokenExpired = ("token-expired", UNAUTHORIZED,
        "Mã truy cập đã hết hạn", "The access token has expired"),
    SessionRevoked = ("session-revoked", UNAUTHORIZED,
        "Phiên đăng nhập đã bị thu hồi; hãy đăng nhập lại",
        "This sign-in has been revoked; sign in again"),
    InvalidCredentials = ("invalid-credentials", UNAUTHORIZED,
        "Email hoặc mật khẩu không đúng", "Wrong e-mail or password"),
    InvalidRefreshToken = ("invalid-refresh-token", UNAUTHORIZED,
        "Phiên đăng nhập không hợp lệ hoặc đã hết hạn", "Invalid or expired refresh token"),
    RefreshTokenReused = ("refresh-token-reused", UNAUTHORIZED,
        "Mã làm mới đã được dùng; phiên đăng nhập đã bị thu hồi",
        "The refresh token was already used; the session has been revoked"),
    Forbidden = ("forbidden", FORBIDDEN,
        "Bạn không có quyền thực hiện thao tác này", "You are not allowed to do this"),
    InvalidIfMatch = ("invalid-if-match", BAD_REQUEST,
        "Tiêu đề If-Match phải là ETag đã đọc (ví dụ \"3\")",
        "If-Match must be the ETag as read (like \"3\")"),
    AreaNotFound = ("area-not-found", NOT_FOUND,
        "Không tìm thấy địa bàn", "Area not found"),
    UserNotFound = ("user-not-found", NOT_FOUND,
        "Không tìm thấy người dùng", "User not found"),
    AreaCodeTaken = ("area-code-taken", CONFLICT,
        "Mã địa bàn đã tồn tại", "The area code is already in use"),
    ReorganisationNotFound = ("reorganisation-not-found", NOT_FOUND,
        "Không tìm thấy đợt sắp xếp địa bàn", "Reorganisation not found"),
    ReorganisationNotScheduled = ("reorganisation-not-scheduled", CONFLICT,
        "Đợt sắp xếp này đã có hiệu lực hoặc đã hủy nên không hủy được",
        "This reorganisation has already taken effect or was cancelled, so it cannot be cancelled"),
    SignOffNotFound = ("sign-off-not-found", NOT_FOUND,
        "Không tìm thấy bản chốt số liệu", "Sign-off not found"),
    SignOffNotYours = ("sign-off-not-yours", FORBIDDEN,
        "Chỉ trưởng khu phố hoặc cán bộ phụ trách chính địa bàn này mới chốt được số liệu",
        "Only the area's own head or official signs off its figures"),
    SignOffExists = ("sign-off-exists", CONFLICT,
        "Tháng này đã được chốt số liệu; hãy mở lại trước khi chốt lại",
        "This month is already signed off; reopen it before signing again"),
    SignOffReopened = ("sign-off-reopened", CONFLICT,
        "Bản chốt này đã được mở lại", "This sign-off was already reopened"),
    TemplateUnreadable = ("template-unreadable", UNPROCESSABLE_ENTITY,
        "Không đọc được mẫu báo cáo; hãy dùng tệp XLSX", "The report template cannot be read; use an XLSX file"),
    ReportTemplateNotFound = ("report-template-not-found", NOT_FOUND,
        "Không tìm thấy mẫu báo cáo", "Report template not found"),
    DataRequestNotFound = ("data-request-not-found", NOT_FOUND,
        "Không tìm thấy yêu cầu của chủ thể dữ liệu", "Data subject request not found"),
    DataRequestClosed = ("data-request-closed", CONFLICT,
        "Yêu cầu này đã được đóng", "This request is already closed"),
    DataRequestNotExtendable = ("data-request-not-extendable", CONFLICT,
        "Không gia hạn được: đã gia hạn một lần, hoặc loại yêu cầu này không được gia hạn",
        "It cannot be extended: it was extended once already, or this kind of request has no extension"),
    DataRequestNotCarriedOut = ("data-request-not-carried-out", CONFLICT,
        "Hồ sơ chưa cho thấy yêu cầu đã được thực hiện (hãy xóa dữ liệu của người đó, hoặc tắt sự đồng ý, trước)",
        "The record does not show the request carried out yet (erase the person, or turn their consent off, first)"),
    BreachNotFound = ("breach-not-found", NOT_FOUND,
        "Không tìm thấy sự cố dữ liệu", "Breach not found"),
    BreachNotificationRecorded = ("breach-notification-recorded", CONFLICT,
        "Thời điểm thông báo này đã được ghi", "This notification time is already recorded"),
    EmailTaken = ("email-taken", CONFLICT,
        "Email đã được dùng cho tài khoản khác", "The e-mail is already in use"),
    PhoneTaken = ("phone-taken", CONFLICT,
        "Số điện thoại đã được dùng cho tài khoản khác", "The phone number is already in use"),
    TooManyRequests = ("too-many-requests", TOO_MANY_REQUESTS,
        "Quá nhiều lần thử; hãy đợi rồi thử lại", "Too many attempts; wait and try again"),
    InvalidInvitationToken = ("invalid-invitation-token", BAD_REQUEST,
        "Liên kết mời không hợp lệ hoặc đã được thay bằng lời mời mới",
        "The invitation link is invalid or was replaced by a newer invitation"),
    InvitationAlreadyAccepted = ("invitation-already-accepted", CONFLICT,
        "Lời mời này đã được sử dụng; hãy đăng nhập", "This invitation was already used; sign in instead"),
    InvitationExpired = ("invitation-expired", GONE,
        "Lời mời đã hết hạn; hãy đề nghị gửi lại", "The invitation has expired; ask for a new one"),
    InvitationNotFound = ("invitation-not-found", NOT_FOUND,
        "Không tìm thấy lời mời", "Invitation not found"),
    InvalidResetToken = ("invalid-reset-token", BAD_REQUEST,
        "Liên kết đặt lại mật khẩu không hợp lệ", "The password-reset link is invalid"),
    ResetTokenUsed = ("reset-token-used", CONFLICT,
        "Liên kết đặt lại mật khẩu đã được sử dụng", "This password-reset link was already used"),
    ResetTokenExpired = ("reset-token-expired", GONE,
        "Liên kết đặt lại mật khẩu đã hết hạn; hãy yêu cầu lại",
        "The password-reset link has expired; request a new one"),
    SessionNotFound = ("session-not-found", NOT_FOUND,
        "Không tìm thấy phiên đăng nhập", "Session not found"),
    HouseholdNotFound = ("household-not-found", NOT_FOUND,
        "Không tìm thấy hộ gia đình", "Household not found"),
    ResidentNotFound = ("resident-not-found", NOT_FOUND,
        "Không tìm thấy nhân khẩu", "Resident not found"),
    VisitNotFound = ("visit-not-found", NOT_FOUND,
        "Không tìm thấy lần thăm hộ", "Visit not found"),
    ResidentErased = ("resident-erased", CONFLICT,
        "Dữ liệu của người này đã bị xoá theo yêu cầu", "This person's data was erased on request"),
    ImportUnreadable = ("import-unreadable", UNPROCESSABLE_ENTITY,
        "Không đọc được tệp; hãy dùng CSV (UTF-8) hoặc XLSX theo mẫu",
        "The file cannot be read; use CSV (UTF-8) or XLSX following the template"),
    ImportInvalid = ("import-invalid", UNPROCESSABLE_ENTITY,
        "Tệp có dòng không hợp lệ; không có gì được ghi", "Some rows are invalid; nothing was written"),
    DuplicateNotFound = ("duplicate-not-found", NOT_FOUND,
        "Không tìm thấy cặp nghi trùng", "Suspected duplicate not found"),
    DuplicateResolved = ("duplicate-resolved", CONFLICT,
        "Cặp nghi trùng này đã được xử lý", "This suspected duplicate was already resolved"),
    InvalidIdempotencyKey = ("invalid-idempotency-key", BAD_REQUEST,
        "Idempotency-Key phải gồm 1–255 ký tự ASCII in được", "Idempotency-Key must be 1–255 printable ASCII characters"),
    IdempotencyKeyReused = ("idempotency-key-reused", UNPROCESSABLE_ENTITY,
        "Idempotency-Key này đã được dùng cho một yêu cầu khác", "This Idempotency-Key was used for a different request"),
    IdempotencyKeyInProgress = ("idempotency-key-in-progress", CONFLICT,
        "Yêu cầu với Idempotency-Key này đang được xử lý; hãy thử lại sau giây lát",
        "A request with this Idempotency-Key is still being processed; retry shortly"),
    IdTaken = ("id-taken", CONFLICT,
        "Mã định danh này đã được dùng cho bản ghi khác", "This id is already used by another record"),
    HouseholdCodeTaken = ("household-code-taken", CONFLICT,
        "Mã hộ đã tồn tại trong khu phố", "The household code is already used in this neighbourhood"),
    PreconditionFailed = ("precondition-failed", PRECONDITION_FAILED,
        "Dữ liệu đã bị thay đổi bởi người khác; hãy tải lại",
        "The record changed since you read it; reload and try again"),
    PreconditionRequired = ("precondition-required", PRECONDITION_REQUIRED,
        "Thiếu tiêu đề If-Match", "The If-Match header is required"),
    HouseholdDeleted = ("household-deleted", GONE,
        "Hộ gia đình đã bị xoá; lần thăm không được ghi", "The household was deleted; the visit was not kept"),
    AppVersionUnsupported = ("app-version-unsupported", UPGRADE_REQUIRED,
        "Phiên bản ứng dụng đã cũ; hãy cập nhật ứng dụng rồi đồng bộ lại",
        "This app version is too old; update the app, then sync again"),
    DeviceNotYours = ("device-not-yours", FORBIDDEN,
        "Thiết bị này đã được đăng ký cho người dùng khác", "This device is registered to another user"),
    SyncBatchTooLarge = ("sync-batch-too-large", PAYLOAD_TOO_LARGE,
        "Quá nhiều thay đổi trong một lần gửi", "Too many mutations in one push"),
    CursorExpired = ("cursor-expired", GONE,
        "Dữ liệu trên máy đã quá cũ; cần tải lại toàn bộ (các thay đổi chưa gửi vẫn được giữ)",
        "The phone's copy is too old; download everything again (unsent changes are kept)"),
    SeqGap = ("seq-gap", UNPROCESSABLE_ENTITY,
        "Thiếu thay đổi trước đó; hãy gửi lại từ số thứ tự được yêu cầu",
        "Earlier mutations are missing; resend from the expected sequence number"),
    UnknownMutation = ("unknown-mutation", UNPROCESSABLE_ENTITY,
        "Loại thay đổi không được hỗ trợ", "This kind of mutation is not supported"),
    IdConflict = ("id-conflict", CONFLICT,
        "Mã định danh đã có trên máy chủ với nội dung khác", "The id already exists on the server with different content"),
    RecordDeleted = ("record-deleted", GONE,
        "Bản ghi đã bị xoá; không thể tạo lại hoặc sửa", "The record was deleted; it cannot be re-created or edited"),
    FieldConflict = ("field-conflict", CONFLICT,
        "Người khác đã sửa trường này; giá trị trên máy chủ được giữ và trưởng khu phố sẽ xem xét",
        "Someone else changed this field; the server's value was kept and the head will review it"),
    ConflictNotFound = ("conflict-not-found", NOT_FOUND,
        "Không tìm thấy xung đột", "Conflict not found"),
    ConflictResolved = ("conflict-resolved", CONFLICT,
        "Xung đột này đã được xử lý", "This conflict was already resolved"),
    ServiceUnavailable = ("service-unavailable", SERVICE_UNAVAILABLE,
        "Dịch vụ tạm thời không sẵn sàng", "The service is temporarily unavailable"),
    InternalError = ("internal-error", INTERNAL_SERVER_ERROR,
        "Lỗi hệ thống", "Internal server error"),
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) into the request body, or `/name` of a query parameter.
    pub pointer: String,
    pub code: String,
    pub detail: Text,
}

/// The error every handler, extractor and middleware returns.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: ProblemCode,
    pub detail: Option<Text>,
    pub errors: Vec<FieldError>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.as_str())
    }
}

impl std::error::Error for ApiError {}

impl From<ProblemCode> for ApiError {
    fn from(code: ProblemCode) -> Self {
        ApiError {
            code,
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }
}

impl ApiError {
    pub fn with_detail(mut self, detail: Text) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Adds field errors (kept in pointer order).
    pub fn with_errors(mut self, errors: impl IntoIterator<Item = FieldError>) -> Self {
        self.errors.extend(errors);
        self.errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// 422 with one entry per invalid field.
    pub fn validation(mut errors: Vec<FieldError>) -> Self {
        // A stable order clients and tests can rely on: by pointer.
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        ApiError {
            errors,
            ..ProblemCode::ValidationFailed.into()
        }
        .with_detail(Text::new(
            "Một số trường không hợp lệ; xem danh sách errors",
            "Some fields are invalid; see the errors list",
        ))
    }

    /// 422 for a single field.
    pub fn invalid_field(pointer: &str, code: &str, detail: Text) -> Self {
        Self::validation(vec![FieldError {
            pointer: pointer.to_owned(),
            code: code.to_owned(),
            detail,
        }])
    }

    /// 500; the cause goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        ProblemCode::InternalError.into()
    }

    /// 503 with `Retry-After` (the database or another dependency failed in a way that
    /// may pass); logged. Nothing of the request was committed.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "dependency unavailable");
        ApiError::from(ProblemCode::ServiceUnavailable)
            .with_header(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS))
    }

    /// A failure of the server, not of the request (5xx): a sync push never turns it
    /// into a per-mutation answer, it fails the whole push so the phone sends it again.
    pub fn is_server_fault(&self) -> bool {
        self.code.status().is_server_error()
    }

    /// A "not found" of a related record reported as `code` (a visit whose household is
    /// out of scope is itself not found); any other failure, above all a server fault,
    /// passes unchanged, so it is never mistaken for the request's own fault.
    pub fn renamed_not_found(self, code: ProblemCode) -> ApiError {
        if self.code.status() == StatusCode::NOT_FOUND {
            code.into()
        } else {
            self
        }
    }

    /// A transient failure worth trying again at once (inside `Db::write`).
    pub fn is_transient(&self) -> bool {
        self.code == ProblemCode::ServiceUnavailable
    }

    pub fn unauthorized(code: ProblemCode) -> Self {
        ApiError::from(code).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"eid-adoption\""),
        )
    }

    /// The problem body in one language.
    pub fn to_problem(
        &self,
        lang: Lang,
        instance: Option<&str>,
        request_id: Option<&str>,
    ) -> Problem {
        let title = self.code.title();
        Problem {
            r#type: format!("urn:eid-adoption:problem:{}", self.code.as_str()),
            title: title.get(lang).to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.as_ref().unwrap_or(&title).get(lang).to_owned(),
            code: self.code.as_str().to_owned(),
            instance: instance.map(str::to_owned),
            request_id: request_id.map(str::to_owned),
            errors: self
                .errors
                .iter()
                .map(|e| FieldProblem {
                    pointer: e.pointer.clone(),
                    code: e.code.clone(),
                    detail: e.detail.get(lang).to_owned(),
                })
                .collect(),
        }
    }

    pub fn response(
        &self,
        lang: Lang,
        instance: Option<&str>,
        request_id: Option<&str>,
    ) -> HttpResponse {
        let mut builder = HttpResponse::build(self.code.status());
        builder.content_type(PROBLEM_CONTENT_TYPE);
        for (name, value) in &self.headers {
            builder.insert_header((name.clone(), value.clone()));
        }
        builder.json(self.to_problem(lang, instance, request_id))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    /// Vietnamese, without request details; `localize_problems` re-renders it for the
    /// request's language on the way out.
    fn error_response(&self) -> HttpResponse {
        self.response(Lang::Vi, None, None)
    }
}

/// Seconds a client is told to wait after a 503 before it sends the same request again.
pub const RETRY_AFTER_SECS: u32 = 2;

impl From<diesel::result::Error> for ApiError {
    /// A database failure is either permanent — the same request would fail the same way
    /// (a row that is not there, a rule the schema enforces) — or transient: anything that
    /// could succeed when tried again (a lost or cancelled connection, a statement or lock
    /// timeout, a deadlock or serialization failure, an I/O error or a full disk, a commit
    /// that did not go through). Transient failures are 503 with `Retry-After`, and
    /// `Db::write` retries them a few times before answering. Nothing transient may ever
    /// become a permanent answer such as a rejected sync mutation.
    ///
    /// Neither backend's driver names every transient condition (diesel reports a
    /// cancelled query, a deadlock or SQLite's I/O error as `Unknown`), so the
    /// classification is by exclusion: only the kinds known to be deterministic are
    /// permanent. A unique violation counts as transient: the handlers check uniqueness
    /// before inserting, so one only reaches here when a concurrent writer won a race,
    /// and a retry then gets the deterministic answer (taken id, duplicate).
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => ProblemCode::NotFound.into(),
            Error::DatabaseError(
                DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::RestrictViolation
                | DatabaseErrorKind::ExclusionViolation,
                _,
            )
            | Error::InvalidCString(_)
            | Error::DeserializationError(_)
            | Error::SerializationError(_)
            | Error::QueryBuilderError(_)
            | Error::RollbackTransaction
            | Error::AlreadyInTransaction => ApiError::internal(error),
            // SQLite rolls a whole transaction back by itself on some errors (a full disk,
            // an I/O error); diesel then finds no transaction to release or roll back.
            // Nothing of it was committed: transient, like the error that caused it.
            transient => ApiError::unavailable(transient),
        }
    }
}

/// RFC 9457 problem details, with the stable `code` clients switch on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:eid-adoption:problem:<code>`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// A short summary in the request's language (Vietnamese by default).
    pub title: String,
    pub status: u16,
    /// What went wrong in this case, in the request's language.
    pub detail: String,
    /// The stable problem code, e.g. `validation-failed`, `area-not-found`.
    pub code: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id, as in the server log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// One entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON pointer to the invalid member of the request body (or `/name` of a query parameter).
    pub pointer: String,
    /// A stable code for the kind of problem, e.g. `required`, `length`, `email`.
    pub code: String,
    pub detail: String,
}

/// Turns the `validator` crate's errors into field errors with JSON pointers.
/// A validator for text that must say something: only spaces is `blank`.
pub fn not_blank(text: &str) -> Result<(), validator::ValidationError> {
    if text.trim().is_empty() {
        Err(validator::ValidationError::new("blank"))
    } else {
        Ok(())
    }
}

pub fn field_errors(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect_field_errors(errors, String::new(), &mut out);
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    out
}

fn collect_field_errors(
    errors: &validator::ValidationErrors,
    prefix: String,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let pointer = format!("{prefix}/{field}");
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    out.push(FieldError {
                        pointer: pointer.clone(),
                        code: error.code.to_string(),
                        detail: validation_detail(error),
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_field_errors(inner, pointer, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_field_errors(inner, format!("{pointer}/{index}"), out);
                }
            }
        }
    }
}

fn validation_detail(error: &validator::ValidationError) -> Text {
    let param = |name: &str| error.params.get(name).map(|v| v.to_string());
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => Text::owned(
                format!("Độ dài phải từ {min} đến {max} ký tự"),
                format!("Length must be between {min} and {max} characters"),
            ),
            (Some(min), None) => Text::owned(
                format!("Cần ít nhất {min} ký tự"),
                format!("Must be at least {min} characters long"),
            ),
            (None, Some(max)) => Text::owned(
                format!("Không được quá {max} ký tự"),
                format!("Must be at most {max} characters long"),
            ),
            _ => Text::new("Độ dài không hợp lệ", "Invalid length"),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => Text::owned(
                format!("Giá trị phải từ {min} đến {max}"),
                format!("Must be between {min} and {max}"),
            ),
            (Some(min), None) => Text::owned(
                format!("Giá trị phải lớn hơn hoặc bằng {min}"),
                format!("Must be at least {min}"),
            ),
            _ => Text::new("Giá trị nằm ngoài khoảng cho phép", "Value out of range"),
        },
        "email" => Text::new("Địa chỉ email không hợp lệ", "Not a valid e-mail address"),
        "required" => Text::new("Trường này là bắt buộc", "This field is required"),
        "blank" => Text::new("Không được để trống", "Must not be blank"),
        "password-too-common" => Text::new(
            "Mật khẩu quá phổ biến, dễ bị đoán",
            "This password is too common and easy to guess",
        ),
        "password-is-email" => Text::new(
            "Mật khẩu không được trùng với email",
            "The password must not be the e-mail address",
        ),
        "area-code" => Text::new(
            "Mã địa bàn chỉ gồm chữ không dấu, số, '-' và '_'",
            "An area code may only contain ASCII letters, digits, '-' and '_'",
        ),
        _ => Text::new("Giá trị không hợp lệ", "Invalid value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn problem_codes_are_unique_and_titled_in_both_languages() {
        let mut seen = HashSet::new();
        for code in ProblemCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
            let title = code.title();
            assert!(!title.vi.is_empty() && !title.en.is_empty());
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn a_problem_is_rendered_in_the_requested_language() {
        let error = ApiError::from(ProblemCode::AreaNotFound);
        assert_eq!(
            error.to_problem(Lang::Vi, None, None).title,
            "Không tìm thấy địa bàn"
        );
        assert_eq!(
            error.to_problem(Lang::En, None, None).title,
            "Area not found"
        );
        assert_eq!(error.to_problem(Lang::En, None, None).status, 404);
    }

    #[test]
    fn only_a_not_found_is_renamed_a_server_fault_stays_what_it_is() {
        let unavailable = ApiError::unavailable("cancelled");
        assert_eq!(
            unavailable
                .renamed_not_found(ProblemCode::VisitNotFound)
                .code,
            ProblemCode::ServiceUnavailable
        );
        let missing = ApiError::from(ProblemCode::HouseholdNotFound);
        assert_eq!(
            missing.renamed_not_found(ProblemCode::VisitNotFound).code,
            ProblemCode::VisitNotFound
        );
    }

    #[test]
    fn database_messages_never_become_the_detail() {
        let error = ApiError::from(diesel::result::Error::RollbackTransaction);
        let problem = error.to_problem(Lang::En, None, None);
        assert_eq!(problem.code, "internal-error");
        assert_eq!(problem.detail, "Internal server error");
    }
}
