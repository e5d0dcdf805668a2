//! `POST /api/v1/sync/push`: a phone's queued mutations, numbered 1, 2, 3… per device.
//! Each mutation is applied in its own savepoint inside one transaction, so a bad one is
//! rejected alone; the device's `last_seq` and every result are stored in the same
//! transaction as the changes. A mutation numbered at or below `last_seq` is a duplicate;
//! one beyond `last_seq + 1` is rejected with the expected number (`seq-gap`); a rejected
//! one still advances `last_seq`, so one bad item never blocks the queue. Only a
//! permanent failure (the mutation itself is wrong, out of scope or in conflict) is a
//! per-mutation answer; a failure of the server (database, disk, connection) fails the
//! whole push with 503 and commits nothing, because the phone deletes whatever it is
//! told was taken or rejected.

use actix_web::http::header::{ContentType, CONTENT_LANGUAGE};
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use super::device;
use super::AppVersion;
use crate::audit::{self, Action, Actor, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::conflicts::{self, apply_patch, Editable, NewConflict};
use crate::db::{now, DbConnection};
use crate::households::{Household, RecordScope};
use crate::i18n::{Lang, Localized, Text};
use crate::problem::{parse_value, ApiError, EnvelopeJson, Problem, ProblemCode};
use crate::residents::Resident;
use crate::schema::{devices, field_versions, households, residents, sync_mutations, visits};
use crate::state::AppState;

/// Update-body members, as JSON.
type Patch = Map<String, Value>;

/// The phone's clock when it sent the push.
pub const DEVICE_TIME_HEADER: &str = "x-device-time";

/// Below this, a phone's clock is taken as right (network time, not a wrong clock).
const TRUSTED_CLOCK_OFFSET: Duration = Duration::minutes(2);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The phone's id (a UUID made once at first sign-in on the phone).
    pub device_id: uuid::Uuid,
    /// In `seq` order.
    pub mutations: Vec<Mutation>,
}

/// One queued change. `op` and `entity` are checked per mutation, so a mutation this
/// server does not understand is rejected alone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Mutation {
    /// 1, 2, 3… per device, never reused.
    #[schema(minimum = 1)]
    pub seq: i64,
    /// `create`, `update` or `void`.
    #[schema(example = "create")]
    pub op: String,
    /// `household`, `resident` or `visit`.
    #[schema(example = "visit")]
    pub entity: String,
    /// The record's id: a UUIDv7 made on the phone for a create.
    pub id: String,
    /// For `update`: the record's version the edit was made on.
    pub base_version: Option<i32>,
    /// The members of the matching REST body (`CreateHouseholdRequest`,
    /// `UpdateHouseholdRequest`, `CreateResidentRequest` plus `household_id`,
    /// `UpdateResidentRequest`, `RecordVisitRequest`, `VoidVisitRequest`), without `id`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncResult {
    /// Written.
    Applied,
    /// Already taken before (resent); nothing written again.
    Duplicate,
    /// Not (entirely) written because the server has other data; see `problem` and `conflicts`.
    Conflict,
    /// Not written; see `problem`. The phone drops it from its queue and shows why.
    Rejected,
}

impl SyncResult {
    fn as_str(self) -> &'static str {
        match self {
            SyncResult::Applied => "applied",
            SyncResult::Duplicate => "duplicate",
            SyncResult::Conflict => "conflict",
            SyncResult::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Option<SyncResult> {
        match text {
            "applied" => Some(SyncResult::Applied),
            "conflict" => Some(SyncResult::Conflict),
            "rejected" => Some(SyncResult::Rejected),
            _ => None,
        }
    }
}

/// A field the server kept because it changed since the phone's `base_version`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldConflict {
    /// Queued for the neighbourhood head (`GET /api/v1/conflicts`).
    pub conflict_id: uuid::Uuid,
    pub field: String,
    /// The server's value, as update-body members (`{"phone": "0912…"}`).
    #[schema(schema_with = crate::conflicts::member_values_schema)]
    pub server_value: Value,
    /// The phone's value, as update-body members.
    #[schema(schema_with = crate::conflicts::member_values_schema)]
    pub phone_value: Value,
    /// The field's own value the server kept, bare (what a screen shows).
    #[schema(schema_with = crate::conflicts::bare_value_schema)]
    pub kept: Value,
    /// The field's own value the phone entered, bare.
    #[schema(schema_with = crate::conflicts::bare_value_schema)]
    pub entered: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MutationResult {
    pub seq: i64,
    pub id: String,
    pub result: SyncResult,
    /// The household's or resident's version now (applied, conflict, duplicate of a create);
    /// visits have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// For a duplicate: what happened to the mutation the first time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_result: Option<SyncResult>,
    /// For `seq-gap`: the number the server expects next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<i64>,
    /// For an update in conflict: the fields the server kept (the others were applied).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub conflicts: Vec<FieldConflict>,
    /// Why, for conflict and rejected (and duplicate: what the first result was about).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// The problem before it is rendered in the caller's language (`PushResponse::render`).
    #[serde(skip)]
    pub error: Option<ApiError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushResponse {
    pub device_id: uuid::Uuid,
    /// The last mutation number taken: the phone drops every queued mutation up to it.
    pub last_seq: i64,
    /// One per mutation sent, in the order sent.
    pub results: Vec<MutationResult>,
}

impl PushResponse {
    /// The answer's JSON in one language, each result's problem rendered in it.
    fn render(&mut self, lang: Lang) -> Result<String, serde_json::Error> {
        for result in &mut self.results {
            result.problem = result
                .error
                .as_ref()
                .map(|e| e.to_problem(lang, Some("/api/v1/sync/push"), None));
        }
        serde_json::to_string(self)
    }
}

/// Push queued mutations from a phone
#[utoipa::path(
    tag = "sync",
    request_body = PushRequest,
    params(
        ("X-App-Version" = String, Header, description = "The phone app's version, e.g. `1.4.2`"),
        ("X-Device-Time" = Option<String>, Header, description = "The phone's clock at sending (RFC 3339): the server corrects the phone's times by its error. A header, so a resent push keeps its body (and key)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every mutation has a result; every change is committed (and on disk)", body = PushResponse),
        (status = 403, description = "Officials do not sync, or the device belongs to another user (`forbidden`, `device-not-yours`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too many mutations or too many bytes (`sync-batch-too-large`, `payload-too-large`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The envelope is invalid (`validation-failed`), or the Idempotency-Key was used for another body (`idempotency-key-reused`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 426, description = "The app is too old (`app-version-unsupported`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sync/push")]
pub async fn sync_push(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    client: ClientInfo,
    version: AppVersion,
    body: EnvelopeJson<PushRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Volunteer, Role::Head, Role::Admin])?;
    let request = body.0;
    let max = state.settings.sync.max_mutations;
    if request.mutations.len() > max {
        return Err(
            ApiError::from(ProblemCode::SyncBatchTooLarge).with_detail(Text::owned(
                format!("Mỗi lần gửi tối đa {max} thay đổi; hãy chia nhỏ hàng đợi"),
                format!("At most {max} mutations per push; send the queue in parts"),
            )),
        );
    }
    let lang = Lang::from_headers(req.headers());
    let context = Context {
        actor: caller.actor(&client),
        caller,
        hmac_key: state.settings.secrets.citizen_id_key_bytes().to_vec(),
        clock_offset: req
            .headers()
            .get(DEVICE_TIME_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
            .map_or(Duration::zero(), |sent| {
                clock_offset(sent.with_timezone(&Utc), crate::clock::clock().now())
            }),
        device_id: request.device_id.to_string(),
    };
    let mut response = state
        .db
        .write(move |conn| push(conn, &context, &version.0, &request))
        .await?;
    // Rejections are user-facing text: both renderings go with the answer, so that a
    // resend with the same Idempotency-Key is answered in the language it asks for.
    let bodies = Localized::render(|lang| response.render(lang))
        .map_err(|_| ApiError::from(ProblemCode::InternalError))?;
    let mut answer = HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header((CONTENT_LANGUAGE, lang.as_str()))
        .body(bodies.get(lang).to_owned());
    answer.extensions_mut().insert(bodies);
    Ok(answer)
}

/// What every mutation of one push shares.
struct Context {
    caller: Caller,
    actor: Actor,
    hmac_key: Vec<u8>,
    clock_offset: Duration,
    device_id: String,
}

/// How far the phone's clock is behind the server's (negative: ahead); zero when small.
pub fn clock_offset(phone_now: DateTime<Utc>, server_now: DateTime<Utc>) -> Duration {
    let offset = server_now - phone_now;
    if offset.abs() <= TRUSTED_CLOCK_OFFSET {
        Duration::zero()
    } else {
        offset
    }
}

fn push(
    conn: &mut DbConnection,
    context: &Context,
    app_version: &str,
    request: &PushRequest,
) -> Result<PushResponse, ApiError> {
    let device = device::claim(
        conn,
        &context.device_id,
        &context.caller.user_id,
        app_version,
    )?;
    let mut last_seq = device.last_seq;
    let mut results = Vec::with_capacity(request.mutations.len());
    for (index, mutation) in request.mutations.iter().enumerate() {
        let pointer = format!("/mutations/{index}");
        let result = if mutation.seq <= last_seq {
            duplicate_of(conn, context, mutation)?
        } else if mutation.seq != last_seq + 1 {
            MutationResult {
                expected_seq: Some(last_seq + 1),
                ..outcome(
                    mutation,
                    SyncResult::Rejected,
                    Some(ApiError::from(ProblemCode::SeqGap).with_detail(Text::owned(
                        format!("Cần gửi thay đổi số {} trước", last_seq + 1),
                        format!("Mutation {} must be sent first", last_seq + 1),
                    ))),
                )
            }
        } else {
            // A savepoint per mutation: a failure undoes this mutation only.
            let applied = conn.transaction(|conn| {
                apply(conn, context, mutation, &format!("{pointer}/data"))
                    .map_err(|e| under(e, &pointer))
            });
            let result = match applied {
                Ok(done) => done.into_result(mutation),
                // The server failed, not the mutation: the whole push fails (503/500),
                // nothing is kept and `last_seq` stays, so the phone sends it again.
                Err(error) if error.is_server_fault() => return Err(error),
                Err(error) => outcome(mutation, SyncResult::Rejected, Some(error)),
            };
            remember(conn, context, mutation, &result)?;
            last_seq = mutation.seq;
            result
        };
        results.push(result);
    }
    diesel::update(devices::table.find(&context.device_id))
        .set((
            devices::last_seq.eq(last_seq),
            devices::last_push_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(PushResponse {
        device_id: request.device_id,
        last_seq,
        results,
    })
}

/// What applying one mutation did (errors are rejections).
enum Done {
    /// With the record's version (visits have none: they are never edited).
    Applied(Option<i32>),
    /// A create resent under a new number: the record is there with the same content.
    AlreadyThere(Option<i32>),
    Conflict(Option<i32>, Vec<FieldConflict>, ApiError),
}

impl Done {
    fn into_result(self, mutation: &Mutation) -> MutationResult {
        match self {
            Done::Applied(version) => MutationResult {
                version,
                ..outcome(mutation, SyncResult::Applied, None)
            },
            Done::AlreadyThere(version) => MutationResult {
                version,
                original_result: Some(SyncResult::Applied),
                ..outcome(mutation, SyncResult::Duplicate, None)
            },
            Done::Conflict(version, conflicts, problem) => MutationResult {
                version,
                conflicts,
                ..outcome(mutation, SyncResult::Conflict, Some(problem))
            },
        }
    }
}

fn outcome(mutation: &Mutation, result: SyncResult, problem: Option<ApiError>) -> MutationResult {
    MutationResult {
        seq: mutation.seq,
        id: mutation.id.clone(),
        result,
        version: None,
        original_result: None,
        expected_seq: None,
        conflicts: Vec::new(),
        problem: None,
        error: problem,
    }
}

/// A mutation already taken: the result says what happened to it the first time.
fn duplicate_of(
    conn: &mut DbConnection,
    context: &Context,
    mutation: &Mutation,
) -> Result<MutationResult, ApiError> {
    let first: Option<(String, Option<String>)> = sync_mutations::table
        .find((&context.device_id, mutation.seq))
        .select((sync_mutations::result, sync_mutations::problem_code))
        .first(conn)
        .optional()?;
    let original = first.as_ref().and_then(|(r, _)| SyncResult::parse(r));
    let problem = first
        .and_then(|(_, code)| code)
        .and_then(|code| {
            ProblemCode::ALL
                .iter()
                .find(|c| c.as_str() == code)
                .copied()
        })
        .map(ApiError::from);
    Ok(MutationResult {
        original_result: original,
        ..outcome(mutation, SyncResult::Duplicate, problem)
    })
}

fn remember(
    conn: &mut DbConnection,
    context: &Context,
    mutation: &Mutation,
    result: &MutationResult,
) -> Result<(), ApiError> {
    let stored = match result.result {
        SyncResult::Duplicate => SyncResult::Applied,
        other => other,
    };
    diesel::insert_into(sync_mutations::table)
        .values((
            sync_mutations::device_id.eq(&context.device_id),
            sync_mutations::seq.eq(mutation.seq),
            sync_mutations::entity.eq(storable(&mutation.entity)),
            sync_mutations::op.eq(storable(&mutation.op)),
            sync_mutations::entity_id.eq(storable(&mutation.id)),
            sync_mutations::payload_hash.eq(payload_hash(mutation)),
            sync_mutations::result.eq(stored.as_str()),
            sync_mutations::problem_code.eq(result.error.as_ref().map(|e| e.code.as_str())),
            sync_mutations::received_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// An envelope member as kept with the result. A mutation with a hostile `op`, `entity`
/// or `id` (a NUL, which PostgreSQL refuses in text, or kilobytes of it) is rejected, and
/// its record must still be writable: otherwise the rejection would turn into a database
/// failure, a 503 on every resend, and the phone's queue would be stuck behind it. Valid
/// members are short and unchanged.
fn storable(member: &str) -> String {
    member.chars().filter(|c| *c != '\0').take(64).collect()
}

/// What identifies a mutation's content: entity, op, id and data (keys in sorted order).
fn payload_hash(mutation: &Mutation) -> String {
    let mut hasher = Sha256::new();
    hasher.update(mutation.entity.as_bytes());
    hasher.update(b"\n");
    hasher.update(mutation.op.as_bytes());
    hasher.update(b"\n");
    hasher.update(mutation.id.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical(&mutation.data).as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::from(k.as_str()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

fn apply(
    conn: &mut DbConnection,
    context: &Context,
    mutation: &Mutation,
    pointer: &str,
) -> Result<Done, ApiError> {
    let id = parse_id(&mutation.id)?;
    let caller = &context.caller;
    let actor = &context.actor;
    match (mutation.entity.as_str(), mutation.op.as_str()) {
        ("household", "create") => {
            if let Some(done) = existing(conn, caller, mutation, Existing::Household)? {
                return done;
            }
            let mut request: crate::households::create::CreateHouseholdRequest =
                parse_value(&without_id(&mutation.data), pointer)?;
            request.id = Some(id);
            crate::households::create::create(conn, caller, actor, &request)
                .map(|h| Done::Applied(Some(h.version)))
        }
        ("resident", "create") => {
            if let Some(done) = existing(conn, caller, mutation, Existing::Resident)? {
                return done;
            }
            let mut data = without_id(&mutation.data);
            let household_id = take_household_id(&mut data, pointer)?;
            let mut request: crate::residents::create::CreateResidentRequest =
                parse_value(&data, pointer)?;
            request.id = Some(id);
            crate::residents::create::create(
                conn,
                caller,
                actor,
                &context.hmac_key,
                &household_id,
                &request,
            )
            .map(|r| Done::Applied(Some(r.version)))
        }
        ("visit", "create") => {
            if let Some(done) = existing(conn, caller, mutation, Existing::Visit)? {
                return done;
            }
            let mut request: crate::visits::record::RecordVisitRequest =
                parse_value(&without_id(&mutation.data), pointer)?;
            request.id = Some(id);
            correct_clock(&mut request, context.clock_offset);
            crate::visits::record::record(conn, caller, actor, &request)
                .map(|_| Done::Applied(None))
        }
        ("visit", "void") => {
            let request: crate::visits::void::VoidVisitRequest =
                parse_value(&mutation.data, pointer)?;
            crate::visits::void::void(conn, caller, actor, &mutation.id, &request.reason)
                .map(|_| Done::Applied(None))
        }
        ("household", "update") => update(conn, context, mutation, Editable::Household, pointer),
        ("resident", "update") => update(conn, context, mutation, Editable::Resident, pointer),
        _ => Err(
            ApiError::from(ProblemCode::UnknownMutation).with_detail(Text::owned(
                format!(
                    "Không hỗ trợ thao tác '{}' trên '{}'",
                    mutation.op, mutation.entity
                ),
                format!(
                    "'{}' of '{}' is not supported",
                    mutation.op, mutation.entity
                ),
            )),
        ),
    }
}

/// Field errors point into the push body: the envelope's own members (`/id`,
/// `/base_version`) below the mutation, a REST body's members below its `data`.
fn under(mut error: ApiError, mutation: &str) -> ApiError {
    for field in &mut error.errors {
        if field.pointer.starts_with("/mutations/") {
            continue;
        }
        let envelope = field.pointer == "/id" || field.pointer == "/base_version";
        let prefix = if envelope {
            mutation.to_owned()
        } else {
            format!("{mutation}/data")
        };
        field.pointer = format!("{prefix}{}", field.pointer);
    }
    error
}

fn parse_id(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id)
        .ok()
        .filter(|u| u.get_version_num() == 7)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "/id",
                "not-uuid-v7",
                Text::new("Mã định danh phải là UUIDv7", "The id must be a UUIDv7"),
            )
        })
}

fn without_id(data: &Value) -> Value {
    let mut data = data.clone();
    if let Value::Object(map) = &mut data {
        map.remove("id");
    }
    data
}

fn take_household_id(data: &mut Value, pointer: &str) -> Result<String, ApiError> {
    let household_id = data
        .as_object_mut()
        .and_then(|map| map.remove("household_id"))
        .and_then(|v| v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()));
    household_id.map(|u| u.to_string()).ok_or_else(|| {
        ApiError::invalid_field(
            &format!("{pointer}/household_id"),
            "required",
            Text::new("Cần mã hộ gia đình", "The household id is required"),
        )
    })
}

/// Times the phone took from its own clock, moved by the measured clock error: a phone
/// three days fast records the same visit as a phone with the right time.
fn correct_clock(request: &mut crate::visits::record::RecordVisitRequest, offset: Duration) {
    if offset.is_zero() {
        return;
    }
    let shift = |day: NaiveDate| (day.and_hms_opt(12, 0, 0).unwrap_or_default() + offset).date();
    request.visited_at += offset;
    for event in &mut request.events {
        event.effective_on = shift(event.effective_on);
        event.issued_on = event.issued_on.map(shift);
    }
}

#[derive(Clone, Copy)]
enum Existing {
    Household,
    Resident,
    Visit,
}

/// A create whose id the server already has: the same create resent by this user (under a
/// new number, after the phone lost its state) is a duplicate; a record the caller cannot
/// see answers as if it did not exist — its version would tell that it does, and where;
/// a deleted record is not re-created; anything else is a different record with the same
/// id.
fn existing(
    conn: &mut DbConnection,
    caller: &Caller,
    mutation: &Mutation,
    kind: Existing,
) -> Result<Option<Result<Done, ApiError>>, ApiError> {
    // (version, deleted, the household it belongs to)
    let found: Option<(Option<i32>, bool, String)> = match kind {
        Existing::Household => households::table
            .find(&mutation.id)
            .select((households::version, households::deleted_at.is_not_null()))
            .first::<(i32, bool)>(conn)
            .optional()?
            .map(|(v, d)| (Some(v), d, mutation.id.clone())),
        Existing::Resident => residents::table
            .find(&mutation.id)
            .select((
                residents::version,
                residents::deleted_at.is_not_null(),
                residents::household_id,
            ))
            .first::<(i32, bool, String)>(conn)
            .optional()?
            .map(|(v, d, h)| (Some(v), d, h)),
        Existing::Visit => visits::table
            .find(&mutation.id)
            .select(visits::household_id)
            .first::<String>(conn)
            .optional()?
            .map(|h| (None, false, h)),
    };
    let Some((version, deleted, household_id)) = found else {
        return Ok(None);
    };
    let same: i64 = sync_mutations::table
        .inner_join(
            crate::schema::devices::table
                .on(crate::schema::devices::id.eq(sync_mutations::device_id)),
        )
        .filter(crate::schema::devices::user_id.eq(&caller.user_id))
        .filter(sync_mutations::entity_id.eq(&mutation.id))
        .filter(sync_mutations::op.eq("create"))
        .filter(sync_mutations::result.eq("applied"))
        .filter(sync_mutations::payload_hash.eq(payload_hash(mutation)))
        .count()
        .get_result(conn)?;
    if same > 0 && !deleted {
        return Ok(Some(Ok(Done::AlreadyThere(version))));
    }
    let household: Option<Household> = households::table
        .find(&household_id)
        .select(Household::as_select())
        .first(conn)
        .optional()?;
    let visible =
        household.is_some_and(|h| RecordScope::of(conn, caller).is_ok_and(|s| s.contains(&h)));
    if !visible {
        return Ok(Some(Err(match kind {
            Existing::Household => ProblemCode::HouseholdNotFound.into(),
            Existing::Resident => ProblemCode::ResidentNotFound.into(),
            Existing::Visit => ProblemCode::VisitNotFound.into(),
        })));
    }
    if deleted {
        return Ok(Some(Err(ProblemCode::RecordDeleted.into())));
    }
    Ok(Some(Ok(Done::Conflict(
        version,
        Vec::new(),
        ProblemCode::IdConflict.into(),
    ))))
}

/// An offline edit: members equal to the server's are dropped, members whose field nobody
/// changed since `base_version` are applied, the others are kept as on the server and
/// queued as conflicts for the head.
fn update(
    conn: &mut DbConnection,
    context: &Context,
    mutation: &Mutation,
    entity: Editable,
    pointer: &str,
) -> Result<Done, ApiError> {
    let Some(base_version) = mutation.base_version else {
        return Err(ApiError::invalid_field(
            "/base_version",
            "required",
            Text::new(
                "Sửa dữ liệu cần base_version",
                "An update needs base_version",
            ),
        ));
    };
    let Value::Object(data) = &mutation.data else {
        return Err(ApiError::invalid_field(
            pointer,
            "invalid-type",
            Text::new("Cần một đối tượng JSON", "A JSON object is required"),
        ));
    };
    // The whole edit must be valid, conflicting members included.
    match entity {
        Editable::Household => parse_value::<crate::households::update::UpdateHouseholdRequest>(
            &mutation.data,
            pointer,
        )
        .map(|_| ())?,
        Editable::Resident => {
            parse_value::<crate::residents::update::UpdateResidentRequest>(&mutation.data, pointer)
                .map(|_| ())?
        }
    }
    let (household, version, server) = current(conn, &context.caller, entity, &mutation.id)?;
    if base_version > version || base_version < 1 {
        return Err(ApiError::invalid_field(
            "/base_version",
            "unknown-version",
            Text::new(
                "base_version không phải một phiên bản đã có",
                "base_version is not a version the record had",
            ),
        ));
    }
    let changed: Vec<(String, i32)> = field_versions::table
        .filter(field_versions::entity_id.eq(&mutation.id))
        .select((field_versions::field, field_versions::version))
        .load(conn)?;
    let changed_since_base =
        |field: &str| changed.iter().any(|(f, v)| f == field && *v > base_version);
    let mut apply_now = Map::new();
    // Per conflicting field: the server's members and the phone's.
    let mut conflicting: Vec<(&'static str, Patch, Patch)> = Vec::new();
    for (member, value) in data {
        match entity.field_of(member) {
            Some(_) if server.get(member) == Some(value) => {}
            Some(field) if changed_since_base(field) => {
                let position = match conflicting.iter().position(|(f, _, _)| *f == field) {
                    Some(position) => position,
                    None => {
                        conflicting.push((field, Map::new(), Map::new()));
                        conflicting.len() - 1
                    }
                };
                let (_, server_value, phone_value) = &mut conflicting[position];
                server_value.insert(
                    member.clone(),
                    server.get(member).cloned().unwrap_or(Value::Null),
                );
                phone_value.insert(member.clone(), value.clone());
            }
            _ => {
                apply_now.insert(member.clone(), value.clone());
            }
        }
    }
    let version = apply_patch(
        conn,
        &context.caller,
        &context.actor,
        &context.hmac_key,
        entity,
        &mutation.id,
        version,
        &apply_now,
        pointer,
    )?;
    if conflicting.is_empty() {
        return Ok(Done::Applied(Some(version)));
    }
    let mut conflicts = Vec::new();
    for (field, server_value, phone_value) in &conflicting {
        let conflict_id = conflicts::record(
            conn,
            NewConflict {
                household: &household,
                entity,
                entity_id: &mutation.id,
                field,
                server_value,
                phone_value,
                base_version,
                server_version: version,
                device_id: &context.device_id,
                seq: mutation.seq,
                recorded_by: &context.caller.user_id,
            },
        )?;
        audit::record(
            conn,
            &context.actor,
            Entry {
                action: Action::ConflictRecorded,
                entity_id: Some(&mutation.id),
                area_id: Some(&household.area_id),
                changes: json!({"conflict_id": conflict_id, "field": field}),
            },
        )?;
        conflicts.push(FieldConflict {
            conflict_id: crate::areas::parse_uuid(&conflict_id)?,
            field: (*field).to_owned(),
            server_value: Value::Object(server_value.clone()),
            phone_value: Value::Object(phone_value.clone()),
            kept: crate::conflicts::bare_value(&Value::Object(server_value.clone()), field),
            entered: crate::conflicts::bare_value(&Value::Object(phone_value.clone()), field),
        });
    }
    let fields: Vec<&str> = conflicting.iter().map(|(f, _, _)| *f).collect();
    let problem = ApiError::from(ProblemCode::FieldConflict).with_detail(Text::owned(
        format!(
            "Giữ giá trị trên máy chủ cho: {}; trưởng khu phố sẽ xem xét",
            fields.join(", ")
        ),
        format!(
            "The server's value was kept for: {}; the head will review it",
            fields.join(", ")
        ),
    ));
    Ok(Done::Conflict(Some(version), conflicts, problem))
}

/// The record an edit is for, in the caller's scope: its household, version and editable
/// members. A deleted one is `record-deleted`.
fn current(
    conn: &mut DbConnection,
    caller: &Caller,
    entity: Editable,
    id: &str,
) -> Result<(Household, i32, Map<String, Value>), ApiError> {
    let scope = RecordScope::of(conn, caller)?;
    match entity {
        Editable::Household => {
            let found: Option<(Household, bool)> = households::table
                .find(id)
                .select((Household::as_select(), households::deleted_at.is_not_null()))
                .first(conn)
                .optional()?;
            match found.filter(|(h, _)| scope.contains(h)) {
                None => Err(ProblemCode::HouseholdNotFound.into()),
                Some((_, true)) => Err(ProblemCode::RecordDeleted.into()),
                Some((h, false)) => {
                    let members = conflicts::household_members(&h);
                    let version = h.version;
                    Ok((h, version, members))
                }
            }
        }
        Editable::Resident => {
            let found: Option<(Resident, Household, bool)> = residents::table
                .inner_join(households::table)
                .filter(residents::id.eq(id))
                .select((
                    Resident::as_select(),
                    Household::as_select(),
                    residents::deleted_at
                        .is_not_null()
                        .or(households::deleted_at.is_not_null()),
                ))
                .first(conn)
                .optional()?;
            match found.filter(|(_, h, _)| scope.contains(h)) {
                None => Err(ProblemCode::ResidentNotFound.into()),
                Some((_, _, true)) => Err(ProblemCode::RecordDeleted.into()),
                Some((r, h, false)) => {
                    let members = conflicts::resident_members(&r);
                    Ok((h, r.version, members))
                }
            }
        }
    }
}
