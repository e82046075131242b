package registry

import (
	"slices"
	"strings"
	"time"
)

// Covers reports whether t falls in the duty window, in Asia/Shanghai time.
// A window starts on each of its days at From and ends at To; when To is not
// after From it ends on the next day, so a Friday 20:00-08:00 window covers
// Saturday 07:59 but not Friday 07:59.
func (r *Roster) Covers(t time.Time) bool {
	t = t.In(shanghai)
	m := TimeOfDay(t.Hour()*60 + t.Minute())
	day := t.Weekday()
	if r.From < r.To {
		return r.Days.Has(day) && m >= r.From && m < r.To
	}
	yesterday := (day + 6) % 7
	return (r.Days.Has(day) && m >= r.From) || (r.Days.Has(yesterday) && m < r.To)
}

// OnDuty returns the people on duty for a community at t, by their rosters
// in Asia/Shanghai time, in id order. It is nil for an unknown community or
// when nobody is on duty.
func (s *Snapshot) OnDuty(community string, at time.Time) []*Person {
	c, ok := s.communities[community]
	if !ok {
		return nil
	}
	return onDuty(c.Rosters, at)
}

// OnDutyStreet returns the people on duty for a street at t, in id order.
func (s *Snapshot) OnDutyStreet(street string, at time.Time) []*Person {
	st, ok := s.streets[street]
	if !ok {
		return nil
	}
	return onDuty(st.Rosters, at)
}

// OnDutyDistrict returns the people on duty for a district at t, in id order.
func (s *Snapshot) OnDutyDistrict(district string, at time.Time) []*Person {
	d, ok := s.districts[district]
	if !ok {
		return nil
	}
	return onDuty(d.Rosters, at)
}

func onDuty(rosters []*Roster, at time.Time) []*Person {
	var out []*Person
	for _, r := range rosters {
		if r.Covers(at) && !slices.Contains(out, r.Person) {
			out = append(out, r.Person)
		}
	}
	slices.SortFunc(out, func(a, b *Person) int { return strings.Compare(a.ID, b.ID) })
	return out
}
