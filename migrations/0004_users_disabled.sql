-- An account that an operator disabled (`npm run accounts -- disable <username>`): it can no
-- longer sign in, and answers exactly as an unknown username does. NULL: the account is active.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
