// Package alerting holds the vocabulary that chargewatch's alerting engine,
// its store, its HTTP API and its InfluxDB writer share: rules, severities,
// alert states and outcomes, places and locations, alerts, evidence and the
// audit log.
//
// The engine is built from small packages, each with one job:
//
//	detect     pure per-device detectors on event time (no I/O)
//	lifecycle  the alert state machine and its transition table
//	store      SQLite: alerts, audit log, detector checkpoints, silences, tokens
//	engine     wires detectors > lifecycle > store, offline detection, Run
//	api        HTTP JSON API with token authentication and scopes
//	influx     alert points and periodic snapshots in InfluxDB
//
// docs/alerting.md describes the rules and their defaults, docs/api.md the
// API and the transition table.
package alerting

import (
	"errors"
	"fmt"
	"strconv"
)

// Errors that the packages of the engine wrap, so that the API can map
// them to HTTP statuses with errors.Is.
var (
	ErrNotFound = errors.New("not found")       // 404
	ErrConflict = errors.New("conflict")        // 409: not allowed in the alert's state
	ErrInvalid  = errors.New("invalid request") // 400: can never succeed as asked
)

// Rule names a hazard rule. The name is stable: it is stored, shown in the
// API and written to InfluxDB as a tag.
type Rule string

// Rules. See docs/alerting.md for what each detects and its defaults.
const (
	RuleIndoorCharging  Rule = "indoor_charging"       // e-bike charged in a unit that is not a charging room
	RuleOverload        Rule = "overload"              // current over the rating, inverse-time
	RulePortOverload    Rule = "port_overload"         // charging-pile port power over its limit
	RuleResidualCurrent Rule = "residual_current"      // leakage current >= 300 mA
	RuleOverTemperature Rule = "over_temperature"      // a temperature channel too hot
	RuleOverVoltage     Rule = "over_voltage"          // supply voltage too high
	RuleUnderVoltage    Rule = "under_voltage"         // supply voltage too low
	RuleArcFault        Rule = "arc_fault"             // fire monitor reported an arc fault
	RulePhaseLoss       Rule = "phase_loss"            // a phase is lost
	RulePileFault       Rule = "pile_fault"            // charging-pile fault code
	RulePortOverTemp    Rule = "port_over_temperature" // charging-pile port too hot
	RuleLongSession     Rule = "long_session"          // charging session longer than 8 h
	RuleNoTaper         Rule = "no_taper"              // charging power never tapers
	RuleSmoke           Rule = "smoke"                 // smoke alarm
	RuleTamper          Rule = "tamper"                // detector removed or opened
	RuleLowBattery      Rule = "low_battery"           // detector battery low
	RuleDeviceFault     Rule = "device_fault"          // device reports a fault
	RuleDeviceOffline   Rule = "device_offline"        // device missed its heartbeats
	RuleGatewayOffline  Rule = "gateway_offline"       // gateway missed its heartbeats or went away
	RuleAreaOutage      Rule = "area_outage"           // many gateways of one street offline together
)

// Rules lists every rule in a stable order.
func Rules() []Rule {
	return []Rule{
		RuleIndoorCharging, RuleOverload, RulePortOverload, RuleResidualCurrent, RuleOverTemperature,
		RuleOverVoltage, RuleUnderVoltage, RuleArcFault, RulePhaseLoss, RulePileFault, RulePortOverTemp,
		RuleLongSession, RuleNoTaper, RuleSmoke, RuleTamper, RuleLowBattery, RuleDeviceFault,
		RuleDeviceOffline, RuleGatewayOffline, RuleAreaOutage,
	}
}

// Valid reports whether r is a known rule.
func (r Rule) Valid() bool {
	for _, k := range Rules() {
		if k == r {
			return true
		}
	}
	return false
}

// PlaceKind is what an alert is about: the thing whose key makes it unique.
type PlaceKind string

// Place kinds. The place of a hazard is the unit for charging (a meter and a
// plug in one unit give one alert), the device for electrical and detector
// hazards, the gateway for a gateway outage and the street for an area
// outage.
const (
	PlaceUnit    PlaceKind = "unit"
	PlaceDevice  PlaceKind = "device"
	PlaceGateway PlaceKind = "gateway"
	PlaceStreet  PlaceKind = "street"
)

// PlaceOf returns the kind of place alerts of rule r are about.
func PlaceOf(r Rule) PlaceKind {
	switch r {
	case RuleIndoorCharging:
		return PlaceUnit
	case RuleGatewayOffline:
		return PlaceGateway
	case RuleAreaOutage:
		return PlaceStreet
	}
	return PlaceDevice
}

// Severity orders alerts by urgency. The zero value is not a severity.
type Severity uint8

// Severities, least urgent first.
const (
	SeverityInfo     Severity = iota + 1 // record and show; no one is woken up
	SeverityWarning                      // needs follow-up within the day
	SeverityMajor                        // a hazard: follow up now
	SeverityCritical                     // fire or imminent fire: immediate, never grouped
)

var severityNames = [...]string{"", "info", "warning", "major", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) && s > 0 {
		return severityNames[s]
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// ParseSeverity parses a severity name.
func ParseSeverity(s string) (Severity, error) {
	for i := 1; i < len(severityNames); i++ {
		if severityNames[i] == s {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use info, warning, major or critical", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) {
	if s == 0 || int(s) >= len(severityNames) {
		return nil, fmt.Errorf("invalid severity %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// State is where an alert is in its lifecycle. docs/api.md has the
// transition table; package lifecycle enforces it.
type State string

// States.
const (
	StatePending      State = "pending"      // condition holds, its for-duration is running; not notified
	StateFiring       State = "firing"       // condition held long enough; notified
	StateAcknowledged State = "acknowledged" // someone took it on
	StateResolved     State = "resolved"     // condition cleared (with hysteresis); waits for a close with an outcome
	StateClosed       State = "closed"       // closed by a person with an outcome and a note
	StateCancelled    State = "cancelled"    // condition cleared before its for-duration ran out; never notified
)

// States lists every state in lifecycle order.
func States() []State {
	return []State{StatePending, StateFiring, StateAcknowledged, StateResolved, StateClosed, StateCancelled}
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StatePending, StateFiring, StateAcknowledged, StateResolved, StateClosed, StateCancelled:
		return true
	}
	return false
}

// Active reports whether the alert's condition is current: pending, firing
// or acknowledged. At most one alert per key is active.
func (s State) Active() bool {
	return s == StatePending || s == StateFiring || s == StateAcknowledged
}

// Open reports whether the alert still needs a person: every state but
// closed and cancelled.
func (s State) Open() bool { return s != StateClosed && s != StateCancelled && s != "" }

// Outcome is how a closed alert ended.
type Outcome string

// Outcomes.
const (
	OutcomeRectified  Outcome = "rectified"   // the hazard was removed on site
	OutcomeFalseAlarm Outcome = "false_alarm" // there was no hazard
	OutcomeReferred   Outcome = "referred"    // handed to another authority (fire brigade, landlord, police)
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool {
	return o == OutcomeRectified || o == OutcomeFalseAlarm || o == OutcomeReferred
}

// Location is where an alert's place sits in the hierarchy. Fields that do
// not apply are empty (an area outage has only district and street).
type Location struct {
	District  string  `json:"district,omitempty"`
	Street    string  `json:"street,omitempty"`
	Community string  `json:"community,omitempty"`
	Building  string  `json:"building,omitempty"`
	Unit      string  `json:"unit,omitempty"`
	UnitType  string  `json:"unit_type,omitempty"`
	Gateway   string  `json:"gateway,omitempty"`
	Device    string  `json:"device,omitempty"`
	Kind      string  `json:"kind,omitempty"` // device kind
	Lat       float64 `json:"lat,omitempty"`
	Lon       float64 `json:"lon,omitempty"`
}

// Sample is one piece of evidence: a reading (or event) that made a detector
// raise, with the fields that mattered.
type Sample struct {
	TS     int64              `json:"ts"` // event time, Unix ms
	Device string             `json:"device,omitempty"`
	Port   int                `json:"port,omitempty"`
	Event  string             `json:"event,omitempty"` // event type when the sample is an event
	Code   string             `json:"code,omitempty"`  // event code (fault code, stop reason)
	Values map[string]float64 `json:"values,omitempty"`
}

// MaxEvidence bounds an alert's evidence samples.
const MaxEvidence = 16

// Key identifies the place an alert is about; at most one active alert
// exists per key.
type Key struct {
	Rule  Rule
	Place string // unit, device, gateway or street id, per PlaceOf(Rule)
	Port  int    // charging-pile port; 0 otherwise
}

func (k Key) String() string {
	s := string(k.Rule) + "/" + k.Place
	if k.Port != 0 {
		s += "/" + strconv.Itoa(k.Port)
	}
	return s
}

// Alert is one occurrence of a hazard at one place, from its first reading
// over the threshold until a person closes it. Times are Unix milliseconds:
// Started, Fired and Resolved are event time (the readings' ts); the times
// of human actions are wall time.
type Alert struct {
	ID        int64     `json:"id"`
	Rule      Rule      `json:"rule"`
	Severity  Severity  `json:"severity"`
	State     State     `json:"state"`
	PlaceKind PlaceKind `json:"place_kind"`
	Place     string    `json:"place"`
	Port      int       `json:"port,omitempty"`
	Location  Location  `json:"location"`
	Summary   string    `json:"summary"`
	Value     float64   `json:"value"` // the worst value seen while active (W, A, mA, °C, V, h, ...)
	Limit     float64   `json:"limit"` // the threshold it was held against
	Unit      string    `json:"unit,omitempty"`
	Code      string    `json:"code,omitempty"` // device fault code, when there is one

	Sources  []string `json:"sources"`  // devices whose condition is active (two for a meter and a plug in one unit)
	Evidence []Sample `json:"evidence"` // readings that triggered it, oldest first, at most MaxEvidence

	StartedAt  int64   `json:"started_at"`            // first reading over the threshold
	FiredAt    int64   `json:"fired_at,omitempty"`    // for-duration ran out (or immediate)
	AckedAt    int64   `json:"acked_at,omitempty"`    // wall time
	AckedBy    string  `json:"acked_by,omitempty"`    // person or token subject
	ResolvedAt int64   `json:"resolved_at,omitempty"` // condition cleared
	ClosedAt   int64   `json:"closed_at,omitempty"`   // wall time
	ClosedBy   string  `json:"closed_by,omitempty"`
	Outcome    Outcome `json:"outcome,omitempty"`
	Note       string  `json:"note,omitempty"` // the closing note

	// ResolvedUnacked is set when the alert resolved while nobody had
	// acknowledged it; the design asks for that to be reported.
	ResolvedUnacked bool  `json:"resolved_unacked,omitempty"`
	Reopens         int   `json:"reopens,omitempty"`    // times it fired again within the grace period
	Relapse         bool  `json:"relapse,omitempty"`    // same hazard, same place within 30 days of a rectified close
	RelapseOf       int64 `json:"relapse_of,omitempty"` // that closed alert
	SilenceID       int64 `json:"silence_id,omitempty"` // a silence covered it when it fired: no notification
	UpdatedAt       int64 `json:"updated_at"`           // wall time of the last change
}

// Key returns the alert's key.
func (a *Alert) Key() Key { return Key{Rule: a.Rule, Place: a.Place, Port: a.Port} }

// Clone returns a deep copy of a.
func (a *Alert) Clone() *Alert {
	c := *a
	c.Sources = append([]string(nil), a.Sources...)
	c.Evidence = append([]Sample(nil), a.Evidence...)
	return &c
}

// Action is what happened in one audit entry.
type Action string

// Actions of the audit log. Each names a transition of the table in
// docs/api.md, plus updates that do not change the state.
const (
	ActionPending Action = "pending" // created pending
	ActionFire    Action = "fire"    // created firing, or pending > firing
	ActionAck     Action = "ack"     // firing > acknowledged
	ActionResolve Action = "resolve" // firing|acknowledged > resolved
	ActionReopen  Action = "reopen"  // resolved > firing within the grace period
	ActionClose   Action = "close"   // acknowledged|resolved > closed
	ActionCancel  Action = "cancel"  // pending > cancelled
)

// Audit is one entry of an alert's audit log: who did what when.
type Audit struct {
	ID       int64    `json:"id"` // increases with every entry across all alerts
	AlertID  int64    `json:"alert_id"`
	At       int64    `json:"at"`       // wall time, Unix ms
	EventTS  int64    `json:"event_ts"` // event time of the reading that caused it; 0 for human actions
	Actor    string   `json:"actor"`    // "engine", or the person or token subject
	Action   Action   `json:"action"`
	From     State    `json:"from,omitempty"`
	To       State    `json:"to"`
	Outcome  Outcome  `json:"outcome,omitempty"`
	Note     string   `json:"note,omitempty"`
	Severity Severity `json:"severity"`
}

// ActorEngine is the actor of transitions the engine makes by itself.
const ActorEngine = "engine"

// Silence is a maintenance window: alerts whose place it covers are still
// recorded, but carry its id and are not notified. It covers exactly one of
// a device, a building or a community, from StartsAt until EndsAt (or until
// someone ends it early). With no Rules it covers every rule whose severity
// is below critical: a smoke alarm is never silenced unless a silence names
// the smoke rule.
type Silence struct {
	ID        int64  `json:"id"`
	Device    string `json:"device,omitempty"`
	Building  string `json:"building,omitempty"`
	Community string `json:"community,omitempty"`
	Rules     []Rule `json:"rules,omitempty"`
	Reason    string `json:"reason"`
	StartsAt  int64  `json:"starts_at"` // Unix ms
	EndsAt    int64  `json:"ends_at"`
	CreatedBy string `json:"created_by"`
	CreatedAt int64  `json:"created_at"`
	EndedAt   int64  `json:"ended_at,omitempty"` // ended early
	EndedBy   string `json:"ended_by,omitempty"`

	// Location is where the silenced place sits, for scope checks.
	Location Location `json:"location"`
}

// ActiveAt reports whether the silence is in force at t (Unix ms).
func (s *Silence) ActiveAt(t int64) bool {
	end := s.EndsAt
	if s.EndedAt != 0 && s.EndedAt < end {
		end = s.EndedAt
	}
	return t >= s.StartsAt && t < end
}

// Matches reports whether the silence covers an alert of rule r and
// severity sev at location l at time t.
func (s *Silence) Matches(r Rule, sev Severity, l *Location, t int64) bool {
	if !s.ActiveAt(t) {
		return false
	}
	switch {
	case s.Device != "" && s.Device != l.Device && s.Device != l.Gateway:
		return false
	case s.Building != "" && s.Building != l.Building:
		return false
	case s.Community != "" && s.Community != l.Community:
		return false
	}
	if len(s.Rules) == 0 {
		return sev < SeverityCritical
	}
	for _, x := range s.Rules {
		if x == r {
			return true
		}
	}
	return false
}

// Scope is the part of the hierarchy a person may see: everything, or the
// union of some communities, streets and districts.
type Scope struct {
	All         bool     `json:"all,omitempty"`
	Communities []string `json:"communities,omitempty"`
	Streets     []string `json:"streets,omitempty"`
	Districts   []string `json:"districts,omitempty"`
}

// Covers reports whether l lies within the scope. An area outage (street
// and district only) is within the scope of its street and district, not of
// the communities in it.
func (s *Scope) Covers(l *Location) bool {
	if s.All {
		return true
	}
	in := func(v string, list []string) bool {
		if v == "" {
			return false
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	return in(l.Community, s.Communities) || in(l.Street, s.Streets) || in(l.District, s.Districts)
}

// Empty reports whether the scope covers nothing.
func (s *Scope) Empty() bool {
	return !s.All && len(s.Communities) == 0 && len(s.Streets) == 0 && len(s.Districts) == 0
}
