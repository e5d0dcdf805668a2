//! E-mail that is never lost: a message is written to the outbox table in the transaction
//! of the action that causes it (an invitation, a reset request), and the background
//! sender delivers it later, retrying with exponential backoff while SMTP is down.

pub mod sender;
pub mod templates;

use diesel::prelude::*;

use crate::db::{new_id, now, DbConnection};
use crate::problem::ApiError;
use crate::schema::mail_outbox;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues a message; call it inside the transaction of the action that sends it.
pub fn enqueue(conn: &mut DbConnection, email: &Email) -> Result<(), ApiError> {
    let at = now();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(new_id()),
            mail_outbox::created_at.eq(at),
            mail_outbox::recipient.eq(&email.to),
            mail_outbox::subject.eq(&email.subject),
            mail_outbox::body_text.eq(&email.text),
            mail_outbox::body_html.eq(&email.html),
            mail_outbox::status.eq("pending"),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
