package registry

import (
	"slices"
	"testing"
	"time"
)

func TestRosterCovers(t *testing.T) {
	sh := Shanghai()
	// 2025-01-03 is a Friday.
	at := func(day, hour, min int) time.Time { return time.Date(2025, 1, day, hour, min, 0, 0, sh) }
	fri := Weekdays(0).With(time.Friday)
	for _, tc := range []struct {
		name   string
		r      Roster
		t      time.Time
		covers bool
	}{
		{"day window, inside", Roster{Days: fri, From: 8 * 60, To: 20 * 60}, at(3, 8, 0), true},
		{"day window, end is exclusive", Roster{Days: fri, From: 8 * 60, To: 20 * 60}, at(3, 20, 0), false},
		{"day window, other day", Roster{Days: fri, From: 8 * 60, To: 20 * 60}, at(4, 12, 0), false},
		{"night window, evening of its day", Roster{Days: fri, From: 20 * 60, To: 8 * 60}, at(3, 23, 30), true},
		{"night window, morning after its day", Roster{Days: fri, From: 20 * 60, To: 8 * 60}, at(4, 7, 59), true},
		{"night window, morning of its own day", Roster{Days: fri, From: 20 * 60, To: 8 * 60}, at(3, 7, 59), false},
		{"night window, ends at 08:00", Roster{Days: fri, From: 20 * 60, To: 8 * 60}, at(4, 8, 0), false},
		{"until midnight", Roster{Days: fri, From: 22 * 60, To: 0}, at(3, 23, 59), true},
		{"until midnight, not after", Roster{Days: fri, From: 22 * 60, To: 0}, at(4, 0, 0), false},
		{"round the clock", Roster{Days: EveryDay, From: 0, To: 24 * 60}, at(5, 23, 59), true},
		{"UTC input is converted", Roster{Days: fri, From: 8 * 60, To: 9 * 60}, time.Date(2025, 1, 3, 0, 30, 0, 0, time.UTC), true},
		{"UTC input, Thursday in UTC is Friday in Shanghai", Roster{Days: fri, From: 0, To: 60}, time.Date(2025, 1, 2, 16, 30, 0, 0, time.UTC), true},
		{"Sunday night wraps to Monday", Roster{Days: Weekdays(0).With(time.Sunday), From: 20 * 60, To: 8 * 60}, at(6, 3, 0), true},
	} {
		if got := tc.r.Covers(tc.t); got != tc.covers {
			t.Errorf("%s: Covers(%s) = %v, want %v", tc.name, tc.t.In(sh).Format("Mon 15:04"), got, tc.covers)
		}
	}
}

func TestOnDuty(t *testing.T) {
	s := demoSnapshot(t)
	sh := Shanghai()
	at := func(day, hour, min int) time.Time { return time.Date(2025, 1, day, hour, min, 0, 0, sh) } // 3 = Friday
	ids := func(ps []*Person) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	// c-my: p-zhao-min 08-20 every day and 20-08 starting mon-fri;
	// p-li-qiang 08-20 on sat and sun.
	for _, tc := range []struct {
		name      string
		community string
		t         time.Time
		want      []string
	}{
		{"friday day", "c-my", at(3, 12, 0), []string{"p-zhao-min"}},
		{"friday night", "c-my", at(3, 21, 0), []string{"p-zhao-min"}},
		{"saturday early: friday's night shift", "c-my", at(4, 7, 59), []string{"p-zhao-min"}},
		{"saturday day: two rosters", "c-my", at(4, 8, 0), []string{"p-li-qiang", "p-zhao-min"}},
		{"saturday night: nobody", "c-my", at(4, 21, 0), nil},
		{"monday early: sunday had no night shift", "c-my", at(6, 3, 0), nil},
		{"c-dt night wraps midnight", "c-dt", at(5, 2, 0), []string{"p-li-qiang"}},
		{"unknown community", "c-none", at(3, 12, 0), nil},
	} {
		if got := ids(s.OnDuty(tc.community, tc.t)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: OnDuty(%s, %s) = %v, want %v", tc.name, tc.community, tc.t.Format("Mon 15:04"), got, tc.want)
		}
	}
	// Street officers: weekdays 08:30-17:30, weekends round the clock.
	if got := ids(s.OnDutyStreet("st-msx", at(3, 8, 29))); got != nil {
		t.Errorf("street officer on duty before office hours: %v", got)
	}
	if got := ids(s.OnDutyStreet("st-msx", at(4, 3, 0))); !slices.Equal(got, []string{"p-zhou-hua"}) {
		t.Errorf("street officer at the weekend: %v", got)
	}
	if got := ids(s.OnDutyDistrict("d-gs", at(3, 3, 0))); !slices.Equal(got, []string{"p-fire-gs", "p-zheng-wei"}) {
		t.Errorf("district on duty: %v", got)
	}
}
