package registry

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/chargewatch/chargewatch/devices"
)

// Exit codes of Command.
const (
	ExitOK      = 0
	ExitInvalid = 1 // the site file is invalid, or the command line is wrong
	ExitFailed  = 2 // the command could not be carried out (database, disk)
)

const usage = `usage: chargewatch devices COMMAND [ARGS]

Commands:
  validate FILE                     check a site file; print every problem as FILE:LINE: KEY: message
  import --db PATH [--dry-run] FILE replace the registry's content with the site file's (creates the
                                    database if missing) and print what changed; a running server
                                    picks the change up within seconds
  list --db PATH [--kind K] [--community C] [--building B] [--unit U] [--gateway G]
                                    list the registered devices
  backup --db PATH OUT              write a consistent copy of the registry to OUT while it is in use

Installers (each edits the site file in place, keeping its comments, imports it, and records
who did what in the registry's audit log; the registry must hold what the site file holds):
  replace --db PATH --site FILE --by WHO [--new-id ID] [--model M] [--note TEXT] DEVICE
                                    new hardware takes DEVICE's place (same id unless --new-id)
  move --db PATH --site FILE --by WHO [--unit U | --building B] [--gateway G] [--note TEXT] DEVICE
                                    move a device to another unit, building or gateway
  decommission --db PATH --site FILE --by WHO [--move-devices-to G | --remove-devices] [--note TEXT] GATEWAY
                                    remove a gateway, moving or removing its devices
  audit --db PATH [--subject ID] [--limit N] [--json]
                                    show the registry's audit log (and a device's lineage)

Exit status: 0 ok, 1 invalid site file or usage, 2 failure (database, disk).
The site file format is described in examples/demo-site.yaml.
`

// Command runs "chargewatch devices ARGS..." and returns the exit status.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitInvalid
	}
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "validate":
		return c.validate(args[1:])
	case "import":
		return c.importSite(args[1:])
	case "list":
		return c.list(args[1:])
	case "backup":
		return c.backup(args[1:])
	case "replace":
		return c.replace(args[1:])
	case "move":
		return c.move(args[1:])
	case "decommission":
		return c.decommission(args[1:])
	case "audit":
		return c.audit(args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "chargewatch devices: unknown command %q: use validate, import, list, backup, replace, move, decommission or audit\n\n%s", args[0], usage)
	return ExitInvalid
}

type cli struct {
	ctx            context.Context
	stdout, stderr io.Writer
}

// parse parses flags that may come before or after the positional
// arguments, and checks the number of positional arguments.
func (c *cli) parse(fs *flag.FlagSet, args []string, positional ...string) ([]string, bool) {
	fs.SetOutput(c.stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != len(positional) {
		fmt.Fprintf(c.stderr, "chargewatch devices %s: expected %s, got %d arguments\n", fs.Name(), strings.Join(positional, " "), len(pos))
		return nil, false
	}
	return pos, true
}

func (c *cli) fail(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "chargewatch devices %s: %v\n", cmd, err)
	return ExitFailed
}

// loadSite parses a site file and prints its problems.
func (c *cli) loadSite(path string) (*Site, int) {
	site, err := LoadSite(path)
	var verr *ValidationError
	switch {
	case errors.As(err, &verr):
		fmt.Fprintln(c.stderr, verr.Error())
		n := len(verr.Problems)
		fmt.Fprintf(c.stderr, "%s: %d problem%s\n", path, n, plural(n))
		return nil, ExitInvalid
	case err != nil:
		fmt.Fprintf(c.stderr, "chargewatch devices: %v\n", err)
		return nil, ExitInvalid
	}
	return site, ExitOK
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (c *cli) validate(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	pos, ok := c.parse(fs, args, "FILE")
	if !ok {
		return ExitInvalid
	}
	site, code := c.loadSite(pos[0])
	if site == nil {
		return code
	}
	fmt.Fprintf(c.stdout, "%s: ok: %d districts, %d streets, %d communities, %d buildings, %d units, %d gateways, %d devices, %d people, %d rosters\n",
		pos[0], len(site.Districts), len(site.Streets), len(site.Communities), len(site.Buildings), len(site.Units),
		len(site.Gateways), len(site.Devices), len(site.People), len(site.Rosters))
	return ExitOK
}

func (c *cli) importSite(args []string) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	dbPath := fs.String("db", "", "registry database `path` (created if missing)")
	dryRun := fs.Bool("dry-run", false, "print what would change and change nothing")
	by := fs.String("by", defaultActor(), "who imports, for the registry's audit log")
	note := fs.String("note", "", "why, for the registry's audit log")
	pos, ok := c.parse(fs, args, "FILE")
	if !ok || !c.needDB(fs, *dbPath) {
		return ExitInvalid
	}
	site, code := c.loadSite(pos[0])
	if site == nil {
		return code
	}
	db, err := OpenDB(c.ctx, *dbPath)
	if err != nil {
		return c.fail("import", err)
	}
	defer db.Close()
	before, err := Generation(c.ctx, db)
	if err != nil {
		return c.fail("import", err)
	}
	var ch *Changes
	if *dryRun {
		ch, err = DryRunImport(c.ctx, db, site)
	} else {
		ch, err = ImportBy(c.ctx, db, site, *by, *note)
	}
	if err != nil {
		return c.fail("import", err)
	}
	fmt.Fprintf(c.stdout, "%-12s %7s %7s %7s %9s\n", "", "added", "updated", "removed", "unchanged")
	for _, e := range ch.Entities() {
		fmt.Fprintf(c.stdout, "%-12s %7d %7d %7d %9d\n", e.Name, e.Added, e.Updated, e.Removed, e.Unchanged)
	}
	switch {
	case *dryRun:
		fmt.Fprintf(c.stdout, "dry run: nothing changed in %s\n", *dbPath)
	case ch.Changed():
		fmt.Fprintf(c.stdout, "imported %s into %s: generation %d (was %d)\n", pos[0], *dbPath, ch.Generation, before)
	default:
		fmt.Fprintf(c.stdout, "%s already holds %s: nothing changed (generation %d)\n", *dbPath, pos[0], ch.Generation)
	}
	return ExitOK
}

func (c *cli) needDB(fs *flag.FlagSet, path string) bool {
	if path == "" {
		fmt.Fprintf(c.stderr, "chargewatch devices %s: --db PATH is required: the registry database, e.g. --db /var/lib/chargewatch/registry.db\n", fs.Name())
		return false
	}
	return true
}

// openExisting opens a registry database that must exist already.
func (c *cli) openExisting(cmd, path string) (*Snapshot, func(), int) {
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(c.stderr, "chargewatch devices %s: no registry database at %s: create it with chargewatch devices import --db %s FILE\n", cmd, path, path)
		return nil, nil, ExitInvalid
	}
	db, err := OpenDB(c.ctx, path)
	if err != nil {
		return nil, nil, c.fail(cmd, err)
	}
	snap, err := Load(c.ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, c.fail(cmd, err)
	}
	return snap, func() { db.Close() }, ExitOK
}

func (c *cli) list(args []string) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	dbPath := fs.String("db", "", "registry database `path`")
	kind := fs.String("kind", "", "only devices of this `kind` (meter, monitor, pile, smoke, plug)")
	community := fs.String("community", "", "only devices in this community `id`")
	building := fs.String("building", "", "only devices in this building `id`")
	unit := fs.String("unit", "", "only devices in this unit `id`")
	gateway := fs.String("gateway", "", "only devices of this gateway `id`")
	if _, ok := c.parse(fs, args); !ok || !c.needDB(fs, *dbPath) {
		return ExitInvalid
	}
	var k devices.Kind
	if *kind != "" {
		var err error
		if k, err = devices.ParseKind(*kind); err != nil {
			fmt.Fprintf(c.stderr, "chargewatch devices list: --kind: %v\n", err)
			return ExitInvalid
		}
	}
	snap, done, code := c.openExisting("list", *dbPath)
	if snap == nil {
		return code
	}
	defer done()
	for _, f := range []struct {
		flag, id string
		exists   func(string) bool
	}{
		{"community", *community, func(id string) bool { _, ok := snap.Community(id); return ok }},
		{"building", *building, func(id string) bool { _, ok := snap.Building(id); return ok }},
		{"unit", *unit, func(id string) bool { _, ok := snap.Unit(id); return ok }},
		{"gateway", *gateway, func(id string) bool { _, ok := snap.Gateway(id); return ok }},
	} {
		if f.id != "" && !f.exists(f.id) {
			fmt.Fprintf(c.stderr, "chargewatch devices list: --%s: there is no %s %q in the registry\n", f.flag, f.flag, f.id)
			return ExitInvalid
		}
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tKIND\tMODEL\tGATEWAY\tUNIT\tTYPE\tBUILDING\tCOMMUNITY\tRATED_A\tINTERVAL\tPORTS")
	n := 0
	for d := range snap.Devices() {
		if (k != devices.KindUnknown && d.Kind != k) ||
			(*community != "" && d.Community().ID != *community) ||
			(*building != "" && d.Building.ID != *building) ||
			(*unit != "" && d.UnitID() != *unit) ||
			(*gateway != "" && d.Gateway.ID != *gateway) {
			continue
		}
		n++
		gw := d.Gateway.ID
		if d.Gateway.SelfConnected {
			gw = "(itself)"
		}
		ports := "-"
		if d.Kind == devices.KindPile {
			ports = strconv.Itoa(int(d.PortCount))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Kind, dash(d.Model), gw, dash(d.UnitID()),
			dash(typeName(d)), d.Building.ID, d.Community().ID, rated(d.RatedCurrentA), fmtDuration(d.Interval), ports)
	}
	tw.Flush()
	fmt.Fprintf(c.stdout, "%d device%s (registry generation %d)\n", n, plural(n), snap.Generation())
	return ExitOK
}

func typeName(d *Device) string {
	if d.Unit == nil {
		return ""
	}
	if d.Unit.MixedUse {
		return d.Unit.Type.String() + "+mixed"
	}
	return d.Unit.Type.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func rated(a float32) string {
	if a == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(a), 'g', -1, 32)
}

func (c *cli) backup(args []string) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	dbPath := fs.String("db", "", "registry database `path`")
	pos, ok := c.parse(fs, args, "OUT")
	if !ok || !c.needDB(fs, *dbPath) {
		return ExitInvalid
	}
	if _, err := os.Stat(*dbPath); err != nil {
		fmt.Fprintf(c.stderr, "chargewatch devices backup: no registry database at %s\n", *dbPath)
		return ExitInvalid
	}
	if _, err := os.Stat(pos[0]); err == nil {
		fmt.Fprintf(c.stderr, "chargewatch devices backup: %s exists: remove it or choose another name\n", pos[0])
		return ExitInvalid
	}
	db, err := OpenDB(c.ctx, *dbPath)
	if err != nil {
		return c.fail("backup", err)
	}
	defer db.Close()
	if err := Backup(c.ctx, db, pos[0]); err != nil {
		return c.fail("backup", err)
	}
	fmt.Fprintf(c.stdout, "backed up %s to %s\n", *dbPath, pos[0])
	return ExitOK
}
