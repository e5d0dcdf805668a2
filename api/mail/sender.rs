//! The background sender: claims due messages from the outbox, delivers them over SMTP (or,
//! in development without SMTP settings, writes them as `.eml` files), and records each
//! attempt. A failed attempt is retried after `retry_base × 2^attempts` (at most an hour)
//! until `max_attempts`, after which the message stays in the outbox as `failed` with its
//! last error. Claims expire, so a node that dies mid-send does not strand a message, and
//! two nodes never send the same message at the same time.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport};
use secrecy::ExposeSecret;

use crate::config::MailSettings;
use crate::db::{now, Db, DbConnection};
use crate::problem::ApiError;
use crate::schema::mail_outbox;

/// How long a claim protects a message being sent.
const CLAIM: Duration = Duration::from_secs(120);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
const BATCH: i64 = 20;

#[derive(Clone)]
pub enum Delivery {
    Smtp(SmtpTransport),
    Files(PathBuf),
}

impl Delivery {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Delivery> {
        match &settings.smtp_url {
            Some(url) => Ok(Delivery::Smtp(
                SmtpTransport::from_url(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            )),
            None => {
                crate::private_files::create_dir(&settings.eml_dir)?;
                Ok(Delivery::Files(settings.eml_dir.clone()))
            }
        }
    }

    /// Sends one message; blocking (run it off the async workers).
    fn send(&self, message: &Message) -> Result<(), String> {
        match self {
            Delivery::Smtp(transport) => transport
                .send(message)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Delivery::Files(dir) => {
                let id = FileTransport::new(dir)
                    .send(message)
                    .map_err(|e| e.to_string())?;
                let path = dir.join(format!("{id}.eml"));
                // The mail carries a live invitation or reset link.
                crate::private_files::restrict_file(&path).map_err(|e| e.to_string())?;
                tracing::info!(path = %path.display(), "e-mail written as a file (no SMTP configured)");
                Ok(())
            }
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
struct Pending {
    id: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    attempts: i32,
}

/// Runs the sender until the process ends.
pub fn spawn(db: Db, delivery: Delivery, settings: MailSettings) {
    actix_web::rt::spawn(async move {
        loop {
            if let Err(error) = deliver_due(&db, &delivery, &settings).await {
                tracing::warn!(%error, "mail sender pass failed");
            }
            actix_web::rt::time::sleep(settings.poll_interval).await;
        }
    });
}

/// One pass: claims and attempts every due message. Returns how many were delivered.
pub async fn deliver_due(
    db: &Db,
    delivery: &Delivery,
    settings: &MailSettings,
) -> Result<usize, ApiError> {
    let claimed = db.write(claim_due).await?;
    let mut delivered = 0;
    for message in claimed {
        let built = build_message(settings, &message);
        let delivery = delivery.clone();
        let outcome = match built {
            Ok(email) => actix_web::web::block(move || delivery.send(&email))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r),
            Err(error) => Err(error),
        };
        let id = message.id.clone();
        let attempts = message.attempts + 1;
        let retry_base = settings.retry_base;
        let max_attempts = settings.max_attempts;
        match outcome {
            Ok(()) => {
                delivered += 1;
                db.write(move |conn| mark_sent(conn, &id, attempts)).await?;
            }
            Err(error) => {
                tracing::warn!(message_id = %message.id, attempts, %error, "e-mail delivery failed");
                db.write(move |conn| {
                    mark_failed(conn, &id, attempts, &error, retry_base, max_attempts)
                })
                .await?;
            }
        }
    }
    Ok(delivered)
}

fn claim_due(conn: &mut DbConnection) -> Result<Vec<Pending>, ApiError> {
    let at = now();
    let due: Vec<Pending> = mail_outbox::table
        .filter(mail_outbox::status.eq("pending"))
        .filter(mail_outbox::next_attempt_at.le(at))
        .filter(
            mail_outbox::claimed_until
                .is_null()
                .or(mail_outbox::claimed_until.lt(at)),
        )
        .order(mail_outbox::next_attempt_at.asc())
        .limit(BATCH)
        .select(Pending::as_select())
        .load(conn)?;
    let until = at + chrono::Duration::from_std(CLAIM).map_err(ApiError::internal)?;
    let mut claimed = Vec::new();
    for message in due {
        let won = diesel::update(
            mail_outbox::table
                .filter(mail_outbox::id.eq(&message.id))
                .filter(
                    mail_outbox::claimed_until
                        .is_null()
                        .or(mail_outbox::claimed_until.lt(at)),
                ),
        )
        .set(mail_outbox::claimed_until.eq(until))
        .execute(conn)?;
        if won == 1 {
            claimed.push(message);
        }
    }
    Ok(claimed)
}

fn build_message(settings: &MailSettings, message: &Pending) -> Result<Message, String> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| format!("EID_MAIL_FROM: {e}"))?;
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| format!("recipient: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(&message.subject)
        .multipart(MultiPart::alternative_plain_html(
            message.body_text.clone(),
            message.body_html.clone(),
        ))
        .map_err(|e| e.to_string())
}

/// Delivered: the bodies (which may hold single-use links) are emptied.
fn mark_sent(conn: &mut DbConnection, id: &str, attempts: i32) -> Result<(), ApiError> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::attempts.eq(attempts),
            mail_outbox::sent_at.eq(now()),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(None::<String>),
            mail_outbox::body_text.eq(""),
            mail_outbox::body_html.eq(""),
        ))
        .execute(conn)?;
    Ok(())
}

fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    error: &str,
    retry_base: Duration,
    max_attempts: i32,
) -> Result<(), ApiError> {
    let delay = backoff(retry_base, attempts);
    let next = now() + chrono::Duration::from_std(delay).map_err(ApiError::internal)?;
    let status = if attempts >= max_attempts {
        "failed"
    } else {
        "pending"
    };
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(status),
            mail_outbox::attempts.eq(attempts),
            mail_outbox::next_attempt_at.eq(next),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(error.chars().take(1000).collect::<String>()),
        ))
        .execute(conn)?;
    Ok(())
}

/// `base × 2^(attempts − 1)`, at most an hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    base.saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped_at_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
    }
}
