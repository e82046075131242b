-- 0001: the whole registry schema.
--
-- Places: districts > streets > communities > buildings > units. Gateways and
-- devices sit in a unit, or in a building when they serve all of it. People
-- have roles, scopes (communities, streets, districts), contacts and duty
-- rosters. Ids follow the wire contract: [a-z0-9][a-z0-9._-]{0,63}.
-- meta.generation goes up by one with every committed change, so that
-- running servers notice and reload.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;

INSERT INTO meta (key, value) VALUES ('generation', 0);

CREATE TABLE districts (
	id   TEXT PRIMARY KEY,
	name TEXT NOT NULL
) STRICT;

CREATE TABLE streets (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	district_id TEXT NOT NULL REFERENCES districts (id)
) STRICT;
CREATE INDEX streets_district ON streets (district_id);

CREATE TABLE communities (
	id        TEXT PRIMARY KEY,
	name      TEXT NOT NULL,
	street_id TEXT NOT NULL REFERENCES streets (id)
) STRICT;
CREATE INDEX communities_street ON communities (street_id);

CREATE TABLE buildings (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	community_id TEXT NOT NULL REFERENCES communities (id),
	address      TEXT NOT NULL DEFAULT '',
	lat          REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
	lon          REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
	floors       INTEGER NOT NULL DEFAULT 0 CHECK (floors >= 0) -- 0: not known
) STRICT;
CREATE INDEX buildings_community ON buildings (community_id);

CREATE TABLE units (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL DEFAULT '',
	building_id TEXT NOT NULL REFERENCES buildings (id),
	type        TEXT NOT NULL CHECK (type IN ('residential', 'shop', 'workshop', 'charging_room')),
	mixed_use   INTEGER NOT NULL DEFAULT 0 CHECK (mixed_use IN (0, 1)), -- living and business in one ("three-in-one")
	floor       INTEGER NOT NULL DEFAULT 0, -- 1 is the ground floor, -1 the first basement, 0 not known
	room        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX units_building ON units (building_id);

CREATE TABLE gateways (
	id             TEXT PRIMARY KEY, -- also its MQTT username and client id
	name           TEXT NOT NULL DEFAULT '',
	description    TEXT NOT NULL DEFAULT '',
	building_id    TEXT REFERENCES buildings (id),
	unit_id        TEXT REFERENCES units (id),
	-- 1 for a device that connects by itself: the gateway is the device.
	self_connected INTEGER NOT NULL DEFAULT 0 CHECK (self_connected IN (0, 1)),
	-- MQTT password hash in crypt format, for the broker's password file.
	password_hash  TEXT,
	CHECK ((building_id IS NULL) <> (unit_id IS NULL))
) STRICT;
CREATE INDEX gateways_building ON gateways (building_id);
CREATE INDEX gateways_unit ON gateways (unit_id);

CREATE TABLE devices (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL DEFAULT '',
	kind            TEXT NOT NULL CHECK (kind IN ('meter', 'monitor', 'pile', 'smoke', 'plug')),
	model           TEXT NOT NULL DEFAULT '',
	gateway_id      TEXT NOT NULL REFERENCES gateways (id),
	building_id     TEXT REFERENCES buildings (id),
	unit_id         TEXT REFERENCES units (id),
	rated_current_a REAL, -- breaker rating for overload detection; NULL if none
	interval_ms     INTEGER NOT NULL CHECK (interval_ms > 0), -- expected time between readings
	port_count      INTEGER NOT NULL DEFAULT 1 CHECK (port_count BETWEEN 1 AND 64),
	CHECK ((building_id IS NULL) <> (unit_id IS NULL))
) STRICT;
CREATE INDEX devices_gateway ON devices (gateway_id);
CREATE INDEX devices_unit ON devices (unit_id);
CREATE INDEX devices_building ON devices (building_id);
CREATE INDEX devices_kind ON devices (kind);

CREATE TABLE people (
	id     TEXT PRIMARY KEY,
	name   TEXT NOT NULL,
	locale TEXT NOT NULL DEFAULT 'zh' CHECK (locale IN ('zh', 'en'))
) STRICT;

CREATE TABLE person_roles (
	person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	role      TEXT NOT NULL CHECK (role IN ('grid_worker', 'street_officer', 'district_officer', 'fire_brigade', 'viewer', 'admin')),
	PRIMARY KEY (person_id, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_roles_role ON person_roles (role);

CREATE TABLE person_communities (
	person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	community_id TEXT NOT NULL REFERENCES communities (id),
	PRIMARY KEY (person_id, community_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_communities_community ON person_communities (community_id);

CREATE TABLE person_streets (
	person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	street_id TEXT NOT NULL REFERENCES streets (id),
	PRIMARY KEY (person_id, street_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_streets_street ON person_streets (street_id);

CREATE TABLE person_districts (
	person_id   TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	district_id TEXT NOT NULL REFERENCES districts (id),
	PRIMARY KEY (person_id, district_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_districts_district ON person_districts (district_id);

CREATE TABLE contacts (
	person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	position  INTEGER NOT NULL, -- order of preference, from 0
	channel   TEXT NOT NULL CHECK (channel IN ('sms', 'webhook', 'wecom', 'dingtalk', 'email')),
	address   TEXT NOT NULL,
	PRIMARY KEY (person_id, position)
) STRICT, WITHOUT ROWID;

-- A duty window starts on each day in days at start_minute and ends at
-- end_minute, on the next day when end_minute <= start_minute. Minutes after
-- midnight, Asia/Shanghai. days: bit i is weekday i, 0 = Sunday (strftime %w).
CREATE TABLE rosters (
	id           INTEGER PRIMARY KEY,
	person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	community_id TEXT REFERENCES communities (id),
	street_id    TEXT REFERENCES streets (id),
	district_id  TEXT REFERENCES districts (id),
	days         INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),
	start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
	end_minute   INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1440 AND end_minute <> start_minute),
	CHECK ((community_id IS NOT NULL) + (street_id IS NOT NULL) + (district_id IS NOT NULL) = 1)
) STRICT;
CREATE INDEX rosters_person ON rosters (person_id);
CREATE INDEX rosters_community ON rosters (community_id);
CREATE INDEX rosters_street ON rosters (street_id);
CREATE INDEX rosters_district ON rosters (district_id);
