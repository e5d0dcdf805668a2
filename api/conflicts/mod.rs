//! Conflicts between a phone's offline edit and a newer change on the server. Editable
//! fields of households and residents are last-writer-wins per field only when the field
//! is unchanged since the version the phone's edit was based on; otherwise the server's
//! value is kept and both values are queued here for the neighbourhood head, who keeps
//! the server's value, takes the phone's, or writes another (`resolve`).
//!
//! Values travel as patches: JSON objects with the members of the REST update body that
//! make up the field (`{"phone": "0912…"}`, `{"presence": "moved_away", "presence_since":
//! "2026-10-01"}`), so applying one is an ordinary update.

pub mod list;
pub mod resolve;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::areas::parse_uuid;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::households::Household;
use crate::problem::{parse_value, ApiError};
use crate::residents::Resident;
use crate::schema::sync_conflicts;

/// The records whose fields a phone edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Editable {
    Household,
    Resident,
}

impl Editable {
    pub fn as_str(self) -> &'static str {
        match self {
            Editable::Household => "household",
            Editable::Resident => "resident",
        }
    }

    pub fn parse(text: &str) -> Option<Editable> {
        match text {
            "household" => Some(Editable::Household),
            "resident" => Some(Editable::Resident),
            _ => None,
        }
    }

    /// The field (as versioned by the database) a member of the update body belongs to;
    /// `None` for members that never conflict (a citizen ID is kept only as a hash, so the
    /// phone's value is taken).
    pub fn field_of(self, member: &str) -> Option<&'static str> {
        match (self, member) {
            (Editable::Household, "code") => Some("code"),
            (Editable::Household, "address") => Some("address"),
            (Editable::Household, "head_name") => Some("head_name"),
            (Editable::Household, "phone") => Some("phone"),
            (Editable::Resident, "full_name") => Some("full_name"),
            (Editable::Resident, "birth_date") => Some("birth_date"),
            (Editable::Resident, "sex") => Some("sex"),
            (Editable::Resident, "relation_to_head") => Some("relation_to_head"),
            (Editable::Resident, "presence" | "presence_since") => Some("presence"),
            (Editable::Resident, "consent") => Some("consent"),
            _ => None,
        }
    }
}

/// A household's editable members as the update body writes them.
pub fn household_members(h: &Household) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("code".into(), Value::from(h.code.clone()));
    map.insert("address".into(), Value::from(h.address.clone()));
    map.insert("head_name".into(), Value::from(h.head_name.clone()));
    map.insert("phone".into(), Value::from(h.phone.clone()));
    map
}

/// A resident's editable members as the update body writes them.
pub fn resident_members(r: &Resident) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("full_name".into(), Value::from(r.full_name.clone()));
    map.insert("birth_date".into(), Value::from(r.birth().to_text()));
    map.insert("sex".into(), Value::from(r.sex.clone()));
    map.insert(
        "relation_to_head".into(),
        Value::from(r.relation_to_head.clone()),
    );
    map.insert("presence".into(), Value::from(r.presence.clone()));
    map.insert(
        "presence_since".into(),
        serde_json::to_value(r.presence_since).unwrap_or(Value::Null),
    );
    map.insert("consent".into(), Value::from(r.consent));
    map
}

/// Applies a patch to a household or resident as an ordinary update by `caller`, against
/// its current version; returns the new version. An empty patch changes nothing.
#[allow(clippy::too_many_arguments)]
pub fn apply_patch(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    hmac_key: &[u8],
    entity: Editable,
    id: &str,
    current_version: i32,
    patch: &Map<String, Value>,
    pointer: &str,
) -> Result<i32, ApiError> {
    if patch.is_empty() {
        return Ok(current_version);
    }
    let body = Value::Object(patch.clone());
    match entity {
        Editable::Household => {
            let request = parse_value(&body, pointer)?;
            crate::households::update::update(conn, caller, actor, id, current_version, &request)
                .map(|h| h.version)
        }
        Editable::Resident => {
            let request = parse_value(&body, pointer)?;
            crate::residents::update::update(
                conn,
                caller,
                actor,
                hmac_key,
                id,
                current_version,
                &request,
            )
            .map(|r| r.version)
        }
    }
}

/// A conflict about to be queued.
pub struct NewConflict<'a> {
    pub household: &'a Household,
    pub entity: Editable,
    pub entity_id: &'a str,
    pub field: &'a str,
    pub server_value: &'a Map<String, Value>,
    pub phone_value: &'a Map<String, Value>,
    pub base_version: i32,
    pub server_version: i32,
    pub device_id: &'a str,
    pub seq: i64,
    pub recorded_by: &'a str,
}

/// Queues a conflict for the head of the household's neighbourhood; returns its id.
pub fn record(conn: &mut DbConnection, new: NewConflict) -> Result<String, ApiError> {
    let id = crate::db::new_id();
    diesel::insert_into(sync_conflicts::table)
        .values((
            sync_conflicts::id.eq(&id),
            sync_conflicts::area_id.eq(&new.household.area_id),
            sync_conflicts::area_path.eq(&new.household.area_path),
            sync_conflicts::household_id.eq(&new.household.id),
            sync_conflicts::entity.eq(new.entity.as_str()),
            sync_conflicts::entity_id.eq(new.entity_id),
            sync_conflicts::field.eq(new.field),
            sync_conflicts::server_value.eq(Value::Object(new.server_value.clone()).to_string()),
            sync_conflicts::phone_value.eq(Value::Object(new.phone_value.clone()).to_string()),
            sync_conflicts::base_version.eq(new.base_version),
            sync_conflicts::server_version.eq(new.server_version),
            sync_conflicts::device_id.eq(new.device_id),
            sync_conflicts::seq.eq(new.seq),
            sync_conflicts::recorded_by.eq(new.recorded_by),
            sync_conflicts::created_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Erasure reaches queued conflicts too: they may hold the person's name.
pub fn forget_entity(conn: &mut DbConnection, entity_id: &str) -> Result<(), ApiError> {
    diesel::delete(sync_conflicts::table.filter(sync_conflicts::entity_id.eq(entity_id)))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sync_conflicts)]
pub struct ConflictRow {
    pub id: String,
    pub area_id: String,
    pub area_path: String,
    pub household_id: String,
    pub entity: String,
    pub entity_id: String,
    pub field: String,
    pub server_value: String,
    pub phone_value: String,
    pub base_version: i32,
    pub server_version: i32,
    pub device_id: String,
    pub seq: i64,
    pub recorded_by: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<chrono::NaiveDateTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The server's value stays.
    KeepServer,
    /// The phone's value is applied.
    TakePhone,
    /// Another value, given with the resolution, is applied.
    Edit,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictResponse {
    pub id: uuid::Uuid,
    /// `household` or `resident`.
    pub entity: String,
    pub entity_id: uuid::Uuid,
    pub household_id: uuid::Uuid,
    /// The neighbourhood.
    pub area_id: uuid::Uuid,
    /// `address`, `head_name`, `phone`, `code`, `full_name`, `birth_date`, `sex`,
    /// `relation_to_head`, `presence` or `consent`.
    pub field: String,
    /// The server's value when the phone's edit arrived, as update-body members
    /// (`{"phone": "0912…"}`; `presence` comes with `presence_since`).
    #[schema(schema_with = member_values_schema)]
    pub server_value: Value,
    /// The phone's value, as update-body members.
    #[schema(schema_with = member_values_schema)]
    pub phone_value: Value,
    /// The field's own value the server kept, bare (what a screen shows).
    #[schema(schema_with = bare_value_schema)]
    pub kept: Value,
    /// The field's own value the phone entered, bare.
    #[schema(schema_with = bare_value_schema)]
    pub entered: Value,
    /// The version the phone's edit was based on, and the server's version it met.
    pub base_version: i32,
    pub server_version: i32,
    pub device_id: uuid::Uuid,
    /// The device's mutation number.
    pub seq: i64,
    /// The volunteer whose phone sent it.
    pub recorded_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    /// `open` or `resolved`.
    pub status: String,
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<uuid::Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The field's own member of a conflict's members (`{"phone": "0912…"}` → `"0912…"`).
pub fn bare_value(members: &Value, field: &str) -> Value {
    members.get(field).cloned().unwrap_or(Value::Null)
}

/// A conflict value's members: text, a yes/no (`consent`) or null (cleared).
pub fn member_values_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Object)
        .additional_properties(Some(utoipa::openapi::schema::Schema::Object(
            bare_value_schema(),
        )))
        .build()
}

/// An edit's members (`{"phone": "0912…"}`), or null when the resolution is not `edit`.
pub fn edit_value_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .additional_properties(Some(Schema::Object(bare_value_schema())))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[a-z_]{1,40}$")),
        ))
        .build()
}

pub fn bare_value_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::String,
            Type::Boolean,
            Type::Null,
        ]))
        .build()
}

impl TryFrom<ConflictRow> for ConflictResponse {
    type Error = ApiError;

    fn try_from(row: ConflictRow) -> Result<Self, ApiError> {
        let json = |text: &str| serde_json::from_str(text).map_err(ApiError::internal);
        Ok(ConflictResponse {
            id: parse_uuid(&row.id)?,
            entity: row.entity,
            entity_id: parse_uuid(&row.entity_id)?,
            household_id: parse_uuid(&row.household_id)?,
            area_id: parse_uuid(&row.area_id)?,
            kept: bare_value(&json(&row.server_value)?, &row.field),
            entered: bare_value(&json(&row.phone_value)?, &row.field),
            field: row.field,
            server_value: json(&row.server_value)?,
            phone_value: json(&row.phone_value)?,
            base_version: row.base_version,
            server_version: row.server_version,
            device_id: parse_uuid(&row.device_id)?,
            seq: row.seq,
            recorded_by: row.recorded_by.as_deref().map(parse_uuid).transpose()?,
            created_at: row.created_at.and_utc(),
            status: row.status,
            resolution: row
                .resolution
                .as_deref()
                .and_then(crate::residents::enum_parse),
            resolved_by: row.resolved_by.as_deref().map(parse_uuid).transpose()?,
            resolved_at: row.resolved_at.map(|t| t.and_utc()),
        })
    }
}

/// Heads and administrators review the conflicts of their area (a `LIKE` pattern on area
/// paths); volunteers see their own in their push results, officials never (they hold names).
pub fn reviewer_scope(caller: &Caller) -> Result<String, ApiError> {
    caller.require(&[crate::auth::Role::Head, crate::auth::Role::Admin])?;
    Ok(caller.scope.path_pattern())
}
