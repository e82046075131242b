package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/simulators/household"
	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a scenario file.
type Problem struct {
	File    string
	Line    int    // 1-based; 0 when not known
	Key     string // path of the key, e.g. "generate.buildings"; "" for the file
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File + ":")
	}
	if p.Line > 0 {
		b.WriteString(strconv.Itoa(p.Line) + ":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem of a scenario file, sorted by line.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

type decoder struct {
	file  string
	list  []Problem
	lines map[string]int // key path -> line, for checks after decoding
}

func (d *decoder) at(line int, key, format string, args ...any) {
	d.list = append(d.list, Problem{File: d.file, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

// problem reports a problem with a key that was decoded.
func (d *decoder) problem(key, format string, args ...any) {
	d.at(d.lines[key], key, format, args...)
}

func (d *decoder) err() error {
	if len(d.list) == 0 {
		return nil
	}
	slices.SortStableFunc(d.list, func(a, b Problem) int { return a.Line - b.Line })
	return &ValidationError{Problems: d.list}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses and validates a scenario; file names it in problems and
// anchors the relative paths in it.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{file: file, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.at(0, "", "the file is empty: start from the example in docs/simulators.md (cw-sim example)")
			return nil, d.err()
		}
		msg, line := err.Error(), 0
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		d.at(line, "", "YAML syntax error at or below this line: %s", strings.TrimPrefix(msg, "yaml: "))
		return nil, d.err()
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	s := Default()
	s.File = file
	if root.Kind != yaml.MappingNode {
		d.at(root.Line, "", "a scenario is a mapping of keys such as seed, clock, span and generate, got %s", kindOf(root))
		return nil, d.err()
	}
	d.scenario(root, s)
	d.validate(s)
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.ShortTag() == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// fields decodes mapping n at path with one handler per key; unknown and
// repeated keys are problems.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, key string)) {
	if n.Kind != yaml.MappingNode {
		d.at(n.Line, path, "must be a mapping of keys, got %s", kindOf(n))
		return
	}
	names := make([]string, 0, len(handlers))
	for k := range handlers {
		names = append(names, k)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if path != "" {
			key = path + "." + k.Value
		}
		h, ok := handlers[k.Value]
		switch {
		case !ok:
			d.at(k.Line, key, "unknown key%s; the keys here are %s", suggest(k.Value, names), strings.Join(names, ", "))
			continue
		case seen[k.Value]:
			d.at(k.Line, key, "repeated key: give it once")
			continue
		}
		seen[k.Value] = true
		d.lines[key] = k.Line
		h(v, key)
	}
}

// suggest returns `: did you mean "x"?` for a near miss.
func suggest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if dd := distance(s, n); dd < bestD {
			best, bestD = n, dd
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (d *decoder) scalar(v *yaml.Node, key, want string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		d.at(v.Line, key, "must be %s, got %s", want, kindOf(v))
		return "", false
	}
	return v.Value, true
}

func (d *decoder) integer(dst *int, lo, hi int) func(*yaml.Node, string) {
	return func(v *yaml.Node, key string) {
		s, ok := d.scalar(v, key, "a whole number")
		if !ok {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || v.ShortTag() != "!!int" {
			d.at(v.Line, key, "must be a whole number, got %q", s)
			return
		}
		if n < lo || n > hi {
			d.at(v.Line, key, "%d is out of range: use %d to %d", n, lo, hi)
			return
		}
		*dst = n
	}
}

func (d *decoder) number(dst *float64, lo, hi float64, what string) func(*yaml.Node, string) {
	return func(v *yaml.Node, key string) {
		s, ok := d.scalar(v, key, "a number")
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || math.IsNaN(f) || math.IsInf(f, 0) {
			d.at(v.Line, key, "must be a number, got %q", s)
			return
		}
		if f < lo || f > hi {
			d.at(v.Line, key, "%v is out of range: %s", f, what)
			return
		}
		*dst = f
	}
}

func (d *decoder) fraction(dst *float64) func(*yaml.Node, string) {
	return d.number(dst, 0, 1, "a share is between 0 and 1")
}

func (d *decoder) rate(dst *float64) func(*yaml.Node, string) {
	return d.number(dst, 0, 10, "expected episodes per thing and day, 0 to 10")
}

func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(v *yaml.Node, key string) {
		s, ok := d.scalar(v, key, "true or false")
		if !ok {
			return
		}
		if v.ShortTag() != "!!bool" {
			d.at(v.Line, key, "must be true or false, got %q", s)
			return
		}
		*dst = s == "true"
	}
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(v *yaml.Node, key string) {
		if s, ok := d.scalar(v, key, "a string"); ok {
			*dst = s
		}
	}
}

// ParseDuration parses a Go duration, also accepting whole days ("7d",
// "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return days + v, nil
}

func (d *decoder) duration(dst *time.Duration, lo, hi time.Duration) func(*yaml.Node, string) {
	return func(v *yaml.Node, key string) {
		s, ok := d.scalar(v, key, "a duration such as 90s, 5m, 36h or 7d")
		if !ok {
			return
		}
		if v.ShortTag() == "!!int" || v.ShortTag() == "!!float" {
			d.at(v.Line, key, "%s has no unit: write a duration such as %ss, 5m or 2h", s, s)
			return
		}
		dur, err := ParseDuration(s)
		if err != nil {
			d.at(v.Line, key, "%v: write a duration such as 90s, 5m, 36h or 7d", err)
			return
		}
		if dur < lo || dur > hi {
			d.at(v.Line, key, "%s is out of range: use %s to %s", s, fmtDur(lo), fmtDur(hi))
			return
		}
		*dst = dur
	}
}

func fmtDur(v time.Duration) string {
	if v >= 24*time.Hour && v%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", v/(24*time.Hour))
	}
	return strings.TrimSuffix(strings.TrimSuffix(v.String(), "0s"), "0m")
}

func (d *decoder) scenario(root *yaml.Node, s *Scenario) {
	var clock string
	var start string
	var seed int
	d.fields(root, "", map[string]func(*yaml.Node, string){
		"seed": func(v *yaml.Node, key string) {
			d.integer(&seed, 0, math.MaxInt)(v, key)
			s.Seed = uint64(seed)
		},
		"clock": d.str(&clock),
		"span":  d.duration(&s.Span, 0, 3650*24*time.Hour),
		"start": d.str(&start),
		"demo":  d.boolean(&s.Demo),
		"site":  d.str(&s.Site),
		"generate": func(v *yaml.Node, key string) {
			g := DefaultGenerate()
			d.generate(v, key, &g)
			s.Generate = &g
		},
		"intervals":  func(v *yaml.Node, key string) { d.intervals(v, key, &s.Intervals) },
		"households": func(v *yaml.Node, key string) { d.households(v, key, &s.Households) },
		"ebikes":     func(v *yaml.Node, key string) { d.ebikes(v, key, &s.EBikes) },
		"hazards":    func(v *yaml.Node, key string) { d.hazards(v, key, &s.Hazards) },
		"mqtt":       func(v *yaml.Node, key string) { d.mqtt(v, key, &s.MQTT) },
		"output":     func(v *yaml.Node, key string) { d.output(v, key, &s.Output) },
	})
	if clock != "" {
		c, ok := ParseClock(clock)
		if !ok {
			d.problem("clock", "%q is not a clock: use live, backfill or files%s", clock, suggest(clock, clockNames))
		}
		s.Clock = c
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			d.problem("start", "%q is not an RFC 3339 time: write e.g. 2026-01-12T00:00:00+08:00", start)
		}
		s.Start = t
	}
	if _, ok := d.lines["span"]; !ok {
		if s.Clock == Live {
			s.Span = 0
		}
	}
	s.Site = s.resolve(s.Site)
	s.Output.Dir = s.resolve(s.Output.Dir)
	s.Output.Truth = s.resolve(s.Output.Truth)
}

func (d *decoder) generate(v *yaml.Node, path string, g *Generate) {
	var center []float64
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"districts":              d.integer(&g.Districts, 1, 50),
		"streets_per_district":   d.integer(&g.StreetsPerDistrict, 1, 100),
		"communities_per_street": d.integer(&g.CommunitiesPerStreet, 1, 100),
		"buildings":              d.integer(&g.Buildings, 1, 200000),
		"units_per_building":     d.integer(&g.UnitsPerBuilding, 1, 500),
		"units_per_floor":        d.integer(&g.UnitsPerFloor, 1, 50),
		"shops":                  d.fraction(&g.Shops),
		"workshops":              d.fraction(&g.Workshops),
		"mixed_use":              d.fraction(&g.MixedUse),
		"charging_rooms":         d.integer(&g.ChargingRooms, 0, 100),
		"piles_per_room":         d.integer(&g.PilesPerRoom, 1, 20),
		"ports_per_pile":         d.integer(&g.PortsPerPile, 1, 64),
		"smoke_detectors":        d.fraction(&g.SmokeDetectors),
		"nb_iot":                 d.fraction(&g.NBIoT),
		"monitors":               d.boolean(&g.Monitors),
		"plugs":                  d.fraction(&g.Plugs),
		"rated_current_a":        d.number(&g.RatedA, 6, 125, "a breaker rating of 6 to 125 A"),
		"center": func(v *yaml.Node, key string) {
			if v.Kind != yaml.SequenceNode || len(v.Content) != 2 {
				d.at(v.Line, key, "must be [latitude, longitude] in degrees, e.g. [30.2741, 120.1551], got %s", kindOf(v))
				return
			}
			center = make([]float64, 2)
			d.number(&center[0], -90, 90, "a latitude is -90 to 90 degrees")(v.Content[0], key+"[0]")
			d.number(&center[1], -180, 180, "a longitude is -180 to 180 degrees")(v.Content[1], key+"[1]")
		},
	})
	if center != nil {
		g.Lat, g.Lon = center[0], center[1]
	}
	if g.Shops+g.Workshops > 1 {
		d.problem(path+".workshops", "shops (%v) and workshops (%v) together exceed all ground-floor units", g.Shops, g.Workshops)
	}
	if n := g.Districts * g.StreetsPerDistrict * g.CommunitiesPerStreet; n > g.Buildings {
		d.problem(path+".buildings", "%d buildings cannot fill %d communities (districts × streets_per_district × communities_per_street): add buildings or fewer communities", g.Buildings, n)
	}
	if units := g.Buildings * g.UnitsPerBuilding; units > 2_000_000 {
		d.problem(path+".units_per_building", "%d units is more than the 2,000,000 the simulator is sized for", units)
	}
}

func (d *decoder) intervals(v *yaml.Node, path string, iv *Intervals) {
	const lo, hi = time.Second, 24 * time.Hour
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"meter":   d.duration(&iv.Meter, lo, hi),
		"monitor": d.duration(&iv.Monitor, lo, hi),
		"pile":    d.duration(&iv.Pile, lo, hi),
		"smoke":   d.duration(&iv.Smoke, lo, hi),
		"plug":    d.duration(&iv.Plug, lo, hi),
	})
}

func (d *decoder) households(v *yaml.Node, path string, h *Households) {
	var season string
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"season": d.str(&season),
	})
	if season != "" {
		s, ok := household.ParseSeason(season)
		if !ok {
			d.problem(path+".season", "%q is not a season: use auto, winter, summer or mild", season)
		}
		h.Season = s
	}
}

func (d *decoder) ebikes(v *yaml.Node, path string, e *EBikes) {
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"indoor_units":      d.fraction(&e.IndoorUnits),
		"sessions_per_week": d.number(&e.SessionsPerWeek, 0, 21, "0 to 21 charges a week"),
		"chargers": func(v *yaml.Node, key string) {
			d.fields(v, key, map[string]func(*yaml.Node, string){
				"lithium":    d.number(&e.Lithium, 0, 1000, "a weight, 0 or more"),
				"lead_acid":  d.number(&e.LeadAcid, 0, 1000, "a weight, 0 or more"),
				"high_power": d.number(&e.HighPower, 0, 1000, "a weight, 0 or more"),
			})
			if e.Lithium+e.LeadAcid+e.HighPower == 0 {
				d.at(v.Line, key, "all charger weights are 0: give at least one family a weight")
			}
		},
		"two_bikes":     d.fraction(&e.TwoBikes),
		"left_plugged":  d.fraction(&e.LeftPlugged),
		"night_start":   d.fraction(&e.NightStart),
		"top_up":        d.fraction(&e.TopUp),
		"pile_sessions": d.number(&e.PileSessions, 0, 6, "0 to 6 sessions per port and day"),
	})
}

func (d *decoder) hazards(v *yaml.Node, path string, h *Hazards) {
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"overload":        d.rate(&h.Overload),
		"leakage":         d.rate(&h.Leakage),
		"cable_overtemp":  d.rate(&h.CableOverTemp),
		"over_voltage":    d.rate(&h.OverVoltage),
		"under_voltage":   d.rate(&h.UnderVoltage),
		"smoke_alarm":     d.rate(&h.SmokeAlarm),
		"smoke_test":      d.rate(&h.SmokeTest),
		"tamper":          d.rate(&h.Tamper),
		"low_battery":     d.rate(&h.LowBattery),
		"device_offline":  d.rate(&h.DeviceOffline),
		"gateway_offline": d.rate(&h.GatewayOffline),
		"power_cut":       d.rate(&h.PowerCut),
		"pile_fault":      d.rate(&h.PileFault),
		"port_overtemp":   d.rate(&h.PortOverTemp),
	})
}

func (d *decoder) mqtt(v *yaml.Node, path string, m *MQTT) {
	qos := int(m.QoS)
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"qos":          d.integer(&qos, 0, 1),
		"batch":        d.integer(&m.Batch, 1, 500),
		"in_flight":    d.integer(&m.InFlight, 1, 65535),
		"status_every": d.duration(&m.StatusEvery, time.Second, 24*time.Hour),
	})
	m.QoS = byte(qos)
}

func (d *decoder) output(v *yaml.Node, path string, o *Output) {
	d.fields(v, path, map[string]func(*yaml.Node, string){
		"dir":    d.str(&o.Dir),
		"format": d.str(&o.Format),
		"truth":  d.str(&o.Truth),
	})
	if o.Format != "csv" && o.Format != "jsonl" {
		d.problem(path+".format", "%q is not a file format: use csv or jsonl", o.Format)
	}
}

// validate checks what no single key can: combinations.
func (d *decoder) validate(s *Scenario) {
	_, hasSpan := d.lines["span"]
	_, hasStart := d.lines["start"]
	switch s.Clock {
	case Backfill:
		if s.Span <= 0 {
			d.at(d.lines["span"], "span", "a backfill needs a span greater than 0, e.g. span: 3d")
		} else if s.Span > MaxBackfill {
			d.problem("span", "%s is longer than a backfill may be (%s): readings older than the 10-day ingest window are rejected; use the files clock for longer spans", fmtDur(s.Span), fmtDur(MaxBackfill))
		}
		if hasStart {
			d.problem("start", "a backfill ends now and has no start: remove start, or use clock: files")
		}
	case Files:
		if !hasStart {
			d.at(d.lines["clock"], "start", "the files clock needs a start, e.g. start: 2026-01-12T00:00:00+08:00")
		}
		if !hasSpan || s.Span <= 0 {
			d.at(d.lines["clock"], "span", "the files clock needs a span greater than 0, e.g. span: 30d")
		}
	case Live:
		if hasStart {
			d.problem("start", "a live run starts now: remove start, or use clock: files")
		}
	}
	if s.Demo && s.Clock != Live {
		d.problem("demo", "demo scripts episodes into the first minutes of a live run: use clock: live")
	}
	if s.Site != "" && s.Generate != nil {
		d.problem("generate", "give either site (simulate a registry site file) or generate (make a city), not both")
	}
	if s.Site != "" {
		if _, ok := d.lines["intervals"]; ok {
			d.problem("intervals", "intervals apply to generated cities: the site file gives each device its interval")
		}
	}
	if s.Site == "" && s.Generate == nil {
		g := DefaultGenerate()
		s.Generate = &g
	}
}
