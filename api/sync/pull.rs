//! `GET /api/v1/sync/pull`: the changes to the caller's households since a cursor, or —
//! without one — the whole assigned set, paged. Items come in stamp order (`sync_seq`, then
//! a fixed entity order, then id) and the cursor is the key of the last item sent, so a
//! page cut off anywhere resumes exactly after it. A page is read in one snapshot (on
//! PostgreSQL a repeatable-read transaction) and serves only stamps below that snapshot's
//! horizon (`feed::horizon`): whatever commits later has a stamp at or above it and comes
//! on a later page.

use actix_web::{get, web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::AppVersion;
use super::{device, feed};
use crate::areas::parse_uuid;
use crate::auth::{Caller, Role};
use crate::db::{now, DbConnection};
use crate::filter_by_record_scope;
use crate::households::{Household, HouseholdResponse, RecordScope};
use crate::i18n::Text;
use crate::problem::{ApiError, ApiQuery, ProblemCode};
use crate::residents::{Resident, ResidentResponse};
use crate::schema::{assignment_periods, households, residents, status_events, visits};
use crate::state::AppState;
use crate::status::{StatusEventResponse, StatusEventRow};
use crate::visits::{Visit, VisitFields};

const DEFAULT_LIMIT: i64 = 500;
const MAX_LIMIT: i64 = 2000;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// The `cursor` of the last page received; omit to download everything.
    pub cursor: Option<String>,
    /// Items per page, 1–2000 (default 500).
    #[validate(range(min = 1, max = 2000))]
    #[param(minimum = 1, maximum = 2000)]
    pub limit: Option<i64>,
    /// The phone's device id. When given, the last page of a pull (`has_more` false) is
    /// recorded on the device, which is registered to the caller on first use (its head sees
    /// when each phone last pulled); a device of another user is refused with 403.
    pub device_id: Option<uuid::Uuid>,
    /// How many changes are still waiting on the phone, for its head's sync health view
    /// (recorded with `device_id`; ignored without it).
    #[validate(range(min = 0, max = 1000000))]
    #[param(minimum = 0, maximum = 1000000)]
    pub queued: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// Deleted by a head (or merged into another record).
    Deleted,
    /// The volunteer is no longer assigned to the household's neighbourhood.
    Unassigned,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    pub id: uuid::Uuid,
    pub reason: RemovalReason,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct HouseholdChanges {
    pub upserted: Vec<HouseholdResponse>,
    /// Removing a household removes its residents, visits and events from the phone too.
    pub removed: Vec<Removed>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ResidentChanges {
    pub upserted: Vec<ResidentResponse>,
    pub removed: Vec<Removed>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct VisitChanges {
    /// Voided visits come as upserts with `voided_at` set.
    pub upserted: Vec<VisitFields>,
    pub removed: Vec<Removed>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct StatusEventChanges {
    /// Voided events come as upserts with `voided_at` set.
    pub upserted: Vec<StatusEventResponse>,
    pub removed: Vec<Removed>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct PullResponse {
    pub households: HouseholdChanges,
    pub residents: ResidentChanges,
    pub visits: VisitChanges,
    pub status_events: StatusEventChanges,
    /// Opaque; send it with the next pull (also when `has_more` is false).
    pub cursor: String,
    /// More changes are waiting: pull again at once with the new cursor.
    pub has_more: bool,
}

/// Where a pull resumes: after the item with this key. `full_since` marks a download
/// from scratch (the clock when it began): removals stamped before it concern records the
/// phone never received and are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    s: i64,
    r: i16,
    i: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    f: Option<i64>,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Result<Cursor, ApiError> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "/cursor",
                    "invalid-cursor",
                    Text::new(
                        "Con trỏ đồng bộ không hợp lệ; hãy tải lại toàn bộ",
                        "Invalid sync cursor; download everything again",
                    ),
                )
            })
    }
}

/// The order of entities sharing a stamp: removals from unassignment first, then parents
/// before children.
const UNASSIGNED: i16 = 0;
const HOUSEHOLD: i16 = 1;
const RESIDENT: i16 = 2;
const VISIT: i16 = 3;
const EVENT: i16 = 4;

enum Item {
    Unassigned(String),
    Household(Box<Household>, bool),
    Resident(Box<Resident>, bool),
    Visit(Box<Visit>),
    Event(Box<StatusEventRow>),
}

/// Pull changes for the phone
#[utoipa::path(
    tag = "sync",
    params(
        PullQuery,
        ("X-App-Version" = String, Header, description = "The phone app's version, e.g. `1.4.2`"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of changes (gzip when `Accept-Encoding: gzip`)", body = PullResponse),
        (status = 403, description = "Officials do not sync (`forbidden`), or `device_id` belongs to another user (`device-not-yours`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The cursor is older than the kept removals: download everything again, keeping unsent changes (`cursor-expired`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit (`validation-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 426, description = "The app is too old (`app-version-unsupported`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sync/pull")]
pub async fn sync_pull(
    state: web::Data<AppState>,
    caller: Caller,
    client: crate::auth::sessions::ClientInfo,
    version: AppVersion,
    query: ApiQuery<PullQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Volunteer, Role::Head, Role::Admin])?;
    let query = query.0;
    let reporting = query.device_id.map(|id| (id.to_string(), query.queued));
    let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
    let full_download = cursor.is_none();
    let auditor = caller.clone();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let retention = Duration::days(i64::from(state.settings.sync.tombstone_days));
    if let Some((device_id, _)) = &reporting {
        // Another user's phone is refused before any of the neighbourhood is read.
        let (device_id, user_id) = (device_id.clone(), caller.user_id.clone());
        state
            .db
            .read(move |conn| device::check_owner(conn, &device_id, &user_id))
            .await?;
    }
    let response = state
        .db
        .read(move |conn| {
            // PostgreSQL's horizon is read before the snapshot is taken (`feed::horizon`).
            let postgres = matches!(conn, DbConnection::Postgresql(_));
            let early = if postgres {
                Some(feed::horizon(conn)?)
            } else {
                None
            };
            conn.transaction(|conn| {
                if postgres {
                    diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        .execute(conn)?;
                }
                let horizon = match early {
                    Some(horizon) => horizon,
                    None => feed::horizon(conn)?,
                };
                pull(conn, &caller, cursor, limit, retention, horizon)
            })
        })
        .await?;
    // The device's sync health is stamped once per pull loop (its last page), and never
    // costs the phone its pull: a failure to stamp is logged, the page is still served.
    if let Some((device_id, queued)) = reporting.filter(|_| !response.has_more) {
        let user_id = auditor.user_id.clone();
        let stamped = state
            .db
            .write(move |conn| record_pull(conn, &device_id, &user_id, &version.0, queued))
            .await;
        if let Err(error) = stamped {
            tracing::warn!(?error, "could not record the device's pull");
        }
    }
    if full_download {
        // A download of everything (a new phone, or after 410) hands a whole
        // neighbourhood's people to one device: on the record, like a list read.
        let households = response.households.upserted.len();
        let residents = response.residents.upserted.len();
        let more = response.has_more;
        state
            .db
            .write(move |conn| {
                crate::audit::record(
                    conn,
                    &auditor.actor(&client),
                    crate::audit::Entry {
                        action: crate::audit::Action::SyncDownloaded,
                        entity_id: None,
                        area_id: auditor.scope.area_id.as_deref(),
                        changes: serde_json::json!({
                            "first_page": {"households": households, "residents": residents},
                            "has_more": more,
                        }),
                    },
                )
            })
            .await?;
    }
    Ok(HttpResponse::Ok().json(response))
}

/// Stamps the device's last pull and what it said was still waiting on it.
fn record_pull(
    conn: &mut DbConnection,
    device_id: &str,
    user_id: &str,
    app_version: &str,
    queued: Option<i32>,
) -> Result<(), ApiError> {
    device::claim(conn, device_id, user_id, app_version)?;
    let at = now();
    diesel::update(crate::schema::devices::table.find(device_id))
        .set(crate::schema::devices::last_pull_at.eq(at))
        .execute(conn)?;
    if let Some(queued) = queued {
        diesel::update(crate::schema::devices::table.find(device_id))
            .set((
                crate::schema::devices::queued_items.eq(queued),
                crate::schema::devices::queued_reported_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn pull(
    conn: &mut DbConnection,
    caller: &Caller,
    cursor: Option<Cursor>,
    limit: i64,
    retention: Duration,
    horizon: i64,
) -> Result<PullResponse, ApiError> {
    let cursor = match cursor {
        Some(cursor) => cursor,
        None => Cursor {
            // Everything at or below this was committed before the download began.
            f: Some(horizon - 1),
            ..Cursor::default()
        },
    };
    if cursor.f.is_none() {
        let expired: i64 = assignment_periods::table
            .filter(assignment_periods::user_id.eq(&caller.user_id))
            .filter(assignment_periods::unassigned_at.lt(now() - retention))
            .filter(assignment_periods::sync_seq.gt(cursor.s))
            .count()
            .get_result(conn)?;
        if expired > 0 {
            return Err(ProblemCode::CursorExpired.into());
        }
    }
    let scope = RecordScope::of(conn, caller)?;
    let mut items = changed_items(conn, caller, &scope, &cursor, horizon, limit + 1)?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let has_more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match items.last() {
        Some(((s, r, i), _)) => Cursor {
            s: *s,
            r: *r,
            i: i.clone(),
            f: cursor.f,
        },
        None => cursor.clone(),
    };
    // A download from scratch is over once it has caught up: later pulls are incremental.
    let next = Cursor {
        f: next.f.filter(|_| has_more),
        ..next
    };
    let fresh = |seq: i64| cursor.f.is_none_or(|since| seq > since);
    let mut response = PullResponse {
        cursor: next.encode(),
        has_more,
        ..PullResponse::default()
    };
    for ((seq, _, _), item) in items {
        match item {
            Item::Unassigned(area_id) => {
                // Assigned again since: the neighbourhood's records come as upserts instead,
                // so no id is both upserted and removed on one page.
                let assigned_again =
                    matches!(&scope, RecordScope::Assigned(areas) if areas.contains(&area_id));
                if !fresh(seq) || assigned_again {
                    continue;
                }
                let ids: Vec<String> = households::table
                    .filter(households::area_id.eq(&area_id))
                    .select(households::id)
                    .load(conn)?;
                for id in ids {
                    response.households.removed.push(Removed {
                        id: parse_uuid(&id)?,
                        reason: RemovalReason::Unassigned,
                    });
                }
            }
            Item::Household(h, deleted) if deleted => {
                if fresh(seq) {
                    response.households.removed.push(Removed {
                        id: parse_uuid(&h.id)?,
                        reason: RemovalReason::Deleted,
                    });
                }
            }
            Item::Household(h, _) => response
                .households
                .upserted
                .push(HouseholdResponse::try_from(*h)?),
            Item::Resident(r, deleted) if deleted => {
                if fresh(seq) {
                    response.residents.removed.push(Removed {
                        id: parse_uuid(&r.id)?,
                        reason: RemovalReason::Deleted,
                    });
                }
            }
            Item::Resident(r, _) => response
                .residents
                .upserted
                .push(ResidentResponse::try_from(*r)?),
            Item::Visit(v) => response.visits.upserted.push(VisitFields::try_from(*v)?),
            Item::Event(e) => response
                .status_events
                .upserted
                .push(StatusEventResponse::try_from(*e)?),
        }
    }
    Ok(response)
}

type Key = (i64, i16, String);

/// Up to `take` items of each kind after the cursor, each with its key.
fn changed_items(
    conn: &mut DbConnection,
    caller: &Caller,
    scope: &RecordScope,
    cursor: &Cursor,
    horizon: i64,
    take: i64,
) -> Result<Vec<(Key, Item)>, ApiError> {
    // After the cursor: a larger stamp, or the same stamp and a later entity or id; and
    // below the horizon.
    macro_rules! after {
        ($query:expr, $seq:expr, $id:expr, $rank:expr) => {{
            let query = $query.filter($seq.lt(horizon));
            if $rank > cursor.r {
                query.filter($seq.ge(cursor.s))
            } else if $rank == cursor.r {
                query.filter(
                    $seq.gt(cursor.s)
                        .or($seq.eq(cursor.s).and($id.gt(cursor.i.clone()))),
                )
            } else {
                query.filter($seq.gt(cursor.s))
            }
        }};
    }
    let mut items: Vec<(Key, Item)> = Vec::new();
    if caller.role == Role::Volunteer {
        let query = assignment_periods::table
            .filter(assignment_periods::user_id.eq(&caller.user_id))
            .filter(assignment_periods::unassigned_at.is_not_null())
            .into_boxed();
        let rows: Vec<(String, String, i64)> = after!(
            query,
            assignment_periods::sync_seq,
            assignment_periods::id,
            UNASSIGNED
        )
        .order((
            assignment_periods::sync_seq.asc(),
            assignment_periods::id.asc(),
        ))
        .limit(take)
        .select((
            assignment_periods::id,
            assignment_periods::area_id,
            assignment_periods::sync_seq,
        ))
        .load(conn)?;
        for (id, area_id, seq) in rows {
            items.push(((seq, UNASSIGNED, id), Item::Unassigned(area_id)));
        }
    }
    let query = filter_by_record_scope!(households::table.into_boxed(), scope);
    let rows: Vec<(Household, i64, bool)> =
        after!(query, households::sync_seq, households::id, HOUSEHOLD)
            .order((households::sync_seq.asc(), households::id.asc()))
            .limit(take)
            .select((
                Household::as_select(),
                households::sync_seq,
                households::deleted_at.is_not_null(),
            ))
            .load(conn)?;
    for (h, seq, deleted) in rows {
        items.push((
            (seq, HOUSEHOLD, h.id.clone()),
            Item::Household(Box::new(h), deleted),
        ));
    }
    let query = filter_by_record_scope!(
        residents::table.inner_join(households::table).into_boxed(),
        scope
    );
    let rows: Vec<(Resident, i64, bool)> =
        after!(query, residents::sync_seq, residents::id, RESIDENT)
            .order((residents::sync_seq.asc(), residents::id.asc()))
            .limit(take)
            .select((
                Resident::as_select(),
                residents::sync_seq,
                residents::deleted_at.is_not_null(),
            ))
            .load(conn)?;
    for (r, seq, deleted) in rows {
        items.push((
            (seq, RESIDENT, r.id.clone()),
            Item::Resident(Box::new(r), deleted),
        ));
    }
    let query = filter_by_record_scope!(
        visits::table.inner_join(households::table).into_boxed(),
        scope
    );
    let rows: Vec<(Visit, i64)> = after!(query, visits::sync_seq, visits::id, VISIT)
        .order((visits::sync_seq.asc(), visits::id.asc()))
        .limit(take)
        .select((Visit::as_select(), visits::sync_seq))
        .load(conn)?;
    for (v, seq) in rows {
        items.push(((seq, VISIT, v.id.clone()), Item::Visit(Box::new(v))));
    }
    let query = filter_by_record_scope!(
        status_events::table
            .inner_join(households::table)
            .into_boxed(),
        scope
    );
    let rows: Vec<(StatusEventRow, i64)> =
        after!(query, status_events::sync_seq, status_events::id, EVENT)
            .order((status_events::sync_seq.asc(), status_events::id.asc()))
            .limit(take)
            .select((StatusEventRow::as_select(), status_events::sync_seq))
            .load(conn)?;
    for (e, seq) in rows {
        items.push(((seq, EVENT, e.id.clone()), Item::Event(Box::new(e))));
    }
    Ok(items)
}
