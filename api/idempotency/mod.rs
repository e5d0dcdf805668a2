//! `Idempotency-Key` for creating POSTs: a client that lost the answer to a request sends it
//! again with the same key and gets the stored answer instead of creating twice. The same
//! key with a different request is refused (422); a key whose first request is still being
//! answered gets 409 with `Retry-After`. Keys belong to the signed-in user and live 24
//! hours, in the database so that every API node sees them. Answers of 5xx, 426 and 429
//! are not kept: the client may retry.
//!
//! "In progress" is a short lease held by the node running the request, renewed while it
//! runs: if the node dies, the lease lapses within `LEASE` and the next resend is run
//! (and a node that starts again releases its predecessor's leases at once). A key is
//! therefore never refused for longer than its first request really runs. The window left
//! open: a node killed after the request's own transaction committed but before its
//! answer was stored runs a resend again. The sync push is safe there (its `seq`
//! numbers make the second run answer `duplicate`), as is every create that carries a
//! client-made id (`id-taken`); a REST create with a server-made id could be made twice.
//!
//! A middleware outside the problem renderer, so what it stores and replays is exactly the
//! answer the client got.

use std::collections::BTreeMap;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{now, DbConnection};
use crate::i18n::{Lang, Localized};
use crate::problem::{read_limited, ApiError, ProblemCode};
use crate::schema::idempotency_keys;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// Replayed answers say so.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const LIFETIME_HOURS: i64 = 24;
/// How long an "in progress" mark holds without renewal, and how often it is renewed.
const LEASE: std::time::Duration = std::time::Duration::from_secs(10);
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(3);
/// Tries at recording a request's answer (each on a connection of its own if one broke).
const FINAL_RECORD_ATTEMPTS: u32 = 3;
const REPLAYED_HEADERS: [&str; 2] = ["location", "etag"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    request_hash: String,
    status: Option<i32>,
    content_type: Option<String>,
    response_body: Option<String>,
    response_headers: Option<String>,
    localized_body: Option<String>,
    created_at: chrono::NaiveDateTime,
    lease_until: Option<chrono::NaiveDateTime>,
}

/// A stored answer, as plain data (it crosses to the blocking pool and back).
#[derive(Clone)]
struct Stored {
    status: i32,
    content_type: Option<String>,
    body: Option<String>,
    headers: Option<String>,
    /// `Localized` as JSON, when the body holds user-facing text.
    localized: Option<String>,
}

enum Claim {
    /// First time: answer it and store the answer.
    New,
    Replay(Stored),
    Refused(ApiError),
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(HEADER).cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(key), Some(state), true) = (key, state, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let lang = Lang::from_headers(req.headers());
    let refuse = |req: ServiceRequest, error: ApiError| {
        let path = req.path().to_owned();
        let response = error.response(lang, Some(&path), None);
        Ok(req.into_response(response))
    };
    // Keys belong to a user; without a valid token the handler answers 401, whatever
    // the key looks like (authentication comes before the key's own checks).
    let user_id = crate::auth::bearer_token(req.request())
        .ok()
        .and_then(|token| state.tokens.verify(&token).ok())
        .map(|claims| claims.sub);
    let Some(user_id) = user_id else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
    {
        Some(key) => key.to_owned(),
        None => return refuse(req, ProblemCode::InvalidIdempotencyKey.into()),
    };
    let limit = state.settings.http.max_import_bytes;
    let declared = crate::problem::declared_length(req.request());
    let body = match read_limited(&mut req.take_payload(), declared, limit).await {
        Ok(body) => body.freeze(),
        Err(error) => return refuse(req, error),
    };
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    let request_hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    req.set_payload(Payload::from(body));

    // The lease belongs to this request on this node ("node#request"): a request whose
    // lease was taken over after it lapsed may neither renew it nor store its answer.
    let node = format!("{}#{}", state.node, uuid::Uuid::new_v4());
    let claim = {
        let (user_id, key, request_hash, node) = (
            user_id.clone(),
            key.clone(),
            request_hash.clone(),
            node.clone(),
        );
        state
            .db
            .write(move |conn| claim(conn, &user_id, &key, &request_hash, &node))
            .await
    };
    match claim {
        Err(error) => return refuse(req, error),
        Ok(Claim::Refused(error)) => return refuse(req, error),
        Ok(Claim::Replay(stored)) => return Ok(req.into_response(replay(stored, lang))),
        Ok(Claim::New) => {}
    }

    let res = {
        let answer = next.call(req);
        futures_util::pin_mut!(answer);
        loop {
            tokio::select! {
                res = &mut answer => break res?.map_into_boxed_body(),
                () = actix_web::rt::time::sleep(RENEW_EVERY) => {
                    let (user_id, key, node) = (user_id.clone(), key.clone(), node.clone());
                    let renewed = state.db.write(move |conn| renew(conn, &user_id, &key, &node)).await;
                    if let Err(error) = renewed {
                        tracing::warn!(%error, "idempotency lease not renewed");
                    }
                }
            }
        }
    };
    let status = res.status();
    let (req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let content_type = head
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let kept_headers: BTreeMap<String, String> = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| {
            head.headers()
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect();
    let answer = Stored {
        status: i32::from(status.as_u16()),
        content_type,
        body: String::from_utf8(bytes.to_vec()).ok(),
        headers: serde_json::to_string(&kept_headers).ok(),
        localized: head
            .extensions()
            .get::<Localized>()
            .and_then(|bodies| serde_json::to_string(bodies).ok()),
    };
    // The answer is recorded on a fresh connection if the first one broke (`Db::write`
    // retries only on a sound one): a key left "in progress" would make the client's
    // next resend wait for the lease to lapse, or linger for a day if it never resends.
    for attempt in 1..=FINAL_RECORD_ATTEMPTS {
        let (user_id, key, node, answer) =
            (user_id.clone(), key.clone(), node.clone(), answer.clone());
        let outcome = state
            .db
            .write(move |conn| {
                if !worth_keeping(status) || answer.body.is_none() {
                    release(conn, &user_id, &key, &node)
                } else {
                    remember(conn, &user_id, &key, &node, answer.clone())
                }
            })
            .await;
        match outcome {
            Ok(()) => break,
            Err(error) if error.is_transient() && attempt < FINAL_RECORD_ATTEMPTS => {
                tracing::warn!(%error, attempt, "idempotency answer not recorded; trying again");
            }
            Err(error) => {
                tracing::warn!(%error, "idempotency answer not recorded; its lease will lapse");
                break;
            }
        }
    }
    let response = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(req, response))
}

fn claim(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    request_hash: &str,
    node: &str,
) -> Result<Claim, ApiError> {
    let at = now();
    let lease_until = at + lease();
    let existing: Option<KeyRow> = idempotency_keys::table
        .find((user_id, key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(row) = existing {
        if row.created_at + Duration::hours(LIFETIME_HOURS) < at {
            forget(conn, user_id, key)?;
        } else if row.request_hash != request_hash {
            return Ok(Claim::Refused(ProblemCode::IdempotencyKeyReused.into()));
        } else if let Some(status) = row.status {
            return Ok(Claim::Replay(Stored {
                status,
                content_type: row.content_type,
                body: row.response_body,
                headers: row.response_headers,
                localized: row.localized_body,
            }));
        } else {
            // In progress. A lapsed lease means its node died: take it over, unless
            // another resend just did (the conditional update decides between them).
            let lapsed = row.lease_until.is_none_or(|until| until <= at);
            if lapsed {
                let taken = diesel::update(
                    idempotency_keys::table
                        .find((user_id, key))
                        .filter(idempotency_keys::status.is_null())
                        .filter(
                            idempotency_keys::lease_until
                                .is_null()
                                .or(idempotency_keys::lease_until.le(at)),
                        ),
                )
                .set((
                    idempotency_keys::lease_until.eq(Some(lease_until)),
                    idempotency_keys::holder.eq(Some(node)),
                ))
                .execute(conn)?;
                if taken == 1 {
                    return Ok(Claim::New);
                }
            }
            return Ok(Claim::Refused(in_progress(row.lease_until, at)));
        }
    }
    // Inserted in a savepoint: a concurrent first request with the same key wins the
    // primary key, and this one is then "in progress" rather than an error.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user_id),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::created_at.eq(at),
                idempotency_keys::lease_until.eq(Some(lease_until)),
                idempotency_keys::holder.eq(Some(node)),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(Claim::New),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(Claim::Refused(in_progress(Some(lease_until), at))),
        Err(other) => Err(other.into()),
    }
}

fn lease() -> Duration {
    Duration::from_std(LEASE).unwrap_or_else(|_| Duration::seconds(10))
}

/// 409, with the time until the lease lapses at the latest.
fn in_progress(lease_until: Option<chrono::NaiveDateTime>, at: chrono::NaiveDateTime) -> ApiError {
    let wait = lease_until
        .map(|until| (until - at).num_seconds() + 1)
        .unwrap_or(1)
        .clamp(1, LEASE.as_secs() as i64);
    ApiError::from(ProblemCode::IdempotencyKeyInProgress)
        .with_header(header::RETRY_AFTER, HeaderValue::from(wait))
}

/// Keeps the lease of a request that is still running.
fn renew(conn: &mut DbConnection, user_id: &str, key: &str, holder: &str) -> Result<(), ApiError> {
    diesel::update(held(user_id, key, holder))
        .set(idempotency_keys::lease_until.eq(Some(now() + lease())))
        .execute(conn)?;
    Ok(())
}

/// At start-up: the leases this node held before it stopped belong to requests that no
/// longer run; their resends are answered at once.
pub fn release_leases_of(conn: &mut DbConnection, node: &str) -> Result<usize, ApiError> {
    // Holders are "node#request": the node's own are those from "node#" up to "node$".
    let (from, to) = (format!("{node}#"), format!("{node}$"));
    Ok(diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::status.is_null())
            .filter(idempotency_keys::holder.ge(from))
            .filter(idempotency_keys::holder.lt(to)),
    )
    .set(idempotency_keys::lease_until.eq(None::<chrono::NaiveDateTime>))
    .execute(conn)?)
}

/// Answers that say "not now" are not kept: after an upgrade (426), a pause (429) or a
/// server error (5xx) the same request with the same key must really run again.
fn worth_keeping(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::UPGRADE_REQUIRED
        || status == StatusCode::TOO_MANY_REQUESTS)
}

/// The stored answer, in the resend's language when it was kept in both.
fn replay(stored: Stored, lang: Lang) -> HttpResponse {
    let Stored {
        status,
        content_type,
        body,
        headers,
        localized,
    } = stored;
    let localized: Option<Localized> = localized.and_then(|l| serde_json::from_str(&l).ok());
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut builder = HttpResponse::build(status);
    if let Some(content_type) = content_type {
        builder.insert_header((header::CONTENT_TYPE, content_type));
    }
    let headers: BTreeMap<String, String> = headers
        .and_then(|h| serde_json::from_str(&h).ok())
        .unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            builder.insert_header((name, value));
        }
    }
    builder.insert_header((REPLAYED_HEADER, "true"));
    match localized {
        Some(bodies) => builder
            .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
            .body(bodies.get(lang).to_owned()),
        None => builder.body(body.unwrap_or_default()),
    }
}

fn remember(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    holder: &str,
    answer: Stored,
) -> Result<(), ApiError> {
    diesel::update(held(user_id, key, holder))
        .set((
            idempotency_keys::status.eq(Some(answer.status)),
            idempotency_keys::content_type.eq(answer.content_type),
            idempotency_keys::response_body.eq(answer.body),
            idempotency_keys::response_headers.eq(answer.headers),
            idempotency_keys::localized_body.eq(answer.localized),
        ))
        .execute(conn)?;
    Ok(())
}

fn forget(conn: &mut DbConnection, user_id: &str, key: &str) -> Result<(), ApiError> {
    diesel::delete(idempotency_keys::table.find((user_id, key))).execute(conn)?;
    Ok(())
}

/// An answer not worth keeping: the key is free again, if this request still holds it.
fn release(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    holder: &str,
) -> Result<(), ApiError> {
    diesel::delete(held(user_id, key, holder)).execute(conn)?;
    Ok(())
}

type Held<'a> = diesel::helper_types::Filter<
    diesel::helper_types::Filter<
        diesel::helper_types::Find<idempotency_keys::table, (&'a str, &'a str)>,
        diesel::dsl::IsNull<idempotency_keys::status>,
    >,
    diesel::dsl::Eq<idempotency_keys::holder, &'a str>,
>;

/// The key's row while `holder` still holds its lease.
fn held<'a>(user_id: &'a str, key: &'a str, holder: &'a str) -> Held<'a> {
    idempotency_keys::table
        .find((user_id, key))
        .filter(idempotency_keys::status.is_null())
        .filter(idempotency_keys::holder.eq(holder))
}
