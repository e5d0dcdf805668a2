-- An answer whose body holds user-facing text (a problem, a push's rejections) is kept in
-- both languages, as JSON {"vi": body, "en": body}: a resend is answered in the language
-- it asks for, not in the first request's. NULL: the body does not depend on the language.
ALTER TABLE idempotency_keys ADD COLUMN localized_body TEXT;
