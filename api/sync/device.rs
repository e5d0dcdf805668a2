//! Devices: a phone's id belongs to the user who first synced with it; another user
//! naming it is refused. The device row holds `last_seq`, the last mutation number taken.

use diesel::prelude::*;

use crate::db::{now, DbConnection};
use crate::problem::{ApiError, ProblemCode};
use crate::schema::devices;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub last_seq: i64,
    pub created_at: chrono::NaiveDateTime,
    pub last_seen_at: chrono::NaiveDateTime,
}

/// 403 `device-not-yours` if the device is registered to another user (a read only: an
/// unknown device passes, and is registered by `claim` later).
pub fn check_owner(
    conn: &mut DbConnection,
    device_id: &str,
    user_id: &str,
) -> Result<(), ApiError> {
    let owner: Option<String> = devices::table
        .find(device_id)
        .select(devices::user_id)
        .first(conn)
        .optional()?;
    match owner {
        Some(owner) if owner != user_id => Err(ProblemCode::DeviceNotYours.into()),
        _ => Ok(()),
    }
}

/// Registers the device to the user on first use, and locks its row until the
/// transaction ends (two pushes of one device, even on two servers, run one after the
/// other), returning it as committed. 403 if it belongs to someone else.
pub fn claim(
    conn: &mut DbConnection,
    device_id: &str,
    user_id: &str,
    app_version: &str,
) -> Result<Device, ApiError> {
    let at = now();
    diesel::sql_query(
        "INSERT INTO devices (id, user_id, last_seq, app_version, created_at, last_seen_at) \
         VALUES ($1, $2, 0, $3, $4, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(device_id)
    .bind::<diesel::sql_types::Text, _>(user_id)
    .bind::<diesel::sql_types::Text, _>(app_version)
    .bind::<diesel::sql_types::Timestamp, _>(at)
    .execute(conn)?;
    // The update takes the row lock; the read after it sees the last committed `last_seq`.
    diesel::update(
        devices::table
            .find(device_id)
            .filter(devices::user_id.eq(user_id)),
    )
    .set((
        devices::last_seen_at.eq(at),
        devices::app_version.eq(app_version),
    ))
    .execute(conn)?;
    let device: Device = devices::table
        .find(device_id)
        .select(Device::as_select())
        .first(conn)?;
    if device.user_id != user_id {
        return Err(ProblemCode::DeviceNotYours.into());
    }
    Ok(device)
}
