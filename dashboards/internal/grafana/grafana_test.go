package grafana

import (
	"testing"
	"time"
)

func state(vars []Variable, sel map[string]Selection, opts map[string][]string) *State {
	st := &State{vars: map[string]*Variable{}, selected: sel, options: opts}
	for i := range vars {
		st.vars[vars[i].Name] = &vars[i]
	}
	return st
}

// TestInterpolate pins the interpolation to what Grafana's templateSrv does
// with the InfluxDB datasource's 'regex' format.
func TestInterpolate(t *testing.T) {
	from := time.UnixMilli(1767225600000)
	to := time.UnixMilli(1767312000000)
	st := state([]Variable{
		{Name: "district", Multi: true, IncludeAll: true, AllValue: ".*"},
		{Name: "street", Multi: true, IncludeAll: true},
		{Name: "building", Multi: false},
		{Name: "device", Multi: true},
		{Name: "level"},
	}, map[string]Selection{
		"district": {All: true},
		"street":   {All: true},
		"building": {Values: []string{"b-2.east"}},
		"device":   {Values: []string{"m1", "m.2(x)"}},
		"level":    {Values: []string{"street"}},
	}, map[string][]string{
		"street": {"s1", "s.2"},
	})
	for _, c := range []struct{ in, want string }{
		{`"district" =~ /^$district$/`, `"district" =~ /^.*$/`},         // custom all value, as is
		{`"street" =~ /^$street$/`, `"street" =~ /^(s1|s\.2)$/`},        // All without one: every option
		{`"building" =~ /^$building$/`, `"building" =~ /^b-2\.east$/`},  // escaped; - is not special
		{`"device" =~ /^${device}$/`, `"device" =~ /^(m1|m\.2\(x\))$/`}, // several values
		{`[[building]] ${building:raw}`, `b-2\.east b-2.east`},          // other syntaxes
		{`GROUP BY "$level"`, `GROUP BY "street"`},                      // single custom value
		{`time > ${__to}ms - 2m AND time >= ${__from}ms`, `time > 1767312000000ms - 2m AND time >= 1767225600000ms`},
		{`$timeFilter AND $__interval_ms < 3600000 GROUP BY time($__interval)`, `$timeFilter AND $__interval_ms < 3600000 GROUP BY time($__interval)`}, // left for the backend
		{`/(^|,)$device(,|$)/`, `/(^|,)(m1|m\.2\(x\))(,|$)/`},
		{`$tag_${level}`, `$tag_street`},
	} {
		if got := st.Interpolate(c.in, from, to, "regex"); got != c.want {
			t.Errorf("Interpolate(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestRoundAndCalculateInterval(t *testing.T) {
	for _, c := range []struct {
		ms   float64
		want int64
	}{{432000, 300000}, {3456000, 3600000}, {2699999, 1800000}, {2700000, 3600000}, {12960000, 10800000}, {20, 20}, {5, 1}} {
		if got := RoundInterval(c.ms); got != c.want {
			t.Errorf("RoundInterval(%v) = %d, want %d", c.ms, got, c.want)
		}
	}
	to := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		rng  time.Duration
		mdp  int
		low  string
		want time.Duration
	}{
		{24 * time.Hour, 200, "1m", 5 * time.Minute},
		{time.Hour, 200, "1m", time.Minute}, // 18 s rounds to 20 s, below the limit
		{8 * 24 * time.Hour, 200, "1m", time.Hour},
		{6 * 24 * time.Hour, 200, "", 30 * time.Minute},
		{30 * 24 * time.Hour, 200, "", 3 * time.Hour},
		{3 * time.Hour, 200, "15s", time.Minute},
	} {
		got, err := CalculateInterval(to.Add(-c.rng), to, c.mdp, c.low)
		if err != nil || got != c.want {
			t.Errorf("CalculateInterval(%v, %d, %q) = %v, %v; want %v", c.rng, c.mdp, c.low, got, err, c.want)
		}
	}
}

func TestMacros(t *testing.T) {
	from, to := time.UnixMilli(1000), time.UnixMilli(90000)
	got := InfluxMacros(`SELECT mean("p") FROM m WHERE $timeFilter AND $__interval_ms < 3600000 GROUP BY time($__interval), time($interval)`, from, to, 5*time.Minute)
	want := `SELECT mean("p") FROM m WHERE time >= 1000ms and time <= 90000ms AND 300000 < 3600000 GROUP BY time(5m), time(5m)`
	if got != want {
		t.Errorf("InfluxMacros:\n got %s\nwant %s", got, want)
	}
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h", 36 * time.Hour: "1d", 500 * time.Millisecond: "500ms"} {
		if got := FormatInterval(d); got != want {
			t.Errorf("FormatInterval(%v) = %s, want %s", d, got, want)
		}
	}
	if got := RateInterval(time.Minute, 15*time.Second); got != 75*time.Second {
		t.Errorf("RateInterval = %v", got)
	}
	if got := RateInterval(5*time.Second, 15*time.Second); got != time.Minute {
		t.Errorf("RateInterval = %v", got)
	}
	if got := PromMacros(`rate(x[$__rate_interval])`, from, to, time.Minute, 15*time.Second); got != `rate(x[75s])` {
		t.Errorf("PromMacros = %s", got)
	}
}

func TestReferences(t *testing.T) {
	got := References(`SELECT x FROM m WHERE "a" =~ /^$district$/ AND ${street:regex} [[unit]] time > ${__to}ms AND $timeFilter`)
	want := []string{"district", "street", "unit", "__to", "timeFilter"}
	if len(got) != len(want) {
		t.Fatalf("References = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("References = %v, want %v", got, want)
		}
	}
}
