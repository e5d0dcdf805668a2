-- Back to e-mail only: an account known only by its phone gets a placeholder address that
-- cannot receive mail (nothing is deleted, so nothing that refers to it breaks).
ALTER TABLE users DROP CONSTRAINT users_email_or_phone;
UPDATE users SET email = phone || '@phone.invalid' WHERE email IS NULL;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
