-- Volunteers without e-mail: an account is found by its e-mail or by its phone number
-- (normalised to digits, Vietnamese national form 0xxxxxxxxx), at least one of them.
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
ALTER TABLE users ADD COLUMN phone TEXT UNIQUE;
ALTER TABLE users ADD CONSTRAINT users_email_or_phone CHECK (email IS NOT NULL OR phone IS NOT NULL);
