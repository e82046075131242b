package registry

import (
	"context"
	"database/sql"
	"slices"
)

// personChildren handles the rows that belong to a person: roles, scopes
// and contacts. A person counts as updated when any of them changed, and
// then all of them are written anew.
type personChildren struct {
	byID map[string]*PersonSpec
}

func newPersonChildren(s *Site) *personChildren {
	c := &personChildren{byID: make(map[string]*PersonSpec, len(s.People))}
	for i := range s.People {
		c.byID[s.People[i].ID] = &s.People[i]
	}
	return c
}

// Child rows are digested as tagged values so that the stored and the wanted
// rows give the same bytes: roles and scopes sorted, contacts in order.
const (
	tagRole      = 'R'
	tagCommunity = 'C'
	tagStreet    = 'S'
	tagDistrict  = 'D'
	tagContact   = 'K'
)

func (c *personChildren) digestWanted(d *digester, id string) {
	p := c.byID[id]
	roles := make([]string, 0, 2)
	for _, r := range p.Roles.Roles() {
		roles = append(roles, r.String())
	}
	tagged := func(tag byte, vals []string) {
		for _, v := range slices.Sorted(slices.Values(vals)) {
			d.b = append(d.b, tag)
			d.add(v)
		}
	}
	tagged(tagRole, roles)
	tagged(tagCommunity, p.Communities)
	tagged(tagStreet, p.Streets)
	tagged(tagDistrict, p.Districts)
	for _, k := range p.Contacts {
		d.b = append(d.b, tagContact)
		d.add(k.Channel.String(), k.Address)
	}
}

// childQueries read the stored child rows in the order digestWanted writes
// them.
var childQueries = []struct {
	tag   byte
	query string
}{
	{tagRole, `SELECT person_id, role FROM person_roles ORDER BY person_id, role`},
	{tagCommunity, `SELECT person_id, community_id FROM person_communities ORDER BY person_id, community_id`},
	{tagStreet, `SELECT person_id, street_id FROM person_streets ORDER BY person_id, street_id`},
	{tagDistrict, `SELECT person_id, district_id FROM person_districts ORDER BY person_id, district_id`},
	{tagContact, `SELECT person_id, channel, address FROM contacts ORDER BY person_id, position`},
}

func (c *personChildren) loadStored(ctx context.Context, tx *sql.Tx) (map[string]*digester, error) {
	out := map[string]*digester{}
	for _, q := range childQueries {
		rows, err := tx.QueryContext(ctx, q.query)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var person, a, b string
			dest := []any{&person, &a}
			if q.tag == tagContact {
				dest = append(dest, &b)
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, err
			}
			d := out[person]
			if d == nil {
				d = &digester{}
				out[person] = d
			}
			d.b = append(d.b, q.tag)
			d.add(a)
			if q.tag == tagContact {
				d.add(b)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var childTables = []string{"person_roles", "person_communities", "person_streets", "person_districts", "contacts"}

func (c *personChildren) deleteFor(ctx context.Context, tx *sql.Tx, ids []string) error {
	for _, id := range ids {
		for _, t := range childTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE person_id = ?", id); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *personChildren) insertFor(ctx context.Context, tx *sql.Tx, id string) error {
	p := c.byID[id]
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	for _, r := range p.Roles.Roles() {
		if err := exec(`INSERT INTO person_roles (person_id, role) VALUES (?, ?)`, id, r.String()); err != nil {
			return err
		}
	}
	for _, s := range p.Communities {
		if err := exec(`INSERT INTO person_communities (person_id, community_id) VALUES (?, ?)`, id, s); err != nil {
			return err
		}
	}
	for _, s := range p.Streets {
		if err := exec(`INSERT INTO person_streets (person_id, street_id) VALUES (?, ?)`, id, s); err != nil {
			return err
		}
	}
	for _, s := range p.Districts {
		if err := exec(`INSERT INTO person_districts (person_id, district_id) VALUES (?, ?)`, id, s); err != nil {
			return err
		}
	}
	for i, k := range p.Contacts {
		if err := exec(`INSERT INTO contacts (person_id, position, channel, address) VALUES (?, ?, ?, ?)`, id, i, k.Channel.String(), k.Address); err != nil {
			return err
		}
	}
	return nil
}

// syncRosters makes the stored rosters those of the site. A roster has no
// id of its own: it is the same roster when all its values are, and a
// changed roster counts as one removed and one added.
func syncRosters(ctx context.Context, tx *sql.Tx, s *Site, n *Count) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, person_id, community_id, street_id, district_id, days, start_minute, end_minute FROM rosters ORDER BY id`)
	if err != nil {
		return err
	}
	have := map[digest][]int64{}
	var d digester
	for rows.Next() {
		var id, days, from, to int64
		var person string
		var community, street, district sql.NullString
		if err := rows.Scan(&id, &person, &community, &street, &district, &days, &from, &to); err != nil {
			rows.Close()
			return err
		}
		d.add(person, community.String, street.String, district.String, days, from, to)
		k := d.sum()
		have[k] = append(have[k], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var added []*RosterSpec
	for i := range s.Rosters {
		r := &s.Rosters[i]
		d.add(r.Person, r.Community, r.Street, r.District, int64(r.Days), int64(r.From), int64(r.To))
		k := d.sum()
		if ids := have[k]; len(ids) > 0 {
			have[k] = ids[1:]
			n.Unchanged++
			continue
		}
		added = append(added, r)
	}
	var removed []int64
	for _, ids := range have {
		removed = append(removed, ids...)
	}
	slices.Sort(removed)
	for _, id := range removed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rosters WHERE id = ?`, id); err != nil {
			return err
		}
	}
	for _, r := range added {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rosters (person_id, community_id, street_id, district_id, days, start_minute, end_minute) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.Person, nullable(r.Community), nullable(r.Street), nullable(r.District), int64(r.Days), int64(r.From), int64(r.To)); err != nil {
			return err
		}
	}
	n.Added, n.Removed = len(added), len(removed)
	return nil
}
