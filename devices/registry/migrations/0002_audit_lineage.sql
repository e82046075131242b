-- 0002: the installers' lifecycle commands.
--
-- registry_audit: every change to the registry made through chargewatch
-- (imports that changed something, device replacements and moves, gateway
-- decommissions), append-only. detail is JSON describing what changed;
-- generation is the registry generation the change produced.
-- device_lineage: which device took whose place. A device replaced by new
-- hardware under the same id has a row with previous_id = device_id; the
-- ingester forgets its seq counter when a new row appears. No foreign keys:
-- history outlives the devices it names. Times are Unix milliseconds.

CREATE TABLE registry_audit (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL CHECK (action IN ('import', 'replace_device', 'move_device', 'decommission_gateway')),
	subject    TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT '{}',
	note       TEXT NOT NULL DEFAULT '',
	generation INTEGER NOT NULL
) STRICT;
CREATE INDEX registry_audit_subject ON registry_audit (subject, id);

CREATE TABLE device_lineage (
	device_id   TEXT NOT NULL,
	previous_id TEXT NOT NULL,
	replaced_at INTEGER NOT NULL,
	audit_id    INTEGER NOT NULL REFERENCES registry_audit (id),
	PRIMARY KEY (device_id, replaced_at)
) STRICT;
CREATE INDEX device_lineage_previous ON device_lineage (previous_id);
