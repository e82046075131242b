package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/lifecycle"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// OfflineConfig configures offline detection, on wall time (the engine's
// clock, less the lag behind the log).
type OfflineConfig struct {
	// Misses is how many expected intervals a device may stay silent
	// before it is offline.
	Misses int `yaml:"misses"`
	// MinAfter is the shortest silence that makes a device offline, for
	// devices that report very often.
	MinAfter time.Duration `yaml:"min_after"`
	// GatewayAfter is how long after its Last Will ({"online":false}) a
	// gateway (or a device reported offline by its gateway) is offline.
	GatewayAfter time.Duration `yaml:"gateway_after"`
	// GatewayFor is how long a gateway's offline alert stays pending, so
	// that gateways of one street going down together become one area
	// outage instead of many gateway alerts.
	GatewayFor time.Duration `yaml:"gateway_for"`
	// An area outage is at least AreaMinGateways gateways of one street,
	// and at least AreaFraction of its gateways, going offline within
	// AreaWindow of each other.
	AreaMinGateways int           `yaml:"area_min_gateways"`
	AreaFraction    float64       `yaml:"area_fraction"`
	AreaWindow      time.Duration `yaml:"area_window"`
	// StartupGrace delays offline detection after a start until the input
	// adapter has reported its lag (Commit), or this long at most.
	StartupGrace time.Duration `yaml:"startup_grace"`
}

// Config is the engine's configuration: thresholds per device kind with
// overrides per building, unit and device, severities, the lifecycle
// policy and offline detection. Build it with DefaultConfig or ParseConfig.
type Config struct {
	Lifecycle lifecycle.Config
	Offline   OfflineConfig
	Severity  map[alerting.Rule]alerting.Severity
	Disabled  map[alerting.Rule]bool
	// CheckInterval is how often (event time of the input, or wall time
	// when idle) offline detection runs.
	CheckInterval time.Duration
	// PurgeCancelledAfter is how long cancelled (never fired) alerts are
	// kept.
	PurgeCancelledAfter time.Duration
	// LearnFromFalseAlarms makes the default charging model learn from a
	// person's false-alarm verdicts (detect.PhysicsParams.Feedback 1):
	// closing an indoor-charging alert as false_alarm refutes the size of
	// its step, which only a charge's rise or taper then confirms. Off by
	// default (round 44f: docs/detection.md, "Grid workers' verdicts").
	// Ignored when Options.ChargingModel is set.
	LearnFromFalseAlarms bool

	kinds     map[devices.Kind]*detect.Config
	overrides []override
}

// override is one entry of the overrides list.
type override struct {
	device, unit, building string
	kinds                  []devices.Kind // empty: all
	set                    []byte         // YAML of a partial detect.Config
	where                  string         // for errors: "file:line"
}

// DefaultSeverity returns the default severity of each rule.
func DefaultSeverity() map[alerting.Rule]alerting.Severity {
	const (
		info, warn, major, crit = alerting.SeverityInfo, alerting.SeverityWarning, alerting.SeverityMajor, alerting.SeverityCritical
	)
	return map[alerting.Rule]alerting.Severity{
		alerting.RuleSmoke:           crit,
		alerting.RuleArcFault:        major,
		alerting.RuleResidualCurrent: major, alerting.RuleOverTemperature: major, alerting.RulePortOverTemp: major,
		alerting.RuleOverload: major, alerting.RulePortOverload: major, alerting.RuleIndoorCharging: major,
		alerting.RuleAreaOutage:  major,
		alerting.RuleOverVoltage: warn, alerting.RuleUnderVoltage: warn, alerting.RulePhaseLoss: warn,
		alerting.RulePileFault: warn, alerting.RuleLongSession: warn, alerting.RuleNoTaper: warn,
		alerting.RuleTamper: warn, alerting.RuleDeviceFault: warn, alerting.RuleGatewayOffline: warn,
		alerting.RuleLowBattery: info, alerting.RuleDeviceOffline: info,
	}
}

// DefaultOffline returns the default offline detection settings.
func DefaultOffline() OfflineConfig {
	return OfflineConfig{
		Misses: 3, MinAfter: 5 * time.Minute, GatewayAfter: time.Minute, GatewayFor: 2 * time.Minute,
		AreaMinGateways: 3, AreaFraction: 0.5, AreaWindow: 10 * time.Minute, StartupGrace: 2 * time.Minute,
	}
}

// DefaultConfig returns the built-in configuration: the defaults of
// docs/alerting.md.
func DefaultConfig() *Config {
	c := &Config{
		Lifecycle: lifecycle.DefaultConfig(), Offline: DefaultOffline(), Severity: DefaultSeverity(),
		Disabled: map[alerting.Rule]bool{}, CheckInterval: 10 * time.Second, PurgeCancelledAfter: 7 * 24 * time.Hour,
		kinds: map[devices.Kind]*detect.Config{},
	}
	for _, k := range devices.Kinds() {
		d := detect.Defaults(k)
		c.kinds[k] = &d
	}
	return c
}

// Kind returns the thresholds of a device kind (before overrides). Change
// the returned value only before the engine starts.
func (c *Config) Kind(k devices.Kind) *detect.Config { return c.kinds[k] }

// fileConfig is the YAML file's shape.
type fileConfig struct {
	Lifecycle            yaml.Node            `yaml:"lifecycle"`
	Offline              yaml.Node            `yaml:"offline"`
	Severity             map[string]string    `yaml:"severity"`
	Disable              []string             `yaml:"disable"`
	CheckInterval        time.Duration        `yaml:"check_interval"`
	PurgeCancelledAfter  time.Duration        `yaml:"purge_cancelled_after"`
	LearnFromFalseAlarms *bool                `yaml:"learn_from_false_alarms"`
	Kinds                map[string]yaml.Node `yaml:"kinds"`
	Overrides            []yaml.Node          `yaml:"overrides"`
}

type fileOverride struct {
	Device   string    `yaml:"device"`
	Unit     string    `yaml:"unit"`
	Building string    `yaml:"building"`
	Kinds    []string  `yaml:"kinds"`
	Set      yaml.Node `yaml:"set"`
}

// LoadConfig reads and parses a configuration file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, b)
}

// ParseConfig parses an alerting configuration (docs/alerting.md shows
// one) over the defaults. Unknown keys are errors; every problem is
// reported, each with its file and line.
func ParseConfig(file string, data []byte) (*Config, error) {
	c := DefaultConfig()
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	bad := func(line int, format string, args ...any) {
		where := file
		if line > 0 {
			where = fmt.Sprintf("%s:%d", file, line)
		}
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	if !fc.Lifecycle.IsZero() {
		if err := decodeOnto(&fc.Lifecycle, &c.Lifecycle); err != nil {
			bad(fc.Lifecycle.Line, "lifecycle: %v", err)
		}
	}
	if !fc.Offline.IsZero() {
		if err := decodeOnto(&fc.Offline, &c.Offline); err != nil {
			bad(fc.Offline.Line, "offline: %v", err)
		}
	}
	if fc.CheckInterval != 0 {
		c.CheckInterval = fc.CheckInterval
	}
	if fc.LearnFromFalseAlarms != nil {
		c.LearnFromFalseAlarms = *fc.LearnFromFalseAlarms
	}
	if fc.PurgeCancelledAfter != 0 {
		c.PurgeCancelledAfter = fc.PurgeCancelledAfter
	}
	for name, sev := range fc.Severity {
		r := alerting.Rule(name)
		s, err := alerting.ParseSeverity(sev)
		switch {
		case !r.Valid():
			bad(0, "severity: unknown rule %q", name)
		case err != nil:
			bad(0, "severity.%s: %v", name, err)
		default:
			c.Severity[r] = s
		}
	}
	for _, name := range fc.Disable {
		if r := alerting.Rule(name); r.Valid() {
			c.Disabled[r] = true
		} else {
			bad(0, "disable: unknown rule %q", name)
		}
	}
	for name, node := range fc.Kinds {
		k, err := devices.ParseKind(name)
		if err != nil {
			bad(node.Line, "kinds: %v", err)
			continue
		}
		if err := decodeOnto(&node, c.kinds[k]); err != nil {
			bad(node.Line, "kinds.%s: %v", name, err)
			continue
		}
		if err := c.kinds[k].Validate("kinds." + name); err != nil {
			bad(node.Line, "%v", err)
		}
	}
	for i, node := range fc.Overrides {
		var o fileOverride
		// Decode the node itself (not a copy) to keep the set's line.
		if err := knownKeys(&node, "device", "unit", "building", "kinds", "set"); err != nil {
			bad(node.Line, "overrides[%d]: %v", i, err)
			continue
		}
		if err := node.Decode(&o); err != nil {
			bad(node.Line, "overrides[%d]: %v", i, err)
			continue
		}
		n := 0
		for _, s := range []string{o.Device, o.Unit, o.Building} {
			if s != "" {
				n++
			}
		}
		line := node.Line
		if n != 1 {
			bad(line, "overrides[%d]: name exactly one of device, unit and building", i)
			continue
		}
		if !o.Set.IsZero() {
			line = o.Set.Line
		}
		ov := override{device: o.Device, unit: o.Unit, building: o.Building, where: fmt.Sprintf("%s:%d", file, line)}
		for _, kn := range o.Kinds {
			k, err := devices.ParseKind(kn)
			if err != nil {
				bad(line, "overrides[%d].kinds: %v", i, err)
				continue
			}
			ov.kinds = append(ov.kinds, k)
		}
		b, err := yaml.Marshal(&o.Set)
		if err != nil {
			bad(line, "overrides[%d].set: %v", i, err)
			continue
		}
		ov.set = b
		// Check the override against every kind it applies to now, so
		// that a bad key or value is reported at start.
		for _, k := range devices.Kinds() {
			if len(ov.kinds) > 0 && !slices.Contains(ov.kinds, k) {
				continue
			}
			cfg := *c.kinds[k]
			if err := decodeBytes(b, &cfg); err != nil {
				bad(line, "overrides[%d].set: %v", i, err)
				break
			}
			if err := cfg.Validate(fmt.Sprintf("overrides[%d].set (%s)", i, k)); err != nil {
				bad(line, "%v", err)
				break
			}
		}
		c.overrides = append(c.overrides, ov)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", file, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// knownKeys checks that a mapping node has only the given keys.
func knownKeys(n *yaml.Node, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("expected a mapping with %s", strings.Join(keys, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(keys, k) {
			return fmt.Errorf("line %d: unknown key %q: use %s", n.Content[i].Line, k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// decodeOnto decodes a YAML node onto v strictly: keys present replace
// the values in v, keys absent keep them, unknown keys are errors.
func decodeOnto(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Validate checks the settings that are not per kind.
func (c *Config) Validate() error {
	var errs []string
	o := c.Offline
	if o.Misses < 1 {
		errs = append(errs, "offline.misses must be at least 1")
	}
	if o.MinAfter <= 0 || o.GatewayAfter <= 0 || o.GatewayFor < 0 || o.AreaWindow <= 0 || o.StartupGrace < 0 {
		errs = append(errs, "offline durations must be positive")
	}
	if o.AreaMinGateways < 2 {
		errs = append(errs, "offline.area_min_gateways must be at least 2")
	}
	if o.AreaFraction <= 0 || o.AreaFraction > 1 {
		errs = append(errs, "offline.area_fraction must be in (0, 1]")
	}
	if c.Lifecycle.Grace < 0 || c.Lifecycle.RelapseWindow < 0 {
		errs = append(errs, "lifecycle.grace and lifecycle.relapse_window cannot be negative")
	}
	if c.CheckInterval <= 0 {
		errs = append(errs, "check_interval must be positive")
	}
	for _, r := range alerting.Rules() {
		if c.Severity[r] == 0 {
			errs = append(errs, fmt.Sprintf("severity of rule %s is not set", r))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// resolver resolves and caches the thresholds of devices. Only the places
// named in overrides get their own Config; every other device shares its
// kind's.
type resolver struct {
	c         *Config
	devices   map[string]bool
	units     map[string]bool
	buildings map[string]bool
	cache     map[resolveKey]*detect.Config
	errs      map[resolveKey]error
}

type resolveKey struct {
	kind                   devices.Kind
	building, unit, device string
}

func newResolver(c *Config) *resolver {
	r := &resolver{c: c, devices: map[string]bool{}, units: map[string]bool{}, buildings: map[string]bool{},
		cache: map[resolveKey]*detect.Config{}, errs: map[resolveKey]error{}}
	for _, o := range c.overrides {
		switch {
		case o.device != "":
			r.devices[o.device] = true
		case o.unit != "":
			r.units[o.unit] = true
		case o.building != "":
			r.buildings[o.building] = true
		}
	}
	return r
}

// config returns the thresholds of a device: its kind's, then the
// overrides of its building, its unit and itself, in that order (the most
// specific wins), each in file order.
func (r *resolver) config(d *registry.Device) *detect.Config {
	if len(r.c.overrides) == 0 {
		return r.c.kinds[d.Kind]
	}
	k := resolveKey{kind: d.Kind}
	if r.buildings[d.Building.ID] {
		k.building = d.Building.ID
	}
	if u := d.UnitID(); r.units[u] {
		k.unit = u
	}
	if r.devices[d.ID] {
		k.device = d.ID
	}
	if k.building == "" && k.unit == "" && k.device == "" {
		return r.c.kinds[d.Kind]
	}
	if c, ok := r.cache[k]; ok {
		return c
	}
	cfg := *r.c.kinds[d.Kind]
	for _, level := range []func(o *override) bool{
		func(o *override) bool { return k.building != "" && o.building == k.building },
		func(o *override) bool { return k.unit != "" && o.unit == k.unit },
		func(o *override) bool { return k.device != "" && o.device == k.device },
	} {
		for i := range r.c.overrides {
			o := &r.c.overrides[i]
			if !level(o) || (len(o.kinds) > 0 && !slices.Contains(o.kinds, d.Kind)) {
				continue
			}
			next := cfg
			if err := decodeBytes(o.set, &next); err != nil {
				r.errs[k] = fmt.Errorf("override at %s: %w", o.where, err)
				continue
			}
			if err := next.Validate("override at " + o.where); err != nil {
				r.errs[k] = err
				continue
			}
			cfg = next
		}
	}
	r.cache[k] = &cfg
	return &cfg
}
