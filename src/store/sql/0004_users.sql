-- accessline schema, migration 4: users and roles (issue 7). Released migrations are never edited.
--
-- Who may sign in on this device and with which role. The PIN never comes here: it protects the
-- user's slot in the key file (`<db>.keys`, docs/security.md). Users are disabled, never
-- deleted, so the names in the audit log keep meaning someone.
CREATE TABLE users (
    name          TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('screener', 'supervisor', 'admin')),
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    disabled_at   TEXT,
    disabled_by   TEXT
) WITHOUT ROWID;

CREATE TRIGGER users_no_delete BEFORE DELETE ON users
BEGIN
    SELECT RAISE(ABORT, 'users are disabled, never deleted');
END;

CREATE TRIGGER users_identity_fixed BEFORE UPDATE OF name, created_at, created_by ON users
BEGIN
    SELECT RAISE(ABORT, 'a user''s name and creation are fixed');
END;
