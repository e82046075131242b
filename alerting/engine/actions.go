package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/lifecycle"
)

// The actions of people, for the API. Each commits at once (with whatever
// else is pending) and returns only when the change is durable. Errors
// match alerting.ErrNotFound (404), alerting.ErrConflict (409) or
// alerting.ErrInvalid (400) with errors.Is.

// Ack acknowledges a firing alert on behalf of actor.
func (e *Engine) Ack(ctx context.Context, id int64, actor, note string) (*alerting.Alert, error) {
	return e.act(ctx, id, alerting.ActionAck, func(now int64) (lifecycle.Change, error) {
		return e.book.Ack(id, actor, note, now)
	})
}

// Close closes an alert with an outcome and a note on behalf of actor.
func (e *Engine) Close(ctx context.Context, id int64, actor string, outcome alerting.Outcome, note string) (*alerting.Alert, error) {
	if strings.TrimSpace(note) == "" {
		return nil, fmt.Errorf("close alert %d: a note is required: say what was found and done: %w", id, alerting.ErrInvalid)
	}
	return e.act(ctx, id, alerting.ActionClose, func(now int64) (lifecycle.Change, error) {
		ch, err := e.book.Close(id, actor, outcome, note, now)
		if err == nil && outcome == alerting.OutcomeFalseAlarm {
			e.notCharging(ch.Alert)
		}
		return ch, err
	})
}

// notCharging hands a false-alarm verdict on an indoor-charging alert to
// the charging detectors of the devices that raised it (its sources and
// the devices of its evidence): a person found no charging, so the load of
// the alert's step is no charger (detect.Device.NotCharging;
// docs/detection.md, "Grid workers' verdicts"). Their states go in the
// close's commit. The caller holds e.mu.
func (e *Engine) notCharging(a *alerting.Alert) {
	if a.Rule != alerting.RuleIndoorCharging || a.Value <= 0 {
		return
	}
	ids := slices.Clone(a.Sources)
	for _, s := range a.Evidence {
		if s.Device != "" && !slices.Contains(ids, s.Device) {
			ids = append(ids, s.Device)
		}
	}
	for _, id := range ids {
		ds := e.devs[id]
		if ds == nil || ds.heard == 0 {
			continue
		}
		if ds.det.NotCharging(ds.heard, a.Value) {
			e.touch(ds)
			e.pendSources[id] = true
			e.m.verdict()
		}
	}
}

func (e *Engine) act(ctx context.Context, id int64, act alerting.Action, do func(now int64) (lifecycle.Change, error)) (*alerting.Alert, error) {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	e.mu.Lock()
	ch, err := do(e.clock.Now().UnixMilli())
	if errors.Is(err, lifecycle.ErrNotFound) {
		e.mu.Unlock()
		// Not open: closed, cancelled or unknown.
		a, err := e.st.Alert(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := lifecycle.Check(a, act); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("alert %d is %s and not in the engine: %w", id, a.State, alerting.ErrConflict)
	}
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	e.pend = append(e.pend, ch)
	a := ch.Alert.Clone()
	b := e.collect(false)
	e.mu.Unlock()
	if err := e.write(ctx, b); err != nil {
		return nil, fmt.Errorf("the %s of alert %d is recorded but not yet stored (it will be with the next commit): %w", act, id, err)
	}
	return a, nil
}

// MaxSilence bounds how long a silence may last.
const MaxSilence = 90 * 24 * time.Hour

// CreateSilence validates and stores a silence for a device, building or
// community of the registry, from sl.StartsAt (now when 0) to sl.EndsAt.
// It applies to transitions from then on; alerts already firing keep
// theirs. The returned silence has its id and the target's location (for
// scope checks).
func (e *Engine) CreateSilence(ctx context.Context, sl alerting.Silence) (alerting.Silence, error) {
	now := e.clock.Now().UnixMilli()
	if sl.StartsAt == 0 {
		sl.StartsAt = now
	}
	sl.CreatedAt, sl.EndedAt, sl.EndedBy, sl.ID = now, 0, "", 0
	invalid := func(format string, args ...any) (alerting.Silence, error) {
		return sl, fmt.Errorf("silence: %s: %w", fmt.Sprintf(format, args...), alerting.ErrInvalid)
	}
	loc, err := e.Locate(sl.Device, sl.Building, sl.Community)
	if err != nil {
		return invalid("%v", err)
	}
	sl.Location = loc
	switch {
	case strings.TrimSpace(sl.Reason) == "":
		return invalid("give a reason (e.g. \"rewiring by the landlord, ticket 42\")")
	case sl.EndsAt <= sl.StartsAt:
		return invalid("ends_at must be after starts_at")
	case sl.EndsAt <= now:
		return invalid("ends_at is in the past")
	case time.Duration(sl.EndsAt-sl.StartsAt)*time.Millisecond > MaxSilence:
		return invalid("a silence may last at most %d days", int(MaxSilence.Hours()/24))
	}
	for _, r := range sl.Rules {
		if !r.Valid() {
			return invalid("unknown rule %q", r)
		}
	}
	sl, err = e.st.CreateSilence(ctx, sl)
	if err != nil {
		return sl, err
	}
	e.mu.Lock()
	e.silences = append(e.silences, sl)
	e.mu.Unlock()
	return sl, nil
}

// EndSilence ends a silence now.
func (e *Engine) EndSilence(ctx context.Context, id int64, actor string) (alerting.Silence, error) {
	now := e.clock.Now().UnixMilli()
	sl, err := e.st.EndSilence(ctx, id, actor, now)
	if err != nil {
		return sl, err
	}
	e.mu.Lock()
	e.silences = slices.DeleteFunc(e.silences, func(s alerting.Silence) bool { return s.ID == id })
	e.mu.Unlock()
	return sl, nil
}

// Locate returns the location of exactly one of a device, a building or
// a community of the registry.
func (e *Engine) Locate(device, building, community string) (alerting.Location, error) {
	n := 0
	for _, s := range []string{device, building, community} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return alerting.Location{}, errors.New("name exactly one of device, building and community")
	}
	snap := e.reg.Current()
	switch {
	case device != "":
		d, ok := snap.Device(device)
		if !ok {
			return alerting.Location{}, fmt.Errorf("no device %q in the registry", device)
		}
		return locateDevice(d), nil
	case building != "":
		b, ok := snap.Building(building)
		if !ok {
			return alerting.Location{}, fmt.Errorf("no building %q in the registry", building)
		}
		st := b.Community.Street
		return alerting.Location{District: st.District.ID, Street: st.ID, Community: b.Community.ID, Building: b.ID, Lat: b.Lat, Lon: b.Lon}, nil
	}
	c, ok := snap.Community(community)
	if !ok {
		return alerting.Location{}, fmt.Errorf("no community %q in the registry", community)
	}
	return alerting.Location{District: c.Street.District.ID, Street: c.Street.ID, Community: c.ID}, nil
}
