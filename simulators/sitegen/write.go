package sitegen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/devices/registry"
)

// Write writes s as a registry site file (version 1), one flow-style line
// per entry, every string quoted. registry.ParseSite reads it back.
func Write(w io.Writer, s *registry.Site, header string) error {
	bw := bufio.NewWriter(w)
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(bw, "# %s\n", line)
		}
	}
	bw.WriteString("version: 1\n")
	section := func(name string, n int, entry func(i int) []kv) {
		if n == 0 {
			return
		}
		fmt.Fprintf(bw, "\n%s:\n", name)
		for i := 0; i < n; i++ {
			bw.WriteString("  - {")
			first := true
			for _, f := range entry(i) {
				if f.v == "" {
					continue
				}
				if !first {
					bw.WriteString(", ")
				}
				first = false
				bw.WriteString(f.k + ": " + f.v)
			}
			bw.WriteString("}\n")
		}
	}
	section("districts", len(s.Districts), func(i int) []kv {
		d := s.Districts[i]
		return []kv{{"id", q(d.ID)}, {"name", q(d.Name)}}
	})
	section("streets", len(s.Streets), func(i int) []kv {
		d := s.Streets[i]
		return []kv{{"id", q(d.ID)}, {"name", q(d.Name)}, {"district", q(d.District)}}
	})
	section("communities", len(s.Communities), func(i int) []kv {
		d := s.Communities[i]
		return []kv{{"id", q(d.ID)}, {"name", q(d.Name)}, {"street", q(d.Street)}}
	})
	section("buildings", len(s.Buildings), func(i int) []kv {
		b := s.Buildings[i]
		return []kv{{"id", q(b.ID)}, {"name", q(b.Name)}, {"community", q(b.Community)}, {"address", q(b.Address)},
			{"lat", num(b.Lat)}, {"lon", num(b.Lon)}, {"floors", intv(b.Floors)}}
	})
	section("units", len(s.Units), func(i int) []kv {
		u := s.Units[i]
		f := []kv{{"id", q(u.ID)}, {"building", q(u.Building)}, {"type", u.Type.String()}, {"name", q(u.Name)},
			{"floor", intv(u.Floor)}, {"room", q(u.Room)}}
		if u.MixedUse {
			f = append(f, kv{"mixed_use", "true"})
		}
		return f
	})
	section("gateways", len(s.Gateways), func(i int) []kv {
		g := s.Gateways[i]
		return []kv{{"id", q(g.ID)}, {"building", q(g.Building)}, {"unit", q(g.Unit)}, {"name", q(g.Name)},
			{"description", q(g.Description)}, {"password_hash", q(g.PasswordHash)}}
	})
	section("devices", len(s.Devices), func(i int) []kv {
		d := s.Devices[i]
		f := []kv{{"id", q(d.ID)}, {"kind", d.Kind.String()}, {"model", q(d.Model)}, {"name", q(d.Name)},
			{"gateway", q(d.Gateway)}, {"unit", q(d.Unit)}, {"building", q(d.Building)}}
		if d.RatedCurrentA != 0 {
			f = append(f, kv{"rated_current_a", num(d.RatedCurrentA)})
		}
		if d.Interval != 0 {
			f = append(f, kv{"interval", fmtInterval(d.Interval)})
		}
		if d.PortCount != 0 {
			f = append(f, kv{"port_count", intv(d.PortCount)})
		}
		return f
	})
	section("people", len(s.People), func(i int) []kv {
		p := s.People[i]
		var roles []string
		for _, r := range p.Roles.Roles() {
			roles = append(roles, r.String())
		}
		var contacts []string
		for _, c := range p.Contacts {
			contacts = append(contacts, fmt.Sprintf("{channel: %s, address: %s}", c.Channel, q(c.Address)))
		}
		return []kv{{"id", q(p.ID)}, {"name", q(p.Name)}, {"roles", "[" + strings.Join(roles, ", ") + "]"},
			{"communities", list(p.Communities)}, {"streets", list(p.Streets)}, {"districts", list(p.Districts)},
			{"contacts", "[" + strings.Join(contacts, ", ") + "]"}, {"locale", p.Locale}}
	})
	section("rosters", len(s.Rosters), func(i int) []kv {
		r := s.Rosters[i]
		f := []kv{{"person", q(r.Person)}, {"community", q(r.Community)}, {"street", q(r.Street)}, {"district", q(r.District)}}
		if r.Days != registry.EveryDay && r.Days != 0 {
			f = append(f, kv{"days", "[" + strings.ReplaceAll(r.Days.String(), ",", ", ") + "]"})
		}
		return append(f, kv{"from", q(r.From.String())}, kv{"to", q(r.To.String())})
	})
	return bw.Flush()
}

type kv struct{ k, v string }

// q quotes a string for YAML (a JSON string is a YAML double-quoted
// scalar); "" stays empty so the key is left out.
func q(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func intv(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func list(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	qs := make([]string, len(ss))
	for i, s := range ss {
		qs[i] = q(s)
	}
	return "[" + strings.Join(qs, ", ") + "]"
}
