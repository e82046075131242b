package registry

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Load reads the whole registry into a new Snapshot, in one read transaction
// so that it sees one generation.
func Load(ctx context.Context, db *sql.DB) (*Snapshot, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("load registry: %w", err)
	}
	defer tx.Rollback()
	l := &loader{ctx: ctx, tx: tx, s: &Snapshot{loadedAt: time.Now()}}
	if l.s.generation, err = generation(ctx, tx); err != nil {
		return nil, err
	}
	for _, step := range []struct {
		what string
		fn   func() error
	}{
		{"districts", l.districts}, {"streets", l.streets}, {"communities", l.communities},
		{"buildings", l.buildings}, {"units", l.units}, {"gateways", l.gateways},
		{"devices", l.devices}, {"people", l.people}, {"rosters", l.rosters}, {"lineage", l.lineage},
	} {
		if err := step.fn(); err != nil {
			return nil, fmt.Errorf("load registry %s: %w", step.what, err)
		}
	}
	return l.s, nil
}

// lineage loads when each replaced device last got new hardware.
func (l *loader) lineage() error {
	l.s.replacedAt = map[string]int64{}
	return l.each(`SELECT device_id, max(replaced_at) FROM device_lineage GROUP BY device_id`, func(r *sql.Rows) error {
		var id string
		var at int64
		if err := r.Scan(&id, &at); err != nil {
			return err
		}
		l.s.replacedAt[id] = at
		return nil
	})
}

type loader struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Snapshot
}

// each runs query and calls scan for every row.
func (l *loader) each(query string, scan func(*sql.Rows) error) error {
	rows, err := l.tx.QueryContext(l.ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// count returns the number of rows of a table, to size maps.
func (l *loader) count(table string) int {
	var n int
	_ = l.tx.QueryRowContext(l.ctx, "SELECT count(*) FROM "+table).Scan(&n)
	return n
}

// missing is an error for a reference the database should not hold (its
// foreign keys forbid it); it means the file was changed without them.
func missing(what, id, noun, ref string) error {
	return fmt.Errorf("%s %q refers to %s %q, which does not exist: the database is inconsistent; re-import the site file", what, id, noun, ref)
}

func (l *loader) districts() error {
	l.s.districts = make(map[string]*District, l.count("districts"))
	return l.each(`SELECT id, name FROM districts ORDER BY id`, func(r *sql.Rows) error {
		d := &District{}
		if err := r.Scan(&d.ID, &d.Name); err != nil {
			return err
		}
		l.s.districts[d.ID] = d
		l.s.districtList = append(l.s.districtList, d)
		return nil
	})
}

func (l *loader) streets() error {
	l.s.streets = make(map[string]*Street, l.count("streets"))
	return l.each(`SELECT id, name, district_id FROM streets ORDER BY id`, func(r *sql.Rows) error {
		st := &Street{}
		var parent string
		if err := r.Scan(&st.ID, &st.Name, &parent); err != nil {
			return err
		}
		if st.District = l.s.districts[parent]; st.District == nil {
			return missing("street", st.ID, "district", parent)
		}
		st.District.Streets = append(st.District.Streets, st)
		l.s.streets[st.ID] = st
		return nil
	})
}

func (l *loader) communities() error {
	l.s.communities = make(map[string]*Community, l.count("communities"))
	return l.each(`SELECT id, name, street_id FROM communities ORDER BY id`, func(r *sql.Rows) error {
		c := &Community{}
		var parent string
		if err := r.Scan(&c.ID, &c.Name, &parent); err != nil {
			return err
		}
		if c.Street = l.s.streets[parent]; c.Street == nil {
			return missing("community", c.ID, "street", parent)
		}
		c.Street.Communities = append(c.Street.Communities, c)
		l.s.communities[c.ID] = c
		return nil
	})
}

func (l *loader) buildings() error {
	l.s.buildings = make(map[string]*Building, l.count("buildings"))
	return l.each(`SELECT id, name, community_id, address, lat, lon, floors FROM buildings ORDER BY id`, func(r *sql.Rows) error {
		b := &Building{}
		var parent string
		if err := r.Scan(&b.ID, &b.Name, &parent, &b.Address, &b.Lat, &b.Lon, &b.Floors); err != nil {
			return err
		}
		if b.Community = l.s.communities[parent]; b.Community == nil {
			return missing("building", b.ID, "community", parent)
		}
		b.Community.Buildings = append(b.Community.Buildings, b)
		l.s.buildings[b.ID] = b
		return nil
	})
}

func (l *loader) units() error {
	n := l.count("units")
	l.s.units = make(map[string]*Unit, n)
	all := make([]Unit, 0, n)
	return l.each(`SELECT id, name, building_id, type, mixed_use, floor, room FROM units ORDER BY id`, func(r *sql.Rows) error {
		var u Unit
		var parent, typ string
		if err := r.Scan(&u.ID, &u.Name, &parent, &typ, &u.MixedUse, &u.Floor, &u.Room); err != nil {
			return err
		}
		var ok bool
		if u.Type, ok = ParseUnitType(typ); !ok {
			return fmt.Errorf("unit %q has type %q, unknown to this chargewatch", u.ID, typ)
		}
		if u.Building = l.s.buildings[parent]; u.Building == nil {
			return missing("unit", u.ID, "building", parent)
		}
		all = append(all, u) // within capacity: pointers stay valid
		p := &all[len(all)-1]
		u.Building.Units = append(u.Building.Units, p)
		l.s.units[u.ID] = p
		return nil
	})
}

// place resolves the building or unit of a gateway or device.
func (l *loader) place(what, id string, building, unit sql.NullString) (*Building, *Unit, error) {
	if unit.Valid {
		u := l.s.units[unit.String]
		if u == nil {
			return nil, nil, missing(what, id, "unit", unit.String)
		}
		return u.Building, u, nil
	}
	b := l.s.buildings[building.String]
	if b == nil {
		return nil, nil, missing(what, id, "building", building.String)
	}
	return b, nil, nil
}

func (l *loader) gateways() error {
	n := l.count("gateways")
	l.s.gateways = make(map[string]*Gateway, n)
	all := make([]Gateway, 0, n)
	l.s.gatewayList = make([]*Gateway, 0, n)
	return l.each(`SELECT id, name, description, building_id, unit_id, self_connected, coalesce(password_hash, '') FROM gateways ORDER BY id`, func(r *sql.Rows) error {
		var g Gateway
		var building, unit sql.NullString
		if err := r.Scan(&g.ID, &g.Name, &g.Description, &building, &unit, &g.SelfConnected, &g.PasswordHash); err != nil {
			return err
		}
		var err error
		if g.Building, g.Unit, err = l.place("gateway", g.ID, building, unit); err != nil {
			return err
		}
		all = append(all, g)
		p := &all[len(all)-1]
		p.Building.Gateways = append(p.Building.Gateways, p)
		l.s.gateways[g.ID] = p
		l.s.gatewayList = append(l.s.gatewayList, p)
		return nil
	})
}

func (l *loader) devices() error {
	n := l.count("devices")
	l.s.devices = make(map[string]*Device, n)
	l.s.deviceList = make([]Device, 0, n)
	models := map[string]string{} // interned: many devices share a model
	kinds := map[string]devices.Kind{}
	for _, k := range devices.Kinds() {
		kinds[k.String()] = k
	}
	return l.each(`SELECT id, name, kind, model, gateway_id, building_id, unit_id, coalesce(rated_current_a, 0), interval_ms, port_count FROM devices ORDER BY id`, func(r *sql.Rows) error {
		var d Device
		var kind, model, gateway string
		var building, unit sql.NullString
		var intervalMS int64
		var rated float64
		var ports int
		if err := r.Scan(&d.ID, &d.Name, &kind, &model, &gateway, &building, &unit, &rated, &intervalMS, &ports); err != nil {
			return err
		}
		var ok bool
		if d.Kind, ok = kinds[kind]; !ok {
			return fmt.Errorf("device %q has kind %q, unknown to this chargewatch", d.ID, kind)
		}
		if m, ok := models[model]; ok {
			d.Model = m
		} else {
			models[model] = model
			d.Model = model
		}
		if d.Gateway = l.s.gateways[gateway]; d.Gateway == nil {
			return missing("device", d.ID, "gateway", gateway)
		}
		var err error
		if d.Building, d.Unit, err = l.place("device", d.ID, building, unit); err != nil {
			return err
		}
		d.Interval = time.Duration(intervalMS) * time.Millisecond
		d.RatedCurrentA = float32(rated)
		d.PortCount = uint8(ports)
		l.s.deviceList = append(l.s.deviceList, d)
		p := &l.s.deviceList[len(l.s.deviceList)-1]
		l.s.devices[d.ID] = p
		p.Gateway.Devices = append(p.Gateway.Devices, p)
		if p.Unit != nil {
			p.Unit.Devices = append(p.Unit.Devices, p)
		} else {
			p.Building.Devices = append(p.Building.Devices, p)
		}
		return nil
	})
}

func (l *loader) people() error {
	l.s.people = make(map[string]*Person, l.count("people"))
	err := l.each(`SELECT id, name, locale FROM people ORDER BY id`, func(r *sql.Rows) error {
		p := &Person{}
		if err := r.Scan(&p.ID, &p.Name, &p.Locale); err != nil {
			return err
		}
		l.s.people[p.ID] = p
		l.s.peopleList = append(l.s.peopleList, p)
		return nil
	})
	if err != nil {
		return err
	}
	person := func(id string) (*Person, error) {
		if p := l.s.people[id]; p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("a row refers to person %q, which does not exist: the database is inconsistent; re-import the site file", id)
	}
	if err := l.each(`SELECT person_id, role FROM person_roles`, func(r *sql.Rows) error {
		var id, role string
		if err := r.Scan(&id, &role); err != nil {
			return err
		}
		p, err := person(id)
		if err != nil {
			return err
		}
		ro, ok := ParseRole(role)
		if !ok {
			return fmt.Errorf("person %q has role %q, unknown to this chargewatch", id, role)
		}
		p.Roles = p.Roles.With(ro)
		return nil
	}); err != nil {
		return err
	}
	if err := l.each(`SELECT person_id, community_id FROM person_communities ORDER BY person_id, community_id`, func(r *sql.Rows) error {
		var id, ref string
		if err := r.Scan(&id, &ref); err != nil {
			return err
		}
		p, err := person(id)
		if err != nil {
			return err
		}
		c := l.s.communities[ref]
		if c == nil {
			return missing("person", id, "community", ref)
		}
		p.Communities = append(p.Communities, c)
		return nil
	}); err != nil {
		return err
	}
	if err := l.each(`SELECT person_id, street_id FROM person_streets ORDER BY person_id, street_id`, func(r *sql.Rows) error {
		var id, ref string
		if err := r.Scan(&id, &ref); err != nil {
			return err
		}
		p, err := person(id)
		if err != nil {
			return err
		}
		st := l.s.streets[ref]
		if st == nil {
			return missing("person", id, "street", ref)
		}
		p.Streets = append(p.Streets, st)
		return nil
	}); err != nil {
		return err
	}
	if err := l.each(`SELECT person_id, district_id FROM person_districts ORDER BY person_id, district_id`, func(r *sql.Rows) error {
		var id, ref string
		if err := r.Scan(&id, &ref); err != nil {
			return err
		}
		p, err := person(id)
		if err != nil {
			return err
		}
		d := l.s.districts[ref]
		if d == nil {
			return missing("person", id, "district", ref)
		}
		p.Districts = append(p.Districts, d)
		return nil
	}); err != nil {
		return err
	}
	return l.each(`SELECT person_id, channel, address FROM contacts ORDER BY person_id, position`, func(r *sql.Rows) error {
		var id, channel string
		var c Contact
		if err := r.Scan(&id, &channel, &c.Address); err != nil {
			return err
		}
		p, err := person(id)
		if err != nil {
			return err
		}
		var ok bool
		if c.Channel, ok = ParseContactChannel(channel); !ok {
			return fmt.Errorf("person %q has a contact with channel %q, unknown to this chargewatch", id, channel)
		}
		p.Contacts = append(p.Contacts, c)
		return nil
	})
}

func (l *loader) rosters() error {
	return l.each(`SELECT person_id, community_id, street_id, district_id, days, start_minute, end_minute FROM rosters ORDER BY person_id, id`, func(r *sql.Rows) error {
		var person string
		var community, street, district sql.NullString
		ro := &Roster{}
		if err := r.Scan(&person, &community, &street, &district, &ro.Days, &ro.From, &ro.To); err != nil {
			return err
		}
		if ro.Person = l.s.people[person]; ro.Person == nil {
			return missing("roster", person, "person", person)
		}
		switch {
		case community.Valid:
			if ro.Community = l.s.communities[community.String]; ro.Community == nil {
				return missing("roster of person", person, "community", community.String)
			}
			ro.Community.Rosters = append(ro.Community.Rosters, ro)
		case street.Valid:
			if ro.Street = l.s.streets[street.String]; ro.Street == nil {
				return missing("roster of person", person, "street", street.String)
			}
			ro.Street.Rosters = append(ro.Street.Rosters, ro)
		default:
			if ro.District = l.s.districts[district.String]; ro.District == nil {
				return missing("roster of person", person, "district", district.String)
			}
			ro.District.Rosters = append(ro.District.Rosters, ro)
		}
		ro.Person.Rosters = append(ro.Person.Rosters, ro)
		l.s.rosters = append(l.s.rosters, ro)
		return nil
	})
}
