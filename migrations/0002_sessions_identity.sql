-- Linked devices for any identity source: a row keeps who its token is for (so a site's own user,
-- IDENTITY=jwt, needs no row in `users`), when its token expires (the cron prunes past rows) and
-- when it was last used (the linked-devices list shows it).
PRAGMA defer_foreign_keys = on;
CREATE TABLE sessions_v2 (
  sid TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  display_name TEXT NOT NULL,
  via TEXT NOT NULL CHECK (via IN ('password', 'qrcode')),
  user_agent TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT '',
  place TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  expires_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
INSERT INTO sessions_v2 (sid, user_id, username, display_name, via, user_agent, ip, place, created_at, expires_at, revoked_at)
  SELECT s.sid, s.user_id, u.username, u.display_name, s.via, s.user_agent, s.ip, s.place, s.created_at,
         strftime('%Y-%m-%dT%H:%M:%fZ', s.created_at, '+7 days'), s.revoked_at
  FROM sessions s JOIN users u ON u.id = s.user_id;
DROP TABLE sessions;
ALTER TABLE sessions_v2 RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions(user_id, created_at);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
