-- 0001: the alerting store.
--
-- alerts: one row per alert; the columns are what the API filters on, doc
-- is the whole alert as JSON (alerting.Alert). At most one active alert per
-- key (rule, place, port), enforced by a partial unique index.
-- audit: every transition, append-only; id orders all entries and is the
-- cursor of readers that follow the log (the InfluxDB writer, notifiers).
-- device_state, gateway_state: the engine's checkpoints, written in the same
-- transaction as the alerts they led to, together with the input cursor in
-- meta, so a restart resumes exactly where the last commit left off.
-- Times are Unix milliseconds.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

CREATE TABLE alerts (
	id          INTEGER PRIMARY KEY,
	rule        TEXT NOT NULL,
	severity    INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
	state       TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'acknowledged', 'resolved', 'closed', 'cancelled')),
	place       TEXT NOT NULL,
	port        INTEGER NOT NULL DEFAULT 0,
	district    TEXT NOT NULL DEFAULT '',
	street      TEXT NOT NULL DEFAULT '',
	community   TEXT NOT NULL DEFAULT '',
	building    TEXT NOT NULL DEFAULT '',
	unit        TEXT NOT NULL DEFAULT '',
	device      TEXT NOT NULL DEFAULT '',
	started_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	closed_at   INTEGER NOT NULL DEFAULT 0,
	outcome     TEXT NOT NULL DEFAULT '',
	doc         TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX alerts_active_key ON alerts (rule, place, port)
	WHERE state IN ('pending', 'firing', 'acknowledged');
CREATE INDEX alerts_state ON alerts (state, id);
CREATE INDEX alerts_community ON alerts (community, id);
CREATE INDEX alerts_street ON alerts (street, id);
CREATE INDEX alerts_district ON alerts (district, id);
CREATE INDEX alerts_started ON alerts (started_at);
CREATE INDEX alerts_rectified ON alerts (closed_at) WHERE outcome = 'rectified';

CREATE TABLE audit (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	alert_id   INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	at         INTEGER NOT NULL,
	event_ts   INTEGER NOT NULL DEFAULT 0,
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL,
	from_state TEXT NOT NULL DEFAULT '',
	to_state   TEXT NOT NULL,
	outcome    TEXT NOT NULL DEFAULT '',
	note       TEXT NOT NULL DEFAULT '',
	severity   INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_alert ON audit (alert_id, id);

CREATE TABLE device_state (
	device TEXT PRIMARY KEY,
	state  BLOB NOT NULL
) STRICT;

CREATE TABLE gateway_state (
	gateway TEXT PRIMARY KEY,
	state   BLOB NOT NULL
) STRICT;

CREATE TABLE silences (
	id         INTEGER PRIMARY KEY,
	device     TEXT NOT NULL DEFAULT '',
	building   TEXT NOT NULL DEFAULT '',
	community  TEXT NOT NULL DEFAULT '',
	rules      TEXT NOT NULL DEFAULT '', -- comma-separated; '' for every rule below critical
	reason     TEXT NOT NULL,
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL CHECK (ends_at > starts_at),
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	ended_at   INTEGER NOT NULL DEFAULT 0,
	ended_by   TEXT NOT NULL DEFAULT '',
	location   TEXT NOT NULL DEFAULT '{}', -- alerting.Location of the target, JSON
	CHECK ((device != '') + (building != '') + (community != '') = 1)
) STRICT;
CREATE INDEX silences_ends ON silences (ends_at);

-- API tokens. Only the SHA-256 of a token is stored; the token itself is
-- shown once when it is created. A token belongs to a registry person (its
-- roles and scope come from the registry, live) or, with person '', is a
-- service token whose role and scope are stored here.
CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	hash         BLOB NOT NULL UNIQUE,
	name         TEXT NOT NULL,
	person       TEXT NOT NULL DEFAULT '',
	role         TEXT NOT NULL DEFAULT '',
	scope        TEXT NOT NULL DEFAULT '{}', -- alerting.Scope, JSON
	created_by   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL DEFAULT 0, -- 0: never
	revoked_at   INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0
) STRICT;
