// Package registry is chargewatch's device registry: the places (district >
// street > community > building > unit), the gateways and devices in them,
// and the people who are alerted (grid workers, officers, fire brigade) with
// their contacts and duty rosters.
//
// The registry is a SQLite database (pure-Go driver, WAL mode) whose schema
// migrates forward when it is opened (migrations/NNNN_*.sql). Its content
// comes from a site file, a YAML document validated strictly: ParseSite
// reports every problem at once, each with file, line and key (see
// examples/demo-site.yaml for the format). Import makes the database hold
// exactly the site file's content and bumps a generation counter; Backup
// copies it while it is in use.
//
// The hot path reads a Snapshot: an immutable in-memory copy with map
// lookups from device, gateway and place ids to structs that point at their
// parents. A Store keeps the current Snapshot and, in Run, polls the
// generation and swaps in a new Snapshot when another process (or this one)
// changed the registry, so changes take effect without a restart.
//
// Command implements "chargewatch devices validate|import|list|backup".
package registry
