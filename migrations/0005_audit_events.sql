-- The operator's audit log (src/activity/): every security event of every account, as the
-- users' objects recorded it, written here by the AUDIT queue's consumer in batches. `id` is
-- the event's own (`evt_…`): a message the queue delivers twice inserts nothing the second time.
-- Kept AUDIT_RETENTION_DAYS (default 90): the consumer deletes older rows by the index on `at`,
-- at most once an hour. Read it with `npm run audit` or on /admin.
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  -- ISO 8601 in UTC with milliseconds (`toISOString()`): it sorts as the time does.
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL COLLATE NOCASE,
  actor_id TEXT,
  actor_username TEXT,
  sid TEXT,
  device TEXT,
  ip TEXT,
  place TEXT,
  -- JSON object, or NULL.
  detail TEXT
) WITHOUT ROWID;
CREATE INDEX audit_events_by_time ON audit_events(at);
CREATE INDEX audit_events_by_user ON audit_events(username, at);
CREATE INDEX audit_events_by_kind ON audit_events(kind, at);
