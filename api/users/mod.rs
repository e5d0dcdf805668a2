//! Accounts: who a user is, their role, the area they are scoped to and, for volunteers,
//! the neighbourhoods they are assigned to. Administrators manage the accounts in their
//! scope; everybody reads their own at `/api/v1/me`.

pub mod create;
pub mod get;
pub mod list;
pub mod me;
pub mod update;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::areas::{find_in_scope, parse_uuid, Area, AreaKind, AreaSummary};
use crate::auth::{Role, Scope};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::{Lang, Text};
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{areas, users, volunteer_assignments};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: String,
    pub role: String,
    pub area_id: Option<String>,
    pub password_hash: String,
    pub language: String,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An account as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: uuid::Uuid,
    /// `null` for an account known only by its phone number.
    pub email: Option<String>,
    /// The account's phone number (Vietnamese national form, digits only, e.g.
    /// `0912345678`); it signs in with it as well as with its e-mail.
    pub phone: Option<String>,
    pub name: String,
    pub role: Role,
    /// The area the account is scoped to (it sees this area and everything below);
    /// `null` for a national administrator.
    pub area: Option<AreaSummary>,
    /// Neighbourhoods a volunteer works in; empty for other roles.
    pub assignments: Vec<AreaSummary>,
    /// Language of e-mails sent to this user.
    pub language: Lang,
    pub active: bool,
    /// `invited` until the invitation is accepted, then `active` or `disabled`.
    pub status: AccountStatus,
    /// Increments on every change; sent as the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Invited,
    Active,
    Disabled,
}

impl AccountStatus {
    /// An invited account has no password until the invitation is accepted.
    pub fn of(user: &User) -> AccountStatus {
        if user.password_hash.is_empty() {
            AccountStatus::Invited
        } else if user.active {
            AccountStatus::Active
        } else {
            AccountStatus::Disabled
        }
    }
}

/// A list of users, one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Loads the user's area and assignments and builds the response.
pub fn user_response(conn: &mut DbConnection, user: User) -> Result<UserResponse, ApiError> {
    let area = match &user.area_id {
        Some(area_id) => Some(
            areas::table
                .find(area_id)
                .select(Area::as_select())
                .first(conn)?,
        ),
        None => None,
    };
    let assignments: Vec<Area> = volunteer_assignments::table
        .inner_join(areas::table)
        .filter(volunteer_assignments::user_id.eq(&user.id))
        .select(Area::as_select())
        .order(areas::code.asc())
        .load(conn)?;
    let status = AccountStatus::of(&user);
    Ok(UserResponse {
        id: parse_uuid(&user.id)?,
        email: user.email,
        phone: user.phone,
        name: user.name,
        role: Role::parse(&user.role).ok_or_else(|| ApiError::internal("unknown role stored"))?,
        area: area.as_ref().map(AreaSummary::try_from).transpose()?,
        assignments: assignments
            .iter()
            .map(AreaSummary::try_from)
            .collect::<Result<_, _>>()?,
        language: Lang::parse(&user.language).unwrap_or_default(),
        status,
        active: user.active,
        version: user.version,
        created_at: user.created_at.and_utc(),
        updated_at: user.updated_at.and_utc(),
    })
}

/// The user with this id if their area lies in the scope (national accounts only for a
/// national caller); otherwise `user-not-found`.
pub fn find_in_scope_user(
    conn: &mut DbConnection,
    scope: &Scope,
    id: &str,
) -> Result<User, ApiError> {
    let row: Option<(User, Option<String>)> = users::table
        .left_join(areas::table)
        .filter(users::id.eq(id))
        .select((User::as_select(), areas::path.nullable()))
        .first(conn)
        .optional()?;
    row.filter(|(_, path)| match path {
        Some(path) => scope.contains(path),
        None => scope.is_national(),
    })
    .map(|(user, _)| user)
    .ok_or_else(|| ProblemCode::UserNotFound.into())
}

/// Where a user sits: the area they are scoped to and their assignments, checked against
/// the role and the caller's scope.
pub struct Placement {
    pub area: Option<Area>,
    pub assignments: Vec<Area>,
}

/// Checks a role, area and assignment list together:
/// - only an administrator may have no area (national), and only a national caller grants it;
/// - the area must lie in the caller's scope (else `area-not-found`); a head's area is a
///   neighbourhood;
/// - only volunteers have assignments, each a neighbourhood inside their own area.
pub fn check_placement(
    conn: &mut DbConnection,
    caller_scope: &Scope,
    role: Role,
    area_id: Option<&str>,
    assignment_ids: &[String],
) -> Result<Placement, ApiError> {
    let area = match area_id {
        None if role == Role::Admin && caller_scope.is_national() => None,
        None => {
            return Err(ApiError::invalid_field(
                "/area_id",
                "required",
                Text::new(
                    "Cần chọn địa bàn cho tài khoản",
                    "The account needs an area",
                ),
            ))
        }
        // Out of scope answers like a missing area: 404, nothing learnt about it.
        Some(id) => Some(find_in_scope(conn, caller_scope, id)?),
    };
    if let Some(area) = &area {
        area.require_live("/area_id")?;
    }
    if role == Role::Head && area.as_ref().and_then(Area::kind) != Some(AreaKind::Neighbourhood) {
        return Err(ApiError::invalid_field(
            "/area_id",
            "head-needs-neighbourhood",
            Text::new(
                "Trưởng khu phố phải được gán cho một khu phố",
                "A neighbourhood head must be scoped to a neighbourhood",
            ),
        ));
    }
    if role != Role::Volunteer && !assignment_ids.is_empty() {
        return Err(ApiError::invalid_field(
            "/assignment_ids",
            "assignments-only-for-volunteers",
            Text::new(
                "Chỉ tình nguyện viên mới được phân công khu phố",
                "Only volunteers are assigned to neighbourhoods",
            ),
        ));
    }
    let own_scope = Scope {
        area_id: area.as_ref().map(|a| a.id.clone()),
        area_path: area.as_ref().map(|a| a.path.clone()),
    };
    let mut assignments = Vec::new();
    for (index, id) in assignment_ids.iter().enumerate() {
        let pointer = format!("/assignment_ids/{index}");
        let assigned = find_in_scope(conn, &own_scope, id)
            .ok()
            .filter(|a| a.kind() == Some(AreaKind::Neighbourhood) && !a.is_ended())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    &pointer,
                    "not-a-neighbourhood-in-area",
                    Text::new(
                        "Phải là một khu phố thuộc địa bàn của tài khoản",
                        "Must be a neighbourhood inside the account's area",
                    ),
                )
            })?;
        if !assignments.iter().any(|a: &Area| a.id == assigned.id) {
            assignments.push(assigned);
        }
    }
    Ok(Placement { area, assignments })
}

/// Replaces a user's assignments with the given neighbourhoods.
pub fn replace_assignments(
    conn: &mut DbConnection,
    user_id: &str,
    assignments: &[Area],
) -> Result<(), ApiError> {
    // Only what changes: each assignment started or ended keeps its period (and its
    // tombstone for the volunteer's phone).
    let current: Vec<String> = volunteer_assignments::table
        .filter(volunteer_assignments::user_id.eq(user_id))
        .select(volunteer_assignments::area_id)
        .load(conn)?;
    for area_id in current
        .iter()
        .filter(|id| !assignments.iter().any(|a| &a.id == *id))
    {
        crate::volunteers::end_assignment(conn, user_id, area_id)?;
    }
    for area in assignments {
        crate::volunteers::start_assignment(conn, user_id, &area.id)?;
    }
    Ok(())
}

/// What a new account needs: an e-mail (stored lower-cased and trimmed), a phone number
/// (stored normalised, `normalize_phone`), or both.
pub struct NewAccount<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub name: &'a str,
    pub role: Role,
    pub area_id: Option<&'a str>,
    /// Empty for an invited account that has not chosen a password yet.
    pub password_hash: &'a str,
    pub language: Lang,
    pub active: bool,
}

/// Inserts an account (the caller has checked its placement) and returns its id.
/// A taken e-mail is `email-taken`, a taken phone number `phone-taken`.
pub fn insert_account(conn: &mut DbConnection, new: NewAccount) -> Result<String, ApiError> {
    let email = new.email.map(normalize_email);
    let phone = new
        .phone
        .map(|p| normalize_phone(p).unwrap_or_else(|| p.to_owned()));
    if let Some(email) = &email {
        if email_taken(conn, email)? {
            return Err(ProblemCode::EmailTaken.into());
        }
    }
    if let Some(phone) = &phone {
        if phone_taken(conn, phone)? {
            return Err(ProblemCode::PhoneTaken.into());
        }
    }
    let id = new_id();
    let at = now();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&id),
            users::email.eq(&email),
            users::phone.eq(&phone),
            users::name.eq(new.name.trim()),
            users::role.eq(new.role.as_str()),
            users::area_id.eq(new.area_id),
            users::password_hash.eq(new.password_hash),
            users::language.eq(new.language.as_str()),
            users::active.eq(new.active),
            users::version.eq(1),
            users::created_at.eq(at),
            users::updated_at.eq(at),
        ))
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ProblemCode::EmailTaken.into(),
            other => ApiError::from(other),
        })?;
    Ok(id)
}

/// E-mail addresses are compared case-insensitively: stored and looked up lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A phone number as accounts store it: the Vietnamese national form, digits only
/// (`+84 912 345 678`, `0912.345.678` → `0912345678`), 9 to 11 digits after the leading 0;
/// `None` when the text is not such a number.
pub fn normalize_phone(phone: &str) -> Option<String> {
    let trimmed = phone.trim();
    let (international, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    let national = if international {
        format!("0{}", digits.strip_prefix("84")?)
    } else if let Some(rest) = digits.strip_prefix("84").filter(|r| r.len() == 9) {
        format!("0{rest}")
    } else {
        digits
    };
    let valid = national.starts_with('0') && (10..=12).contains(&national.len());
    valid.then_some(national)
}

/// The schema of a user's phone number, as `normalize_phone` accepts it.
pub fn validate_user_phone(phone: &str) -> Result<(), validator::ValidationError> {
    match normalize_phone(phone) {
        Some(_) => Ok(()),
        None => Err(validator::ValidationError::new("invalid-phone").with_message(
            "Số điện thoại không hợp lệ (ví dụ 0912 345 678) / Not a phone number (e.g. 0912 345 678)".into(),
        )),
    }
}

pub fn phone_taken(conn: &mut DbConnection, phone: &str) -> Result<bool, ApiError> {
    let count: i64 = users::table
        .filter(users::phone.eq(phone))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

pub fn email_taken(conn: &mut DbConnection, email: &str) -> Result<bool, ApiError> {
    let count: i64 = users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// The length rule of the password policy, for `validator` on request bodies.
pub fn validate_password(password: &str) -> Result<(), validator::ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        let mut error = validator::ValidationError::new("length");
        error.add_param("min".into(), &MIN_PASSWORD_CHARS);
        return Err(error);
    }
    Ok(())
}

pub const MIN_PASSWORD_CHARS: usize = 10;
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// The whole password policy: at least 10 characters, not the account's e-mail (nor its
/// part before the @) nor its phone number, not one of the shipped common passwords.
/// Failures point at `/password`.
pub fn check_password_policy(
    password: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<(), ApiError> {
    if validate_password(password).is_err() {
        return Err(ApiError::invalid_field(
            "/password",
            "length",
            Text::owned(
                format!("Cần ít nhất {MIN_PASSWORD_CHARS} ký tự"),
                format!("Must be at least {MIN_PASSWORD_CHARS} characters long"),
            ),
        ));
    }
    let lowered = password.trim().to_lowercase();
    let is_phone = phone.is_some_and(|phone| normalize_phone(&lowered).as_deref() == Some(phone));
    if is_phone {
        return Err(ApiError::invalid_field(
            "/password",
            "password-is-phone",
            Text::new(
                "Mật khẩu không được là số điện thoại",
                "The password must not be the phone number",
            ),
        ));
    }
    let email = email.map(normalize_email).unwrap_or_default();
    let local_part = email.split('@').next().unwrap_or_default();
    if !email.is_empty() && (lowered == email || lowered == local_part) {
        return Err(ApiError::invalid_field(
            "/password",
            "password-is-email",
            Text::new(
                "Mật khẩu không được trùng với email",
                "The password must not be the e-mail address",
            ),
        ));
    }
    let common = COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .any(|common| common == lowered);
    if common {
        return Err(ApiError::invalid_field(
            "/password",
            "password-too-common",
            Text::new(
                "Mật khẩu quá phổ biến, dễ bị đoán",
                "This password is too common and easy to guess",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_policy_refuses_short_email_and_common_passwords() {
        let code = |password: &str| {
            check_password_policy(password, Some("Lan.Nguyen@example.vn"), Some("0912345678"))
                .err()
                .map(|e| e.errors[0].code.clone())
        };
        assert_eq!(code("short"), Some("length".into()));
        assert_eq!(
            code("lan.nguyen@example.vn"),
            Some("password-is-email".into())
        );
        assert_eq!(code("LAN.NGUYEN"), Some("password-is-email".into()));
        assert_eq!(code("MatKhau123"), Some("password-too-common".into()));
        assert_eq!(code("Password123"), Some("password-too-common".into()));
        assert_eq!(code("+84 912 345 678"), Some("password-is-phone".into()));
        assert_eq!(code("trâu đen ăn cỏ non"), None);
    }

    #[test]
    fn phone_numbers_are_kept_in_the_national_form_and_other_text_is_no_phone_number() {
        assert_eq!(
            normalize_phone("0912 345 678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalize_phone("+84 912.345.678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalize_phone("84912345678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalize_phone("(024) 3825 1234").as_deref(),
            Some("02438251234")
        );
        assert_eq!(normalize_phone("912345678"), None);
        assert_eq!(normalize_phone("+1 202 555 0100"), None);
        assert_eq!(normalize_phone("0912x45678"), None);
        assert_eq!(normalize_phone(""), None);
    }
}
