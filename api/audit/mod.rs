//! The audit log: an append-only trail of every sensitive action, written in the same
//! transaction as the action itself, so an action without its trace (or a trace without its
//! action) cannot exist. Rows never hold passwords, tokens or full citizen IDs.

pub mod list;

use diesel::prelude::*;
use serde_json::Value;

use crate::db::{new_id, now, DbConnection};
use crate::problem::ApiError;
use crate::schema::{audit_log, users};

/// Every action that leaves a trace. The string is what `GET /api/v1/audit` shows and
/// filters on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Login,
    LoginFailed,
    LoginThrottled,
    TokenRefreshed,
    RefreshTokenReused,
    Logout,
    PasswordResetRequested,
    PasswordResetCompleted,
    UserCreated,
    UserUpdated,
    UserDisabled,
    VolunteerAssigned,
    VolunteerUnassigned,
    InvitationCreated,
    InvitationRevoked,
    InvitationAccepted,
    SessionRevoked,
    AreaCreated,
    AreaUpdated,
    ReorganisationCreated,
    ReorganisationApplied,
    ReorganisationCancelled,
    SignOffCreated,
    SignOffReopened,
    ReportTemplateUploaded,
    DataRequestReceived,
    DataRequestAcknowledged,
    DataRequestExtended,
    DataRequestClosed,
    DataRequestListRead,
    BreachRecorded,
    BreachNotified,
    HouseholdCreated,
    HouseholdUpdated,
    HouseholdDeleted,
    HouseholdListRead,
    ResidentCreated,
    ResidentUpdated,
    ResidentDeleted,
    ResidentErased,
    ResidentListRead,
    VisitRecorded,
    VisitVoided,
    StatusRecorded,
    RegisterImported,
    RegisterExported,
    DuplicateMerged,
    DuplicateDismissed,
    TargetsUpdated,
    FiguresExported,
    DigestSent,
    ConflictRecorded,
    ConflictResolved,
    SyncDownloaded,
    DuplicateListRead,
    ActivationListExported,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Login,
        Action::LoginFailed,
        Action::LoginThrottled,
        Action::TokenRefreshed,
        Action::RefreshTokenReused,
        Action::Logout,
        Action::PasswordResetRequested,
        Action::PasswordResetCompleted,
        Action::UserCreated,
        Action::UserUpdated,
        Action::UserDisabled,
        Action::VolunteerAssigned,
        Action::VolunteerUnassigned,
        Action::InvitationCreated,
        Action::InvitationRevoked,
        Action::InvitationAccepted,
        Action::SessionRevoked,
        Action::AreaCreated,
        Action::AreaUpdated,
        Action::ReorganisationCreated,
        Action::ReorganisationApplied,
        Action::ReorganisationCancelled,
        Action::SignOffCreated,
        Action::SignOffReopened,
        Action::ReportTemplateUploaded,
        Action::DataRequestReceived,
        Action::DataRequestAcknowledged,
        Action::DataRequestExtended,
        Action::DataRequestClosed,
        Action::DataRequestListRead,
        Action::BreachRecorded,
        Action::BreachNotified,
        Action::HouseholdCreated,
        Action::HouseholdUpdated,
        Action::HouseholdDeleted,
        Action::HouseholdListRead,
        Action::ResidentCreated,
        Action::ResidentUpdated,
        Action::ResidentDeleted,
        Action::ResidentErased,
        Action::ResidentListRead,
        Action::VisitRecorded,
        Action::VisitVoided,
        Action::StatusRecorded,
        Action::RegisterImported,
        Action::RegisterExported,
        Action::DuplicateMerged,
        Action::DuplicateDismissed,
        Action::TargetsUpdated,
        Action::FiguresExported,
        Action::DigestSent,
        Action::ConflictRecorded,
        Action::ConflictResolved,
        Action::SyncDownloaded,
        Action::DuplicateListRead,
        Action::ActivationListExported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "auth.login",
            Action::LoginFailed => "auth.login_failed",
            Action::LoginThrottled => "auth.login_throttled",
            Action::TokenRefreshed => "auth.token_refreshed",
            Action::RefreshTokenReused => "auth.refresh_token_reused",
            Action::Logout => "auth.logout",
            Action::PasswordResetRequested => "auth.password_reset_requested",
            Action::PasswordResetCompleted => "auth.password_reset_completed",
            Action::UserCreated => "user.created",
            Action::UserUpdated => "user.updated",
            Action::UserDisabled => "user.disabled",
            Action::VolunteerAssigned => "user.assigned",
            Action::VolunteerUnassigned => "user.unassigned",
            Action::InvitationCreated => "invitation.created",
            Action::InvitationRevoked => "invitation.revoked",
            Action::InvitationAccepted => "invitation.accepted",
            Action::SessionRevoked => "session.revoked",
            Action::AreaCreated => "area.created",
            Action::AreaUpdated => "area.updated",
            Action::ReorganisationCreated => "reorganisation.created",
            Action::ReorganisationApplied => "reorganisation.applied",
            Action::ReorganisationCancelled => "reorganisation.cancelled",
            Action::SignOffCreated => "sign_off.created",
            Action::SignOffReopened => "sign_off.reopened",
            Action::ReportTemplateUploaded => "report_template.uploaded",
            Action::DataRequestReceived => "data_request.received",
            Action::DataRequestAcknowledged => "data_request.acknowledged",
            Action::DataRequestExtended => "data_request.extended",
            Action::DataRequestClosed => "data_request.closed",
            Action::DataRequestListRead => "data_request.list_read",
            Action::BreachRecorded => "breach.recorded",
            Action::BreachNotified => "breach.notified",
            Action::HouseholdCreated => "household.created",
            Action::HouseholdUpdated => "household.updated",
            Action::HouseholdDeleted => "household.deleted",
            Action::HouseholdListRead => "household.list_read",
            Action::ResidentCreated => "resident.created",
            Action::ResidentUpdated => "resident.updated",
            Action::ResidentDeleted => "resident.deleted",
            Action::ResidentErased => "resident.erased",
            Action::ResidentListRead => "resident.list_read",
            Action::VisitRecorded => "visit.recorded",
            Action::VisitVoided => "visit.voided",
            Action::StatusRecorded => "status.recorded",
            Action::RegisterImported => "register.imported",
            Action::RegisterExported => "register.exported",
            Action::DuplicateMerged => "duplicate.merged",
            Action::DuplicateDismissed => "duplicate.dismissed",
            Action::TargetsUpdated => "area.targets_updated",
            Action::FiguresExported => "area.figures_exported",
            Action::DigestSent => "digest.sent",
            Action::ConflictRecorded => "conflict.recorded",
            Action::ConflictResolved => "conflict.resolved",
            Action::SyncDownloaded => "sync.downloaded",
            Action::DuplicateListRead => "duplicate.list_read",
            Action::ActivationListExported => "activation_list.exported",
        }
    }

    /// The kind of record the action is about.
    pub fn entity(self) -> &'static str {
        let name = self.as_str();
        match name.split('.').next() {
            Some("auth") => "user",
            Some(prefix) => prefix,
            None => name,
        }
    }
}

/// Who did it and from where.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub client_ip: Option<String>,
}

impl Actor {
    pub fn new(user_id: Option<&str>, client_ip: Option<&str>) -> Actor {
        Actor {
            user_id: user_id.map(str::to_owned),
            client_ip: client_ip.map(str::to_owned),
        }
    }
}

/// One audit row.
pub struct Entry<'a> {
    pub action: Action,
    pub entity_id: Option<&'a str>,
    pub area_id: Option<&'a str>,
    pub changes: Value,
}

/// Appends one row; call it inside the action's transaction.
pub fn record(conn: &mut DbConnection, actor: &Actor, entry: Entry) -> Result<(), ApiError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::occurred_at.eq(now()),
            audit_log::actor_id.eq(&actor.user_id),
            audit_log::action.eq(entry.action.as_str()),
            audit_log::entity.eq(entry.action.entity()),
            audit_log::entity_id.eq(entry.entity_id),
            audit_log::area_id.eq(entry.area_id),
            audit_log::client_ip.eq(&actor.client_ip),
            audit_log::changes.eq(entry.changes.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records an action about a user account, filed under the account's area.
pub fn record_for_user(
    conn: &mut DbConnection,
    actor: &Actor,
    action: Action,
    user_id: &str,
    changes: Value,
) -> Result<(), ApiError> {
    let area_id: Option<String> = users::table
        .find(user_id)
        .select(users::area_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    record(
        conn,
        actor,
        Entry {
            action,
            entity_id: Some(user_id),
            area_id: area_id.as_deref(),
            changes,
        },
    )
}

/// `{"changed": ["field", …]}`: the names of the fields whose value differs, never the
/// values. The log is append-only and kept for years; an erased person (or a volunteer's
/// phone number) must not live on in it.
pub fn diff(fields: &[(&str, Value, Value)]) -> Value {
    let changed: Vec<&str> = fields
        .iter()
        .filter(|(_, from, to)| from != to)
        .map(|(name, _, _)| *name)
        .collect();
    serde_json::json!({ "changed": changed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn action_names_are_unique_and_name_their_entity() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.as_str()));
            assert!(!action.entity().is_empty());
        }
        assert_eq!(Action::Login.entity(), "user");
        assert_eq!(Action::InvitationAccepted.entity(), "invitation");
    }

    #[test]
    fn a_diff_lists_only_changed_fields() {
        let changes = diff(&[
            ("name", json!("A"), json!("B")),
            ("role", json!("head"), json!("head")),
        ]);
        assert_eq!(changes, json!({"changed": ["name"]}));
    }
}
