//! Residents of a household: name, birth date (possibly only a year or year and month), sex,
//! relation to the household head, presence (present, moved away, deceased — with the date),
//! consent, and the citizen ID kept only as a keyed hash and its last 4 digits. Their current
//! e-ID and signature statuses are derived from their status events.

pub mod birth;
pub mod citizen_id;
pub mod create;
pub mod delete;
pub mod erase;
pub mod get;
pub mod list;
pub mod update;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use self::birth::BirthDate;
use crate::areas::parse_uuid;
use crate::db::DbConnection;
use crate::households::{Household, RecordScope};
use crate::i18n::Text;
use crate::problem::{ApiError, FieldError, ProblemCode};
use crate::schema::{households, residents};
use crate::search::search_key;
use crate::status::derive::{EidLevel, SignatureKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Unspecified,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Head,
    Spouse,
    Child,
    Parent,
    Grandchild,
    Sibling,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Present,
    MovedAway,
    Deceased,
}

/// The snake_case name serde gives a unit variant (what the database stores).
pub fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn enum_parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = residents)]
pub struct Resident {
    pub id: String,
    pub household_id: String,
    pub full_name: Option<String>,
    pub birth_year: i32,
    pub birth_month: Option<i32>,
    pub birth_day: Option<i32>,
    pub birth_date_estimated: bool,
    pub adult_on: NaiveDate,
    pub sex: String,
    pub relation_to_head: String,
    pub presence: String,
    pub presence_since: Option<NaiveDate>,
    pub consent: bool,
    pub consent_recorded_at: Option<NaiveDateTime>,
    pub citizen_id_last4: Option<String>,
    pub eid_level: String,
    pub signature: String,
    pub signature_expires_on: Option<NaiveDate>,
    pub erased_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Resident {
    pub fn birth(&self) -> BirthDate {
        BirthDate::from_parts(
            self.birth_year,
            self.birth_month.map(|m| m as u32),
            self.birth_day.map(|d| d as u32),
        )
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentResponse {
    pub id: uuid::Uuid,
    pub household_id: uuid::Uuid,
    /// `null` once the person's data has been erased.
    pub full_name: Option<String>,
    /// As precise as known: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[schema(example = "1975-06")]
    pub birth_date: String,
    /// Only the year (or year and month) is known; figures use the middle of the period.
    pub birth_date_estimated: bool,
    /// The first day the person counts as an adult (18).
    pub adult_on: NaiveDate,
    pub sex: Sex,
    pub relation_to_head: Relation,
    pub presence: Presence,
    /// When the person moved away or died.
    pub presence_since: Option<NaiveDate>,
    pub consent: bool,
    /// The instrument the consent was recorded under: Decree 13/2023/NĐ-CP before
    /// 2026-01-01, Law 91/2025/QH15 (Article 9) and Decree 356/2025/NĐ-CP from then;
    /// `null` without consent.
    pub consent_basis: Option<String>,
    /// The last 4 digits of the citizen ID, if one was recorded.
    pub citizen_id_last4: Option<String>,
    pub eid_level: EidLevel,
    /// The signature in force now (a digital one may have expired: see the expiry date).
    pub signature: SignatureKind,
    pub signature_expires_on: Option<NaiveDate>,
    pub erased: bool,
    /// Increments on every change; sent as the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Resident> for ResidentResponse {
    type Error = ApiError;

    fn try_from(r: Resident) -> Result<Self, ApiError> {
        let stored = |what: &str| ApiError::internal(format!("unknown {what} stored"));
        Ok(ResidentResponse {
            id: parse_uuid(&r.id)?,
            household_id: parse_uuid(&r.household_id)?,
            birth_date: r.birth().to_text(),
            birth_date_estimated: r.birth_date_estimated,
            adult_on: r.adult_on,
            sex: enum_parse(&r.sex).ok_or_else(|| stored("sex"))?,
            relation_to_head: enum_parse(&r.relation_to_head).ok_or_else(|| stored("relation"))?,
            presence: enum_parse(&r.presence).ok_or_else(|| stored("presence"))?,
            presence_since: r.presence_since,
            consent: r.consent,
            consent_basis: r
                .consent
                .then_some(r.consent_recorded_at)
                .flatten()
                .map(|at| {
                    crate::data_protection::law::consent_basis(
                        crate::clock::clock().day_of(at.and_utc()),
                    )
                    .to_owned()
                }),
            citizen_id_last4: r.citizen_id_last4,
            eid_level: EidLevel::parse(&r.eid_level).ok_or_else(|| stored("e-ID level"))?,
            signature: SignatureKind::parse(&r.signature).ok_or_else(|| stored("signature"))?,
            signature_expires_on: r.signature_expires_on,
            erased: r.erased_at.is_some(),
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            full_name: r.full_name,
        })
    }
}

/// The current statuses kept on a resident's row, derived from their events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentStatus {
    pub eid_level: EidLevel,
    pub signature: SignatureKind,
    pub signature_expires_on: Option<NaiveDate>,
}

impl CurrentStatus {
    pub fn from_events(events: &[crate::status::derive::Event], today: NaiveDate) -> CurrentStatus {
        use crate::status::derive::{eid_level_on, signature_on};
        let signature = signature_on(events, today);
        let kind = signature
            .and_then(|e| SignatureKind::parse(&e.value))
            .unwrap_or(SignatureKind::None);
        CurrentStatus {
            eid_level: eid_level_on(events, today),
            signature: kind,
            signature_expires_on: signature
                .and_then(|e| e.expires_on)
                .filter(|_| kind == SignatureKind::Digital),
        }
    }
}

/// What a new resident needs; the caller has checked scope and input.
pub struct NewResident<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    pub full_name: &'a str,
    pub birth: BirthDate,
    pub sex: &'a str,
    pub relation_to_head: &'a str,
    pub presence: &'a str,
    pub presence_since: Option<NaiveDate>,
    pub consent: bool,
    /// The keyed hash of the citizen ID and its last 4 digits.
    pub citizen_id: Option<(&'a str, &'a str)>,
    pub status: CurrentStatus,
    pub created_by: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

/// Inserts a resident (the API, the import and the demo all create them here).
pub fn insert_resident(conn: &mut DbConnection, new: NewResident) -> Result<(), ApiError> {
    let full_name = new.full_name.trim();
    diesel::insert_into(residents::table)
        .values((
            residents::id.eq(new.id),
            residents::household_id.eq(new.household_id),
            residents::full_name.eq(full_name),
            residents::search_text.eq(resident_search_text(full_name)),
            residents::birth_year.eq(new.birth.year),
            residents::birth_month.eq(new.birth.month.map(|m| m as i32)),
            residents::birth_day.eq(new.birth.day.map(|d| d as i32)),
            residents::birth_date.eq(new.birth.effective()),
            residents::birth_date_estimated.eq(new.birth.estimated()),
            residents::adult_on.eq(new.birth.adult_on()),
            residents::sex.eq(new.sex),
            residents::relation_to_head.eq(new.relation_to_head),
            residents::presence.eq(new.presence),
            residents::presence_since.eq(new.presence_since),
            residents::consent.eq(new.consent),
            residents::consent_recorded_at.eq(new.consent.then_some(new.created_at)),
            residents::citizen_id_hash.eq(new.citizen_id.map(|(hash, _)| hash)),
            residents::citizen_id_last4.eq(new.citizen_id.map(|(_, last4)| last4)),
            residents::eid_level.eq(new.status.eid_level.as_str()),
            residents::signature.eq(new.status.signature.as_str()),
            residents::signature_expires_on.eq(new.status.signature_expires_on),
            residents::version.eq(1),
            residents::created_by.eq(new.created_by),
            residents::created_at.eq(new.created_at),
            residents::updated_at.eq(new.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A live resident of a live household in the caller's record scope, with the household,
/// or `resident-not-found`.
pub fn find_resident(
    conn: &mut DbConnection,
    scope: &RecordScope,
    id: &str,
) -> Result<(Resident, Household), ApiError> {
    let found: Option<(Resident, Household)> = residents::table
        .inner_join(households::table)
        .filter(residents::id.eq(id))
        .filter(residents::deleted_at.is_null())
        .filter(households::deleted_at.is_null())
        .select((Resident::as_select(), Household::as_select()))
        .first(conn)
        .optional()?;
    found
        .filter(|(_, household)| scope.contains(household))
        .ok_or_else(|| ProblemCode::ResidentNotFound.into())
}

pub fn resident_search_text(full_name: &str) -> String {
    search_key(full_name)
}

/// Presence and its date go together: a date for moved away or deceased (not before the
/// birth, not in the future), none for present.
pub fn check_presence(
    presence: Presence,
    since: Option<NaiveDate>,
    birth: &BirthDate,
    today: NaiveDate,
) -> Vec<FieldError> {
    let error = |code: &str, vi: &'static str, en: &'static str| FieldError {
        pointer: "/presence_since".into(),
        code: code.into(),
        detail: Text::new(vi, en),
    };
    match (presence, since) {
        (Presence::Present, Some(_)) => vec![error(
            "not-allowed",
            "Người đang ở không có ngày chuyển đi",
            "A present resident has no leaving date",
        )],
        (Presence::MovedAway | Presence::Deceased, None) => vec![error(
            "required",
            "Cần ngày chuyển đi hoặc mất",
            "The date of moving away or death is required",
        )],
        (_, Some(day)) if day > today => vec![error(
            "date-in-future",
            "Ngày không được ở tương lai",
            "The date cannot be in the future",
        )],
        (_, Some(day)) if day < birth.effective() && !birth.estimated() => vec![error(
            "before-birth",
            "Ngày trước ngày sinh",
            "The date is before the birth date",
        )],
        _ => Vec::new(),
    }
}

pub fn birth_error(code: &str) -> FieldError {
    let detail = match code {
        "date-in-future" => Text::new(
            "Ngày sinh không được ở tương lai",
            "The birth date cannot be in the future",
        ),
        "date-too-early" => Text::new("Ngày sinh trước năm 1900", "The birth date is before 1900"),
        _ => Text::new(
            "Ngày sinh phải có dạng YYYY, YYYY-MM hoặc YYYY-MM-DD",
            "The birth date must be YYYY, YYYY-MM or YYYY-MM-DD",
        ),
    };
    FieldError {
        pointer: "/birth_date".into(),
        code: code.into(),
        detail,
    }
}

pub fn citizen_id_error() -> FieldError {
    FieldError {
        pointer: "/citizen_id".into(),
        code: "invalid-citizen-id".into(),
        detail: Text::new(
            "Số căn cước công dân gồm đúng 12 chữ số",
            "A citizen ID is exactly 12 digits",
        ),
    }
}
