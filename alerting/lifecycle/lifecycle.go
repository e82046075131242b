// Package lifecycle is the alert state machine: an explicit transition
// table (docs/api.md prints it), and a Book of the open alerts that turns
// detector signals and people's actions into transitions, each with its
// audit entry. It does no I/O; the engine persists what it returns.
//
// The rules it keeps:
//   - at most one active (pending, firing or acknowledged) alert per key
//     (rule, place[, port]); a second source at the same place (a meter and
//     a plug in one unit) joins the active alert instead of opening another;
//   - an alert resolves when the last of its sources clears;
//   - a resolved alert whose condition comes back within the grace period
//     (event time) reopens instead of opening a new alert;
//   - a new alert for a key closed as rectified within the relapse window is
//     flagged as a relapse;
//   - a pending alert whose condition clears before its for-duration is
//     cancelled: it was never notified.
package lifecycle

import (
	"fmt"
	"slices"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

// Actor says who may take a transition.
type Actor string

// Actors.
const (
	ByEngine Actor = "engine" // the engine, from detector signals
	ByPerson Actor = "person" // a person through the API
)

// Transition is one row of the transition table.
type Transition struct {
	From   alerting.State // "" for a new alert
	Action alerting.Action
	To     alerting.State
	By     Actor
	Note   string
}

// table is the transition table. Anything not in it is refused.
var table = []Transition{
	{"", alerting.ActionPending, alerting.StatePending, ByEngine, "condition began; its for-duration runs"},
	{"", alerting.ActionFire, alerting.StateFiring, ByEngine, "condition with no for-duration (smoke, residual current, events), or confirmed by its detector (charging, offline)"},
	{alerting.StatePending, alerting.ActionFire, alerting.StateFiring, ByEngine, "for-duration ran out"},
	{alerting.StatePending, alerting.ActionCancel, alerting.StateCancelled, ByEngine, "condition cleared before the for-duration ran out; never notified"},
	{alerting.StateFiring, alerting.ActionAck, alerting.StateAcknowledged, ByPerson, "someone takes it on"},
	{alerting.StateFiring, alerting.ActionResolve, alerting.StateResolved, ByEngine, "condition cleared (hysteresis) with nobody having acknowledged: resolved_unacked is set"},
	{alerting.StateAcknowledged, alerting.ActionResolve, alerting.StateResolved, ByEngine, "condition cleared (hysteresis)"},
	{alerting.StateResolved, alerting.ActionReopen, alerting.StateFiring, ByEngine, "condition back within the grace period; needs acknowledging again"},
	{alerting.StateFiring, alerting.ActionClose, alerting.StateClosed, ByPerson, "outcome false_alarm or referred (the condition is still there, so not rectified)"},
	{alerting.StateAcknowledged, alerting.ActionClose, alerting.StateClosed, ByPerson, "outcome false_alarm or referred"},
	{alerting.StateResolved, alerting.ActionClose, alerting.StateClosed, ByPerson, "any outcome: rectified, false_alarm or referred"},
}

// Table returns the transition table.
func Table() []Transition { return slices.Clone(table) }

func lookup(from alerting.State, a alerting.Action) (Transition, bool) {
	for _, t := range table {
		if t.From == from && t.Action == a {
			return t, true
		}
	}
	return Transition{}, false
}

// ErrConflict is matched (errors.Is) by every refused transition: the
// API answers it with 409.
var ErrConflict = alerting.ErrConflict

// ErrNotFound is returned for an alert that is not in the book.
var ErrNotFound = alerting.ErrNotFound

// ErrInvalid is matched by a request that can never succeed (an unknown
// outcome): the API answers it with 400.
var ErrInvalid = alerting.ErrInvalid

// TransitionError is a refused transition, with a message that says what
// to do instead.
type TransitionError struct {
	ID     int64
	State  alerting.State
	Action alerting.Action
	Msg    string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("alert %d is %s: cannot %s: %s", e.ID, e.State, e.Action, e.Msg)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *TransitionError) Is(target error) bool { return target == ErrConflict }

func refuse(a *alerting.Alert, act alerting.Action) error {
	msg := "not allowed by the transition table"
	switch {
	case a.State == alerting.StateClosed || a.State == alerting.StateCancelled:
		msg = "it is no longer open"
	case act == alerting.ActionAck && a.State == alerting.StateAcknowledged:
		msg = "already acknowledged by " + a.AckedBy
	case act == alerting.ActionAck && a.State == alerting.StateResolved:
		msg = "its condition has cleared: close it with an outcome"
	case act == alerting.ActionAck && a.State == alerting.StatePending:
		msg = "it has not fired yet"
	case act == alerting.ActionClose && a.State == alerting.StatePending:
		msg = "it has not fired yet"
	}
	return &TransitionError{ID: a.ID, State: a.State, Action: act, Msg: msg}
}

// Config is the lifecycle's policy.
type Config struct {
	// Grace is how long after resolving an alert reopens when its
	// condition comes back, in event time.
	Grace time.Duration `yaml:"grace"`
	// RelapseWindow is how long after a rectified close a new alert of the
	// same key is a relapse.
	RelapseWindow time.Duration `yaml:"relapse_window"`
}

// DefaultConfig returns the default policy: 30 minutes of grace, 30 days
// of relapse window (design.md).
func DefaultConfig() Config {
	return Config{Grace: 30 * time.Minute, RelapseWindow: 30 * 24 * time.Hour}
}

// Change is one transition made: the alert after it (owned by the book:
// copy it before the book changes again) and its audit entry (ID 0: the
// store numbers it). A change whose Audit.Action is empty updates the
// alert without a transition (a second source joined, evidence was added)
// and has no audit entry; it must be stored all the same.
type Change struct {
	Alert *alerting.Alert
	Audit alerting.Audit
}

// Transition reports whether the change is a transition (with an audit
// entry) rather than an update.
func (c *Change) Transition() bool { return c.Audit.Action != "" }

// Op is what an input says about a condition; it mirrors detect.Op.
type Op uint8

// Operations.
const (
	OpPending Op = iota + 1
	OpFire
	OpClear
)

// Input is a detector signal (or an offline check) for one key from one
// source, with everything a new alert needs.
type Input struct {
	Op        Op
	Key       alerting.Key
	Source    string // the device (or gateway, or street) the condition is on
	TS        int64  // event time of the input
	Since     int64  // event time the condition started
	Severity  alerting.Severity
	Location  alerting.Location
	Summary   string
	Value     float64
	Limit     float64
	Unit      string
	Code      string
	Evidence  []alerting.Sample
	SilenceID int64 // a silence covers the place at TS
}

// rectified remembers a rectified close for relapse detection.
type rectified struct {
	id       int64
	closedAt int64
}

// Book holds the open alerts and decides transitions. It is not safe for
// concurrent use.
type Book struct {
	cfg       Config
	nextID    int64
	byID      map[int64]*alerting.Alert
	active    map[alerting.Key]*alerting.Alert
	resolved  map[alerting.Key]*alerting.Alert // the latest resolved alert per key
	rectified map[alerting.Key]rectified
}

// NewBook returns an empty book whose new alerts get ids from nextID on.
func NewBook(cfg Config, nextID int64) *Book {
	if nextID < 1 {
		nextID = 1
	}
	return &Book{
		cfg: cfg, nextID: nextID,
		byID:      map[int64]*alerting.Alert{},
		active:    map[alerting.Key]*alerting.Alert{},
		resolved:  map[alerting.Key]*alerting.Alert{},
		rectified: map[alerting.Key]rectified{},
	}
}

// Load adds an open alert read back from the store.
func (b *Book) Load(a *alerting.Alert) {
	b.byID[a.ID] = a
	b.nextID = max(b.nextID, a.ID+1)
	k := a.Key()
	switch {
	case a.State.Active():
		b.active[k] = a
	case a.State == alerting.StateResolved:
		if r := b.resolved[k]; r == nil || r.ResolvedAt < a.ResolvedAt {
			b.resolved[k] = a
		}
	}
}

// LoadRectified records a rectified close read back from the store, for
// relapse detection.
func (b *Book) LoadRectified(k alerting.Key, id, closedAt int64) {
	if r, ok := b.rectified[k]; !ok || r.closedAt < closedAt {
		b.rectified[k] = rectified{id: id, closedAt: closedAt}
	}
}

// NextID returns the id the next new alert gets.
func (b *Book) NextID() int64 { return b.nextID }

// Get returns an open alert by id.
func (b *Book) Get(id int64) (*alerting.Alert, bool) {
	a, ok := b.byID[id]
	return a, ok
}

// Active returns the active alert of a key.
func (b *Book) Active(k alerting.Key) (*alerting.Alert, bool) {
	a, ok := b.active[k]
	return a, ok
}

// Open calls f for every open alert, in no particular order.
func (b *Book) Open(f func(*alerting.Alert)) {
	for _, a := range b.byID {
		f(a)
	}
}

// Len returns the number of open alerts.
func (b *Book) Len() int { return len(b.byID) }

func audit(a *alerting.Alert, act alerting.Action, from alerting.State, now, eventTS int64, actor string) alerting.Audit {
	return alerting.Audit{AlertID: a.ID, At: now, EventTS: eventTS, Actor: actor, Action: act, From: from, To: a.State, Severity: a.Severity}
}

// Apply applies an input at wall time now and returns the changes (none,
// one, or two when a new alert replaces nothing and fires at once).
func (b *Book) Apply(in *Input, now int64) []Change {
	a := b.active[in.Key]
	switch in.Op {
	case OpPending, OpFire:
		if a != nil {
			addSource(a, in.Source)
			update(a, in, now)
			if in.Op == OpFire && a.State == alerting.StatePending {
				return []Change{b.step(a, alerting.ActionFire, in.TS, now, alerting.ActorEngine)}
			}
			return []Change{{Alert: a}}
		}
		if r := b.resolved[in.Key]; r != nil && in.TS-r.ResolvedAt <= b.cfg.Grace.Milliseconds() {
			if in.Op == OpPending {
				// The resolved alert stands in for the pending one: it
				// reopens if the condition fires.
				return nil
			}
			r.Sources = []string{in.Source}
			update(r, in, now)
			r.Reopens++
			r.ResolvedAt, r.ResolvedUnacked = 0, false
			r.AckedAt, r.AckedBy = 0, ""
			delete(b.resolved, in.Key)
			b.active[in.Key] = r
			return []Change{b.step(r, alerting.ActionReopen, in.TS, now, alerting.ActorEngine)}
		}
		return []Change{b.create(in, now)}
	case OpClear:
		if a == nil {
			return nil
		}
		n := len(a.Sources)
		a.Sources = slices.DeleteFunc(a.Sources, func(s string) bool { return s == in.Source })
		if len(a.Sources) > 0 {
			if len(a.Sources) == n {
				return nil
			}
			a.UpdatedAt = now
			return []Change{{Alert: a}}
		}
		delete(b.active, in.Key)
		if a.State == alerting.StatePending {
			ch := b.step(a, alerting.ActionCancel, in.TS, now, alerting.ActorEngine)
			delete(b.byID, a.ID)
			return []Change{ch}
		}
		a.ResolvedAt = in.TS
		a.ResolvedUnacked = a.State == alerting.StateFiring
		if r := b.resolved[in.Key]; r == nil || r.ResolvedAt <= a.ResolvedAt {
			b.resolved[in.Key] = a
		}
		return []Change{b.step(a, alerting.ActionResolve, in.TS, now, alerting.ActorEngine)}
	}
	return nil
}

func (b *Book) create(in *Input, now int64) Change {
	a := &alerting.Alert{
		ID: b.nextID, Rule: in.Key.Rule, Severity: in.Severity, PlaceKind: alerting.PlaceOf(in.Key.Rule),
		Place: in.Key.Place, Port: in.Key.Port, Location: in.Location, StartedAt: in.Since,
		Sources: []string{in.Source},
	}
	b.nextID++
	if a.StartedAt == 0 {
		a.StartedAt = in.TS
	}
	update(a, in, now)
	if r, ok := b.rectified[in.Key]; ok && a.StartedAt-r.closedAt <= b.cfg.RelapseWindow.Milliseconds() {
		a.Relapse, a.RelapseOf = true, r.id
	}
	b.byID[a.ID] = a
	b.active[in.Key] = a
	act, st := alerting.ActionPending, alerting.StatePending
	if in.Op == OpFire {
		act, st = alerting.ActionFire, alerting.StateFiring
		a.FiredAt = in.TS
		a.SilenceID = in.SilenceID
	}
	a.State = st
	return Change{Alert: a, Audit: audit(a, act, "", now, in.TS, alerting.ActorEngine)}
}

// step takes an engine transition (checked against the table).
func (b *Book) step(a *alerting.Alert, act alerting.Action, eventTS, now int64, actor string) Change {
	t, ok := lookup(a.State, act)
	if !ok {
		// The book only asks for transitions the table has; reaching this
		// is a bug, not an input problem.
		panic(fmt.Sprintf("lifecycle: no transition %s from %s", act, a.State))
	}
	from := a.State
	a.State = t.To
	a.UpdatedAt = now
	if act == alerting.ActionFire || act == alerting.ActionReopen {
		a.FiredAt = eventTS
	}
	return Change{Alert: a, Audit: audit(a, act, from, now, eventTS, actor)}
}

func addSource(a *alerting.Alert, src string) {
	if !slices.Contains(a.Sources, src) {
		a.Sources = append(a.Sources, src)
	}
}

// update folds an input's details into an alert.
func update(a *alerting.Alert, in *Input, now int64) {
	if in.Summary != "" {
		a.Summary = in.Summary
	}
	a.Value, a.Limit, a.Unit = in.Value, in.Limit, in.Unit
	if in.Code != "" {
		a.Code = in.Code
	}
	if in.Severity > a.Severity {
		a.Severity = in.Severity
	}
	if in.Op == OpFire && in.SilenceID != 0 {
		a.SilenceID = in.SilenceID
	}
	a.Evidence = appendEvidence(a.Evidence, in.Evidence)
	a.UpdatedAt = now
}

// appendEvidence keeps the first and the latest samples within
// alerting.MaxEvidence.
func appendEvidence(have, add []alerting.Sample) []alerting.Sample {
	have = append(have, add...)
	if n := len(have); n > alerting.MaxEvidence {
		half := alerting.MaxEvidence / 2
		have = append(have[:half], have[n-(alerting.MaxEvidence-half):]...)
	}
	return have
}

// Ack acknowledges an open alert on behalf of actor at wall time now.
func (b *Book) Ack(id int64, actor, note string, now int64) (Change, error) {
	a, ok := b.byID[id]
	if !ok {
		return Change{}, ErrNotFound
	}
	if _, ok := lookup(a.State, alerting.ActionAck); !ok {
		return Change{}, refuse(a, alerting.ActionAck)
	}
	from := a.State
	a.State = alerting.StateAcknowledged
	a.AckedAt, a.AckedBy, a.UpdatedAt = now, actor, now
	au := audit(a, alerting.ActionAck, from, now, 0, actor)
	au.Note = note
	return Change{Alert: a, Audit: au}, nil
}

// Close closes an open alert with an outcome and a note on behalf of actor
// at wall time now. The alert leaves the book.
func (b *Book) Close(id int64, actor string, outcome alerting.Outcome, note string, now int64) (Change, error) {
	if !outcome.Valid() {
		return Change{}, fmt.Errorf("outcome %q: use rectified, false_alarm or referred: %w", outcome, ErrInvalid)
	}
	a, ok := b.byID[id]
	if !ok {
		return Change{}, ErrNotFound
	}
	if _, ok := lookup(a.State, alerting.ActionClose); !ok {
		return Change{}, refuse(a, alerting.ActionClose)
	}
	if outcome == alerting.OutcomeRectified && a.State != alerting.StateResolved {
		return Change{}, &TransitionError{ID: a.ID, State: a.State, Action: alerting.ActionClose,
			Msg: "its condition is still there, so it cannot be closed as rectified: close it as false_alarm or referred, or wait until it resolves"}
	}
	from := a.State
	a.State = alerting.StateClosed
	a.ClosedAt, a.ClosedBy, a.Outcome, a.Note, a.UpdatedAt = now, actor, outcome, note, now
	k := a.Key()
	delete(b.byID, id)
	if b.active[k] == a {
		delete(b.active, k)
	}
	if b.resolved[k] == a {
		delete(b.resolved, k)
	}
	if outcome == alerting.OutcomeRectified {
		b.rectified[k] = rectified{id: a.ID, closedAt: now}
	}
	au := audit(a, alerting.ActionClose, from, now, 0, actor)
	au.Outcome, au.Note = outcome, note
	return Change{Alert: a, Audit: au}, nil
}

// Expire forgets rectified closes past the relapse window as of wall time
// now.
func (b *Book) Expire(now int64) {
	for k, r := range b.rectified {
		if now-r.closedAt > b.cfg.RelapseWindow.Milliseconds() {
			delete(b.rectified, k)
		}
	}
}

// Check returns nil if a person may take action act on alert a, and the
// TransitionError (errors.Is ErrConflict) saying why not otherwise. Use it
// for alerts that are no longer in the book.
func Check(a *alerting.Alert, act alerting.Action) error {
	if _, ok := lookup(a.State, act); !ok {
		return refuse(a, act)
	}
	return nil
}
