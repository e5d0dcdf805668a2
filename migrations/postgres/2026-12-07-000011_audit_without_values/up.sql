-- The audit log names the fields a change touched, never their values (an erased person
-- must not live on in it). Rows written before this rule are rewritten once, here: the
-- only time the append-only trigger is lifted.
DROP TRIGGER audit_log_is_append_only ON audit_log;

-- Field diffs {"field": {"from": …, "to": …}} become {"changed": ["field", …]}.
UPDATE audit_log
   SET changes = json_build_object(
           'changed',
           COALESCE((SELECT json_agg(k ORDER BY k) FROM jsonb_object_keys(changes::jsonb) AS k), '[]'::json)
       )::text
 WHERE action IN ('household.updated', 'area.updated', 'user.updated');

-- Creations kept the address, invitations the e-mail address.
UPDATE audit_log
   SET changes = json_build_object('changed', json_build_array('code', 'address', 'head_name', 'phone'))::text
 WHERE action = 'household.created';
UPDATE audit_log
   SET changes = (changes::jsonb - 'email')::text
 WHERE action IN ('invitation.created', 'invitation.revoked');

CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
