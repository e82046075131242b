package registry

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/chargewatch/chargewatch/devices"
)

// Count is how many entities of one kind an import added, updated, removed
// and left as they were.
type Count struct {
	Added, Updated, Removed, Unchanged int
}

// Changes is what an import did.
type Changes struct {
	// Generation is the registry's generation after the import. An import
	// that changes nothing leaves it as it was, so servers do not reload.
	Generation int64

	Districts, Streets, Communities, Buildings, Units, Gateways, Devices, People, Rosters Count
}

// Changed reports whether the import changed anything.
func (c *Changes) Changed() bool {
	for _, e := range c.Entities() {
		if e.Added+e.Updated+e.Removed > 0 {
			return true
		}
	}
	return false
}

// EntityCount is the Count of one kind of entity, named as in the site file.
type EntityCount struct {
	Name string
	Count
}

// Entities lists the counts in site file order.
func (c *Changes) Entities() []EntityCount {
	return []EntityCount{
		{"districts", c.Districts}, {"streets", c.Streets}, {"communities", c.Communities},
		{"buildings", c.Buildings}, {"units", c.Units}, {"gateways", c.Gateways},
		{"devices", c.Devices}, {"people", c.People}, {"rosters", c.Rosters},
	}
}

// Import replaces the registry's content with the site's, in one
// transaction: it adds what is new, updates what differs, removes what is
// gone, and bumps the generation if anything changed. The site is validated
// first; an invalid one changes nothing.
func Import(ctx context.Context, db *sql.DB, site *Site) (*Changes, error) {
	return importSite(ctx, db, site, true, "", "")
}

// ImportBy is Import with the person (or tool) that ran it and a note, for
// the registry's audit log. An import that changes something is recorded
// there with its counts.
func ImportBy(ctx context.Context, db *sql.DB, site *Site, actor, note string) (*Changes, error) {
	return importSite(ctx, db, site, true, actor, note)
}

// DryRunImport reports what Import would change, and changes nothing.
func DryRunImport(ctx context.Context, db *sql.DB, site *Site) (*Changes, error) {
	return importSite(ctx, db, site, false, "", "")
}

func importSite(ctx context.Context, db *sql.DB, site *Site, commit bool, actor, note string) (*Changes, error) {
	if err := site.Validate(); err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback()
	ch, err := importTx(ctx, tx, site)
	if err != nil {
		return nil, err
	}
	if !commit {
		return ch, nil // the deferred Rollback undoes it all
	}
	if ch.Changed() {
		if actor == "" {
			actor = "import"
		}
		if _, err := insertAudit(ctx, tx, &AuditEntry{At: timeNow().UnixMilli(), Actor: actor, Action: ActionImport,
			Detail: importDetail(ch), Note: note, Generation: ch.Generation}); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import: commit: %w", err)
	}
	return ch, nil
}

// importTx makes the registry hold exactly the site's content, within tx,
// and bumps the generation if anything changed.
func importTx(ctx context.Context, tx *sql.Tx, site *Site) (*Changes, error) {
	// Rows are written parents first and removed children first, but a
	// person's scopes are replaced after the places they name; check
	// references at commit.
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	ch := &Changes{}
	plans := []*plan{
		{table: districtsTable, count: &ch.Districts, want: districtRows(site)},
		{table: streetsTable, count: &ch.Streets, want: streetRows(site)},
		{table: communitiesTable, count: &ch.Communities, want: communityRows(site)},
		{table: buildingsTable, count: &ch.Buildings, want: buildingRows(site)},
		{table: unitsTable, count: &ch.Units, want: unitRows(site)},
		{table: gatewaysTable, count: &ch.Gateways, want: gatewayRows(site)},
		{table: devicesTable, count: &ch.Devices, want: deviceRows(site)},
		{table: peopleTable, count: &ch.People, want: personRows(site), children: newPersonChildren(site)},
	}
	for _, p := range plans {
		if err := p.diff(ctx, tx); err != nil {
			return nil, fmt.Errorf("import %s: %w", p.table.name, err)
		}
		if err := p.upsert(ctx, tx); err != nil {
			return nil, fmt.Errorf("import %s: %w", p.table.name, err)
		}
	}
	if err := syncRosters(ctx, tx, site, &ch.Rosters); err != nil {
		return nil, fmt.Errorf("import rosters: %w", err)
	}
	for _, p := range slices.Backward(plans) {
		if err := p.remove(ctx, tx); err != nil {
			return nil, fmt.Errorf("import %s: %w", p.table.name, err)
		}
	}
	var err error
	if ch.Changed() {
		if ch.Generation, err = BumpGeneration(ctx, tx); err != nil {
			return nil, err
		}
	} else if ch.Generation, err = generation(ctx, tx); err != nil {
		return nil, err
	}
	return ch, nil
}

// table describes a registry table whose first column is the id.
type table struct {
	name string
	cols []string
}

var (
	districtsTable   = table{"districts", []string{"id", "name"}}
	streetsTable     = table{"streets", []string{"id", "name", "district_id"}}
	communitiesTable = table{"communities", []string{"id", "name", "street_id"}}
	buildingsTable   = table{"buildings", []string{"id", "name", "community_id", "address", "lat", "lon", "floors"}}
	unitsTable       = table{"units", []string{"id", "name", "building_id", "type", "mixed_use", "floor", "room"}}
	gatewaysTable    = table{"gateways", []string{"id", "name", "description", "building_id", "unit_id", "self_connected", "password_hash"}}
	devicesTable     = table{"devices", []string{"id", "name", "kind", "model", "gateway_id", "building_id", "unit_id", "rated_current_a", "interval_ms", "port_count"}}
	peopleTable      = table{"people", []string{"id", "name", "locale"}}
)

// row is the column values of one row, id first, as the driver returns them:
// string, int64, float64 or nil.
type row []any

// digest identifies a row's content (and, for people, that of their child
// rows); two rows are the same when their digests are.
type digest [16]byte

type digester struct{ b []byte }

func (d *digester) add(vals ...any) {
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			d.b = append(d.b, 'n')
		case string:
			d.b = append(d.b, 's')
			d.b = binary.AppendUvarint(d.b, uint64(len(v)))
			d.b = append(d.b, v...)
		case []byte:
			d.add(string(v))
		case int64:
			d.b = append(d.b, 'i')
			d.b = binary.AppendVarint(d.b, v)
		case float64:
			d.b = append(d.b, 'f')
			d.b = binary.LittleEndian.AppendUint64(d.b, math.Float64bits(v))
		default:
			panic(fmt.Sprintf("registry: cannot digest %T", v))
		}
	}
}

func (d *digester) sum() digest {
	s := sha256.Sum256(d.b)
	d.b = d.b[:0]
	return digest(s[:16])
}

// plan is the work an import does on one table.
type plan struct {
	table table
	count *Count
	want  []row
	// children, for people, digests and writes the child rows (roles,
	// scopes, contacts) that belong to a row.
	children *personChildren

	added, updated []int // indexes into want
	removed        []string
}

// diff compares the wanted rows with the stored ones.
func (p *plan) diff(ctx context.Context, tx *sql.Tx) error {
	have, err := p.load(ctx, tx)
	if err != nil {
		return err
	}
	var d digester
	seen := make(map[string]bool, len(p.want))
	for i, r := range p.want {
		id := r[0].(string)
		seen[id] = true
		d.add(r...)
		if p.children != nil {
			p.children.digestWanted(&d, id)
		}
		got, ok := have[id]
		switch {
		case !ok:
			p.added = append(p.added, i)
		case got != d.sum():
			p.updated = append(p.updated, i)
		default:
			p.count.Unchanged++
		}
		d.b = d.b[:0]
	}
	for id := range have {
		if !seen[id] {
			p.removed = append(p.removed, id)
		}
	}
	slices.Sort(p.removed)
	p.count.Added, p.count.Updated, p.count.Removed = len(p.added), len(p.updated), len(p.removed)
	return nil
}

// load digests the stored rows by id.
func (p *plan) load(ctx context.Context, tx *sql.Tx) (map[string]digest, error) {
	var kids map[string]*digester
	if p.children != nil {
		var err error
		if kids, err = p.children.loadStored(ctx, tx); err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(p.table.cols, ", ")+" FROM "+p.table.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]digest{}
	vals := make([]any, len(p.table.cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var d digester
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		d.add(vals...)
		id := vals[0].(string)
		if kids != nil {
			if k := kids[id]; k != nil {
				d.b = append(d.b, k.b...)
			}
		}
		have[id] = d.sum()
	}
	return have, rows.Err()
}

// upsert inserts the added rows and updates the changed ones.
func (p *plan) upsert(ctx context.Context, tx *sql.Tx) error {
	t := p.table
	if len(p.added) > 0 {
		ins, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (?%s)",
			t.name, strings.Join(t.cols, ", "), strings.Repeat(", ?", len(t.cols)-1)))
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, i := range p.added {
			if _, err := ins.ExecContext(ctx, p.want[i]...); err != nil {
				return fmt.Errorf("insert %q: %w", p.want[i][0], err)
			}
		}
	}
	if len(p.updated) > 0 {
		upd, err := tx.PrepareContext(ctx, fmt.Sprintf("UPDATE %s SET %s = ? WHERE id = ?",
			t.name, strings.Join(t.cols[1:], " = ?, ")))
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, i := range p.updated {
			r := p.want[i]
			args := append(slices.Clone(r[1:]), r[0])
			if _, err := upd.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("update %q: %w", r[0], err)
			}
		}
	}
	if p.children != nil {
		var ids []string
		for _, i := range p.updated {
			ids = append(ids, p.want[i][0].(string))
		}
		if err := p.children.deleteFor(ctx, tx, ids); err != nil {
			return err
		}
		for _, i := range slices.Concat(p.added, p.updated) {
			if err := p.children.insertFor(ctx, tx, p.want[i][0].(string)); err != nil {
				return err
			}
		}
	}
	return nil
}

// remove deletes the rows that are gone.
func (p *plan) remove(ctx context.Context, tx *sql.Tx) error {
	if len(p.removed) == 0 {
		return nil
	}
	del, err := tx.PrepareContext(ctx, "DELETE FROM "+p.table.name+" WHERE id = ?")
	if err != nil {
		return err
	}
	defer del.Close()
	for _, id := range p.removed {
		if _, err := del.ExecContext(ctx, id); err != nil {
			return fmt.Errorf("delete %q: %w", id, err)
		}
	}
	return nil
}

// nullable turns "" into NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func districtRows(s *Site) []row {
	out := make([]row, len(s.Districts))
	for i, d := range s.Districts {
		out[i] = row{d.ID, d.Name}
	}
	return out
}

func streetRows(s *Site) []row {
	out := make([]row, len(s.Streets))
	for i, st := range s.Streets {
		out[i] = row{st.ID, st.Name, st.District}
	}
	return out
}

func communityRows(s *Site) []row {
	out := make([]row, len(s.Communities))
	for i, c := range s.Communities {
		out[i] = row{c.ID, c.Name, c.Street}
	}
	return out
}

func buildingRows(s *Site) []row {
	out := make([]row, len(s.Buildings))
	for i, b := range s.Buildings {
		out[i] = row{b.ID, b.Name, b.Community, b.Address, b.Lat, b.Lon, int64(b.Floors)}
	}
	return out
}

func unitRows(s *Site) []row {
	out := make([]row, len(s.Units))
	for i, u := range s.Units {
		out[i] = row{u.ID, u.Name, u.Building, u.Type.String(), boolInt(u.MixedUse), int64(u.Floor), u.Room}
	}
	return out
}

// gatewayRows lists the declared gateways and one for each device that
// connects by itself and has no gateways entry.
func gatewayRows(s *Site) []row {
	self := map[string]bool{}
	for _, d := range s.Devices {
		if d.Gateway == d.ID {
			self[d.ID] = true
		}
	}
	out := make([]row, 0, len(s.Gateways))
	for _, g := range s.Gateways {
		out = append(out, row{g.ID, g.Name, g.Description, nullable(g.Building), nullable(g.Unit), boolInt(self[g.ID]), nullable(g.PasswordHash)})
		delete(self, g.ID)
	}
	for _, d := range s.Devices {
		if self[d.ID] {
			out = append(out, row{d.ID, d.Name, "", nullable(d.Building), nullable(d.Unit), int64(1), nil})
		}
	}
	return out
}

func deviceRows(s *Site) []row {
	out := make([]row, len(s.Devices))
	for i, d := range s.Devices {
		var rated any
		if d.RatedCurrentA > 0 {
			rated = d.RatedCurrentA
		}
		ports := int64(1)
		if d.Kind == devices.KindPile {
			ports = int64(d.PortCount)
		}
		out[i] = row{d.ID, d.Name, d.Kind.String(), d.Model, d.Gateway, nullable(d.Building), nullable(d.Unit),
			rated, d.Interval.Milliseconds(), ports}
	}
	return out
}

func personRows(s *Site) []row {
	out := make([]row, len(s.People))
	for i, p := range s.People {
		out[i] = row{p.ID, p.Name, p.Locale}
	}
	return out
}
