-- The audit log names the fields a change touched, never their values (an erased person
-- must not live on in it). Rows written before this rule are rewritten once, here: the
-- only time the append-only triggers are lifted.
DROP TRIGGER audit_log_is_append_only_update;

-- Field diffs {"field": {"from": …, "to": …}} become {"changed": ["field", …]}.
UPDATE audit_log
   SET changes = json_object(
           'changed',
           (SELECT json_group_array(key) FROM (SELECT key FROM json_each(audit_log.changes) ORDER BY key))
       )
 WHERE action IN ('household.updated', 'area.updated', 'user.updated');

-- Creations kept the address, invitations the e-mail address.
UPDATE audit_log
   SET changes = json_object('changed', json_array('code', 'address', 'head_name', 'phone'))
 WHERE action = 'household.created';
UPDATE audit_log
   SET changes = json_remove(changes, '$.email')
 WHERE action IN ('invitation.created', 'invitation.revoked');

CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
