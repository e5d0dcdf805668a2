//! Households of a neighbourhood: address, the head's name, an optional phone, the current
//! broadband status (derived from its events) and when it was last visited. Heads and
//! administrators work on the households in their scope, volunteers on those of the
//! neighbourhoods they are assigned to; officials never see households (they hold names).

pub mod activation;
pub mod create;
pub mod delete;
pub mod export;
pub mod get;
pub mod list;
pub mod update;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::areas::parse_uuid;
use crate::auth::{role_forbidden, Caller, Role};
use crate::db::DbConnection;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{households, volunteer_assignments};
use crate::search::search_key;
use crate::status::derive::Broadband;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = households)]
pub struct Household {
    pub id: String,
    pub area_id: String,
    pub area_path: String,
    pub code: Option<String>,
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    pub broadband: String,
    pub last_visited_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdResponse {
    pub id: uuid::Uuid,
    /// The neighbourhood.
    pub area_id: uuid::Uuid,
    /// The household's code in the official register, if known.
    pub code: Option<String>,
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    /// Fibre broadband now, from the household's broadband events.
    pub broadband: Broadband,
    pub last_visited_on: Option<NaiveDate>,
    /// Increments on every change; sent as the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Household> for HouseholdResponse {
    type Error = ApiError;

    fn try_from(h: Household) -> Result<Self, ApiError> {
        Ok(HouseholdResponse {
            id: parse_uuid(&h.id)?,
            area_id: parse_uuid(&h.area_id)?,
            code: h.code,
            address: h.address,
            head_name: h.head_name,
            phone: h.phone,
            broadband: Broadband::parse(&h.broadband).unwrap_or(Broadband::Unknown),
            last_visited_on: h.last_visited_on,
            version: h.version,
            created_at: h.created_at.and_utc(),
            updated_at: h.updated_at.and_utc(),
        })
    }
}

/// What search matches for a household: its address and its head's name, folded.
pub fn household_search_text(address: &str, head_name: &str) -> String {
    search_key(&format!("{address} {head_name}"))
}

/// What a new household needs; the caller has checked scope and uniqueness.
pub struct NewHousehold<'a> {
    pub id: &'a str,
    pub area: &'a crate::areas::Area,
    pub code: Option<&'a str>,
    pub address: &'a str,
    pub head_name: &'a str,
    pub phone: Option<&'a str>,
    pub broadband: Broadband,
    pub last_visited_on: Option<NaiveDate>,
    pub created_by: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

/// Inserts a household (the API, the import and the demo all create them here).
pub fn insert_household(conn: &mut DbConnection, new: NewHousehold) -> Result<(), ApiError> {
    let address = new.address.trim();
    let head_name = new.head_name.trim();
    diesel::insert_into(households::table)
        .values((
            households::id.eq(new.id),
            households::area_id.eq(&new.area.id),
            households::area_path.eq(&new.area.path),
            households::code.eq(new.code),
            households::address.eq(address),
            households::head_name.eq(head_name),
            households::phone.eq(new.phone),
            households::search_text.eq(household_search_text(address, head_name)),
            households::broadband.eq(new.broadband.as_str()),
            households::last_visited_on.eq(new.last_visited_on),
            households::version.eq(1),
            households::created_by.eq(new.created_by),
            households::created_at.eq(new.created_at),
            households::updated_at.eq(new.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which neighbourhoods' records a caller works on.
#[derive(Debug, Clone)]
pub enum RecordScope {
    /// Heads and administrators: every neighbourhood under their area (a `LIKE` pattern).
    Subtree(String),
    /// Volunteers: the neighbourhoods they are assigned to.
    Assigned(Vec<String>),
}

impl RecordScope {
    /// The record scope of a caller; officials get 403 (records carry names).
    pub fn of(conn: &mut DbConnection, caller: &Caller) -> Result<RecordScope, ApiError> {
        match caller.role {
            Role::Admin | Role::Head => Ok(RecordScope::Subtree(caller.scope.path_pattern())),
            Role::Volunteer => Ok(RecordScope::Assigned(
                volunteer_assignments::table
                    .filter(volunteer_assignments::user_id.eq(&caller.user_id))
                    .select(volunteer_assignments::area_id)
                    .load(conn)?,
            )),
            Role::Official => Err(role_forbidden()),
        }
    }

    pub fn contains(&self, household: &Household) -> bool {
        match self {
            RecordScope::Subtree(pattern) => household
                .area_path
                .starts_with(pattern.trim_end_matches('%')),
            RecordScope::Assigned(areas) => areas.contains(&household.area_id),
        }
    }
}

/// A live household in the caller's record scope, or `household-not-found`.
pub fn find_household(
    conn: &mut DbConnection,
    scope: &RecordScope,
    id: &str,
) -> Result<Household, ApiError> {
    households::table
        .find(id)
        .filter(households::deleted_at.is_null())
        .select(Household::as_select())
        .first(conn)
        .optional()?
        .filter(|h| scope.contains(h))
        .ok_or_else(|| ProblemCode::HouseholdNotFound.into())
}

/// Applies a record scope to a household query.
#[macro_export]
macro_rules! filter_by_record_scope {
    ($query:expr, $scope:expr) => {
        match $scope {
            $crate::households::RecordScope::Subtree(pattern) => {
                $query.filter($crate::schema::households::area_path.like(pattern.clone()))
            }
            $crate::households::RecordScope::Assigned(areas) => {
                $query.filter($crate::schema::households::area_id.eq_any(areas.clone()))
            }
        }
    };
}

/// A client-supplied id must be a UUIDv7 (they sort by creation time); none → a new one.
pub fn id_or_new(id: Option<uuid::Uuid>, pointer: &str) -> Result<String, ApiError> {
    match id {
        None => Ok(crate::db::new_id()),
        Some(id) if id.get_version_num() == 7 => Ok(id.to_string()),
        Some(_) => Err(ApiError::invalid_field(
            pointer,
            "not-uuid-v7",
            crate::i18n::Text::new("Mã định danh phải là UUIDv7", "The id must be a UUIDv7"),
        )),
    }
}

/// A phone number as people write them in Vietnam: digits, optionally a leading `+`, with
/// spaces, dots or hyphens between groups (`0912 345 678`, `+84 912 345 678`,
/// `0237.3824.123`); 6–20 characters. The same rule is in the contract as a pattern.
pub const PHONE_PATTERN: &str = r"^\+?[0-9][0-9 .\-]{4,18}[0-9]$";

pub fn is_valid_phone(phone: &str) -> bool {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let length = phone.chars().count();
    (6..=20).contains(&length)
        && body.starts_with(|c: char| c.is_ascii_digit())
        && body.ends_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-'))
}

/// For `#[validate(custom(...))]`.
pub fn validate_phone(phone: &str) -> Result<(), validator::ValidationError> {
    if is_valid_phone(phone) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid-phone").with_message(
            "Số điện thoại chỉ gồm chữ số (có thể có dấu + ở đầu, dấu cách, chấm, gạch ngang) / \
             A phone number is digits (optionally a leading +, spaces, dots, hyphens)"
                .into(),
        ))
    }
}

#[cfg(test)]
mod phone_tests {
    use super::*;

    #[test]
    fn phone_numbers_as_written_in_vietnam_pass_and_formulas_do_not() {
        for good in [
            "0912345678",
            "0912 345 678",
            "+84 912 345 678",
            "0237.3824.123",
        ] {
            assert!(is_valid_phone(good), "{good}");
        }
        for bad in [
            "=HYPERLINK(\"x\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1)",
            "12345",
            "0912-345-67a",
            "-0912345678",
        ] {
            assert!(!is_valid_phone(bad), "{bad}");
        }
    }
}
