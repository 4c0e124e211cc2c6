-- Webhook events that were not delivered after every retry (about 27.6 hours), kept for an
-- operator: the exact body that was signed and sent, and where it was meant to go. Read them
-- with `wrangler d1 execute DB --remote --command "SELECT * FROM webhook_dead_letters"`.
CREATE TABLE webhook_dead_letters (
  -- The event's `webhook-id`: the queue delivers at least once, so a second copy is ignored.
  webhook_id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  url TEXT,
  dead_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX webhook_dead_letters_by_time ON webhook_dead_letters(dead_at);
