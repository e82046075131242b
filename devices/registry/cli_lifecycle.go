package registry

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"
)

// defaultActor is who runs a command, for the audit log: the login that
// ran sudo, else the login.
func defaultActor() string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// lifecycleFlags are the flags every lifecycle command takes.
type lifecycleFlags struct {
	db, site, by, note *string
}

func newLifecycleFlags(fs *flag.FlagSet) lifecycleFlags {
	return lifecycleFlags{
		db:   fs.String("db", "", "registry database `path`"),
		site: fs.String("site", "", "the site `file` the registry was imported from; it is edited in place"),
		by:   fs.String("by", defaultActor(), "who makes the change (person id or login), for the audit log"),
		note: fs.String("note", "", "why: work order, what was wrong"),
	}
}

// check reports a missing --db or --site.
func (c *cli) checkLifecycle(fs *flag.FlagSet, f lifecycleFlags) bool {
	if !c.needDB(fs, *f.db) {
		return false
	}
	if *f.site == "" {
		fmt.Fprintf(c.stderr, "chargewatch devices %s: --site FILE is required: the site file the registry was imported from (it is edited in place, so the next import keeps the change)\n", fs.Name())
		return false
	}
	if _, err := os.Stat(*f.db); err != nil {
		fmt.Fprintf(c.stderr, "chargewatch devices %s: no registry database at %s\n", fs.Name(), *f.db)
		return false
	}
	return true
}

func (c *cli) replace(args []string) int {
	fs := flag.NewFlagSet("replace", flag.ContinueOnError)
	f := newLifecycleFlags(fs)
	newID := fs.String("new-id", "", "`id` of the new hardware, when it does not keep the old id")
	model := fs.String("model", "", "`model` of the new hardware")
	pos, ok := c.parse(fs, args, "DEVICE")
	if !ok || !c.checkLifecycle(fs, f) {
		return ExitInvalid
	}
	return c.withDB(&f, "replace", func(db *sql.DB) (*LifecycleResult, error) {
		return ReplaceDevice(c.ctx, db, *f.site, Replace{Device: pos[0], NewID: *newID, Model: *model}, Change{By: *f.by, Note: *f.note})
	}, fmt.Sprintf("replaced %s", pos[0]))
}

func (c *cli) move(args []string) int {
	fs := flag.NewFlagSet("move", flag.ContinueOnError)
	f := newLifecycleFlags(fs)
	unit := fs.String("unit", "", "the new unit `id`")
	building := fs.String("building", "", "the new building `id` (a device that serves the whole building)")
	gateway := fs.String("gateway", "", "the new gateway `id`")
	pos, ok := c.parse(fs, args, "DEVICE")
	if !ok || !c.checkLifecycle(fs, f) {
		return ExitInvalid
	}
	return c.withDB(&f, "move", func(db *sql.DB) (*LifecycleResult, error) {
		return MoveDevice(c.ctx, db, *f.site, Move{Device: pos[0], Unit: *unit, Building: *building, Gateway: *gateway}, Change{By: *f.by, Note: *f.note})
	}, fmt.Sprintf("moved %s", pos[0]))
}

func (c *cli) decommission(args []string) int {
	fs := flag.NewFlagSet("decommission", flag.ContinueOnError)
	f := newLifecycleFlags(fs)
	moveTo := fs.String("move-devices-to", "", "another gateway `id` that takes the devices over")
	remove := fs.Bool("remove-devices", false, "remove the gateway's devices from the registry too")
	pos, ok := c.parse(fs, args, "GATEWAY")
	if !ok || !c.checkLifecycle(fs, f) {
		return ExitInvalid
	}
	return c.withDB(&f, "decommission", func(db *sql.DB) (*LifecycleResult, error) {
		return DecommissionGateway(c.ctx, db, *f.site, Decommission{Gateway: pos[0], MoveDevicesTo: *moveTo, RemoveDevices: *remove}, Change{By: *f.by, Note: *f.note})
	}, fmt.Sprintf("decommissioned %s", pos[0]))
}

// withDB opens the registry, runs a lifecycle operation and prints what it
// did and what is left to do.
func (c *cli) withDB(f *lifecycleFlags, name string, op func(*sql.DB) (*LifecycleResult, error), what string) int {
	db, err := OpenDB(c.ctx, *f.db)
	if err != nil {
		return c.fail(name, err)
	}
	defer db.Close()
	res, err := op(db)
	if err != nil {
		fmt.Fprintf(c.stderr, "chargewatch devices %s: %v\n", name, err)
		return ExitInvalid
	}
	fmt.Fprintf(c.stdout, "%s: audit entry %d, registry generation %d; %s updated\n", what, res.Audit.ID, res.Audit.Generation, *f.site)
	for _, r := range res.Reminders {
		fmt.Fprintf(c.stdout, "  next: %s\n", r)
	}
	return ExitOK
}

func (c *cli) audit(args []string) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	dbPath := fs.String("db", "", "registry database `path`")
	subject := fs.String("subject", "", "only entries about this device or gateway `id`, with the device's lineage")
	limit := fs.Int("limit", 50, "at most `n` entries, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, ok := c.parse(fs, args); !ok || !c.needDB(fs, *dbPath) {
		return ExitInvalid
	}
	if _, err := os.Stat(*dbPath); err != nil {
		fmt.Fprintf(c.stderr, "chargewatch devices audit: no registry database at %s\n", *dbPath)
		return ExitInvalid
	}
	db, err := OpenDB(c.ctx, *dbPath)
	if err != nil {
		return c.fail("audit", err)
	}
	defer db.Close()
	entries, err := AuditLog(c.ctx, db, AuditFilter{Subject: *subject, Limit: *limit})
	if err != nil {
		return c.fail("audit", err)
	}
	var lineage []Replacement
	if *subject != "" {
		if lineage, err = Lineage(c.ctx, db, *subject); err != nil {
			return c.fail("audit", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"entries": nonNil(entries), "lineage": nonNil(lineage)})
		return ExitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT (Asia/Shanghai)\tACTOR\tACTION\tSUBJECT\tGEN\tDETAIL\tNOTE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, time.UnixMilli(e.At).In(shanghai).Format("2006-01-02 15:04:05"),
			e.Actor, e.Action, dash(e.Subject), e.Generation, string(e.Detail), dash(e.Note))
	}
	tw.Flush()
	for _, r := range lineage {
		at := time.UnixMilli(r.At).In(shanghai).Format("2006-01-02 15:04")
		if r.Device == r.Previous {
			fmt.Fprintf(c.stdout, "lineage: %s got new hardware on %s (audit %d)\n", r.Device, at, r.AuditID)
		} else {
			fmt.Fprintf(c.stdout, "lineage: %s replaced %s on %s (audit %d)\n", r.Device, r.Previous, at, r.AuditID)
		}
	}
	return ExitOK
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
