//! The area tree: province → district or town → ward → neighbourhood. Each area stores its
//! materialised path (`/root id/…/own id/`) so "everything in my scope" is one indexed
//! prefix match on both backends. Officials may enter the official adult population and
//! household count that targets are judged against.

pub mod create;
pub mod get;
pub mod history;
pub mod list;
pub mod update;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Scope;
use crate::db::{new_id, now, DbConnection};
use crate::problem::{ApiError, ProblemCode};
use crate::schema::areas;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AreaKind {
    Province,
    District,
    Town,
    Ward,
    Neighbourhood,
}

impl AreaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::Province => "province",
            AreaKind::District => "district",
            AreaKind::Town => "town",
            AreaKind::Ward => "ward",
            AreaKind::Neighbourhood => "neighbourhood",
        }
    }

    pub fn parse(value: &str) -> Option<AreaKind> {
        match value {
            "province" => Some(AreaKind::Province),
            "district" => Some(AreaKind::District),
            "town" => Some(AreaKind::Town),
            "ward" => Some(AreaKind::Ward),
            "neighbourhood" => Some(AreaKind::Neighbourhood),
            _ => None,
        }
    }

    /// Whether an area of this kind may sit directly under a parent of `parent` kind
    /// (`None`: at the top of the tree).
    pub fn fits_under(self, parent: Option<AreaKind>) -> bool {
        use AreaKind::*;
        matches!(
            (self, parent),
            (Province, None)
                | (District | Town, Some(Province))
                // Since 1 July 2025 wards and communes sit directly under the province.
                | (Ward, Some(Province | District | Town))
                | (Neighbourhood, Some(Ward))
        )
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = areas)]
pub struct Area {
    pub id: String,
    pub parent_id: Option<String>,
    pub kind: String,
    pub code: String,
    pub name: String,
    pub path: String,
    pub official_adult_population: Option<i64>,
    pub official_household_count: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The day it stopped existing (merged, split, dissolved); `None` while it exists.
    pub ended_on: Option<NaiveDate>,
    /// Where its households and users went when it ended.
    pub succeeded_by: Option<String>,
}

impl Area {
    pub fn kind(&self) -> Option<AreaKind> {
        AreaKind::parse(&self.kind)
    }

    pub fn is_ended(&self) -> bool {
        self.ended_on.is_some()
    }

    /// Refuses to place anything in an area that no longer exists: 422 with `area-ended`
    /// at `pointer` (the field that named it).
    pub fn require_live(&self, pointer: &str) -> Result<(), ApiError> {
        match self.ended_on {
            None => Ok(()),
            Some(ended) => Err(ApiError::invalid_field(
                pointer,
                "area-ended",
                crate::i18n::Text::owned(
                    format!(
                        "Địa bàn {} đã sáp nhập, chia tách hoặc giải thể từ ngày {}; hãy dùng địa bàn thay thế",
                        self.name,
                        ended.format("%d/%m/%Y")
                    ),
                    format!(
                        "The area {} was merged, split or dissolved on {ended}; use the area that replaced it",
                        self.name
                    ),
                ),
            )),
        }
    }
}

/// An area as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaResponse {
    pub id: uuid::Uuid,
    /// `null` for a province.
    pub parent_id: Option<uuid::Uuid>,
    pub kind: AreaKind,
    /// A short unique code, e.g. `TH-BS-PS-KP01`.
    pub code: String,
    pub name: String,
    /// Adults (18+) according to official statistics; targets are judged against it.
    pub official_adult_population: Option<i64>,
    pub official_household_count: Option<i64>,
    /// Increments on every change; sent as the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The day the area stopped existing (merged into another, split, dissolved); `null`
    /// while it exists. Its figures stay readable for the days before.
    pub ended_on: Option<NaiveDate>,
    /// The area its households and users went to when it ended.
    pub succeeded_by: Option<uuid::Uuid>,
}

impl TryFrom<Area> for AreaResponse {
    type Error = ApiError;

    fn try_from(area: Area) -> Result<Self, ApiError> {
        Ok(AreaResponse {
            id: parse_uuid(&area.id)?,
            parent_id: area.parent_id.as_deref().map(parse_uuid).transpose()?,
            kind: area
                .kind()
                .ok_or_else(|| ApiError::internal("unknown area kind stored"))?,
            code: area.code,
            name: area.name,
            official_adult_population: area.official_adult_population,
            official_household_count: area.official_household_count,
            version: area.version,
            created_at: area.created_at.and_utc(),
            updated_at: area.updated_at.and_utc(),
            ended_on: area.ended_on,
            succeeded_by: area.succeeded_by.as_deref().map(parse_uuid).transpose()?,
        })
    }
}

/// An area named inside another record (a user's scope, an assignment).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaSummary {
    pub id: uuid::Uuid,
    pub kind: AreaKind,
    pub code: String,
    pub name: String,
    /// The day it stopped existing; `null` while it exists.
    pub ended_on: Option<NaiveDate>,
}

impl TryFrom<&Area> for AreaSummary {
    type Error = ApiError;

    fn try_from(area: &Area) -> Result<Self, ApiError> {
        Ok(AreaSummary {
            id: parse_uuid(&area.id)?,
            kind: area
                .kind()
                .ok_or_else(|| ApiError::internal("unknown area kind stored"))?,
            code: area.code.clone(),
            name: area.name.clone(),
            ended_on: area.ended_on,
        })
    }
}

pub fn parse_uuid(value: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(value).map_err(ApiError::internal)
}

/// The area with this id if it lies in the scope; otherwise `area-not-found`, so that
/// callers cannot learn which ids exist outside their scope.
pub fn find_in_scope(conn: &mut DbConnection, scope: &Scope, id: &str) -> Result<Area, ApiError> {
    let area = areas::table
        .find(id)
        .select(Area::as_select())
        .first(conn)
        .optional()?
        .ok_or(ProblemCode::AreaNotFound)?;
    if is_visible(conn, scope, &area)? {
        Ok(area)
    } else {
        Err(ProblemCode::AreaNotFound.into())
    }
}

/// Whether a scope may read an area: it lies in the scope, or it ended and what replaced
/// it does (the officials of a merged ward read the history of the wards it was formed
/// from, which sit elsewhere in the tree).
pub fn is_visible(conn: &mut DbConnection, scope: &Scope, area: &Area) -> Result<bool, ApiError> {
    if scope.contains(&area.path) {
        return Ok(true);
    }
    let mut next = area.succeeded_by.clone();
    // Successions form a chain from older to newer areas; the bound only guards the loop.
    for _ in 0..32 {
        let Some(id) = next else { break };
        let Some((path, successor)) = areas::table
            .find(&id)
            .select((areas::path, areas::succeeded_by))
            .first::<(String, Option<String>)>(conn)
            .optional()?
        else {
            break;
        };
        if scope.contains(&path) {
            return Ok(true);
        }
        next = successor;
    }
    Ok(false)
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Area>, ApiError> {
    Ok(areas::table
        .filter(areas::code.eq(code))
        .select(Area::as_select())
        .first(conn)
        .optional()?)
}

/// What a new area needs; its id and path are derived here.
pub struct NewArea<'a> {
    pub parent: Option<&'a Area>,
    pub kind: AreaKind,
    pub code: &'a str,
    pub name: &'a str,
    pub official_adult_population: Option<i64>,
    pub official_household_count: Option<i64>,
}

/// Inserts an area under its parent (the caller has checked scope and kind) and returns it.
/// A taken code is `area-code-taken`.
pub fn insert_area(conn: &mut DbConnection, new: NewArea) -> Result<Area, ApiError> {
    let id = new_id();
    let path = format!("{}{id}/", new.parent.map_or("/", |p| p.path.as_str()));
    let at = now();
    diesel::insert_into(areas::table)
        .values((
            areas::id.eq(&id),
            areas::parent_id.eq(new.parent.map(|p| p.id.clone())),
            areas::kind.eq(new.kind.as_str()),
            areas::code.eq(new.code),
            areas::name.eq(new.name.trim()),
            areas::path.eq(&path),
            areas::official_adult_population.eq(new.official_adult_population),
            areas::official_household_count.eq(new.official_household_count),
            areas::version.eq(1),
            areas::created_at.eq(at),
            areas::updated_at.eq(at),
        ))
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ProblemCode::AreaCodeTaken.into(),
            other => ApiError::from(other),
        })?;
    Ok(areas::table
        .find(&id)
        .select(Area::as_select())
        .first(conn)?)
}

/// The name of the ward an area belongs to (the area's own name above ward level), for
/// e-mails; the product's national name for a national account.
pub fn ward_name_of(conn: &mut DbConnection, area_id: Option<&str>) -> Result<String, ApiError> {
    let Some(area_id) = area_id else {
        return Ok("Việt Nam".to_owned());
    };
    let area: Area = areas::table
        .find(area_id)
        .select(Area::as_select())
        .first(conn)?;
    let ancestor_ids: Vec<&str> = area.path.split('/').filter(|s| !s.is_empty()).collect();
    let ward: Option<String> = areas::table
        .filter(areas::id.eq_any(ancestor_ids))
        .filter(areas::kind.eq(AreaKind::Ward.as_str()))
        .select(areas::name)
        .first(conn)
        .optional()?;
    Ok(ward.unwrap_or(area.name))
}

/// Area codes: ASCII letters, digits, '-' and '_' (they appear in file names and URLs).
pub fn validate_area_code(code: &str) -> Result<(), validator::ValidationError> {
    if !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(validator::ValidationError::new("area-code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_nest_province_town_ward_neighbourhood() {
        use AreaKind::*;
        assert!(Province.fits_under(None));
        assert!(Town.fits_under(Some(Province)));
        assert!(District.fits_under(Some(Province)));
        assert!(Ward.fits_under(Some(Town)));
        assert!(Neighbourhood.fits_under(Some(Ward)));
        assert!(!Neighbourhood.fits_under(Some(Town)));
        assert!(!Ward.fits_under(None));
        assert!(Ward.fits_under(Some(Province)));
        assert!(!Province.fits_under(Some(Province)));
    }

    #[test]
    fn area_codes_are_plain_ascii() {
        assert!(validate_area_code("TH-BS_01").is_ok());
        assert!(validate_area_code("Phú Sơn").is_err());
        assert!(validate_area_code("").is_err());
    }
}
