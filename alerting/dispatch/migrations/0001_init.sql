-- chargewatch dispatch schema, version 1. The tables are prefixed dispatch_
-- and versioned in dispatch_migrations, so that they can share a database
-- file with the alert store.

-- Key/value state: the audit cursor, the generated ack-link key.
CREATE TABLE dispatch_meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

-- The alerts the dispatcher follows (fired, not closed, not silenced) and
-- where each is on its escalation ladder. Times are Unix ms, wall time.
CREATE TABLE dispatch_alerts (
	alert_id    INTEGER PRIMARY KEY,
	doc         TEXT    NOT NULL,              -- the alert as last committed by the engine (JSON)
	ladder      TEXT    NOT NULL,              -- the ladder's key: a severity or a rule
	phase       TEXT    NOT NULL,              -- waiting (group wait), active (on the ladder), stopped
	due_at      INTEGER NOT NULL DEFAULT 0,    -- waiting: when its group's first notice goes out
	start_level INTEGER NOT NULL DEFAULT 0,    -- the level of its first notice (1 for a relapse)
	base_at     INTEGER NOT NULL DEFAULT 0,    -- level i is due at base_at + after(i)
	level       INTEGER NOT NULL DEFAULT -1,   -- highest level reached; -1 none
	next_remind INTEGER NOT NULL DEFAULT 0,    -- next reminder; 0 none
	reminders   INTEGER NOT NULL DEFAULT 0,
	notified    TEXT    NOT NULL DEFAULT '[]', -- person ids told so far (JSON)
	updated_at  INTEGER NOT NULL
) STRICT;

-- The outbox: one row per message to one contact, written before it is
-- sent; the row is its delivery receipt.
CREATE TABLE dispatch_outbox (
	id          INTEGER PRIMARY KEY,
	created_at  INTEGER NOT NULL,
	kind        TEXT    NOT NULL,              -- firing, escalation, reminder, acknowledged, resolved, forward
	channel     TEXT    NOT NULL,              -- sms, webhook, wecom, dingtalk, alertmanager
	person      TEXT    NOT NULL DEFAULT '',   -- registry person; '' for forwards
	address     TEXT    NOT NULL DEFAULT '',   -- contact address (phone, URL) as in the registry
	level       INTEGER NOT NULL DEFAULT 0,
	severity    INTEGER NOT NULL DEFAULT 0,    -- highest of its alerts'; critical goes first
	message     BLOB    NOT NULL,              -- notify.Message (JSON), rendered
	fallback    TEXT    NOT NULL DEFAULT '[]', -- the person's further contacts, in order (JSON)
	fallback_of INTEGER NOT NULL DEFAULT 0,    -- the row this one falls back from
	status      TEXT    NOT NULL,              -- pending, sent, failed, cancelled
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,              -- pending: not before
	last_error  TEXT    NOT NULL DEFAULT '',   -- redacted
	sent_at     INTEGER NOT NULL DEFAULT 0,
	done_at     INTEGER NOT NULL DEFAULT 0     -- when it left pending
) STRICT;
CREATE INDEX dispatch_outbox_pending ON dispatch_outbox (next_at) WHERE status = 'pending';
CREATE INDEX dispatch_outbox_done ON dispatch_outbox (done_at) WHERE status <> 'pending';
CREATE INDEX dispatch_outbox_person ON dispatch_outbox (person, id);

-- Which alerts each message is about.
CREATE TABLE dispatch_outbox_alerts (
	alert_id  INTEGER NOT NULL,
	outbox_id INTEGER NOT NULL REFERENCES dispatch_outbox (id) ON DELETE CASCADE,
	PRIMARY KEY (alert_id, outbox_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX dispatch_outbox_alerts_outbox ON dispatch_outbox_alerts (outbox_id);

-- Acknowledgement links that have been used (each works once).
CREATE TABLE dispatch_ack_used (
	nonce      BLOB    PRIMARY KEY,
	person     TEXT    NOT NULL,
	used_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
