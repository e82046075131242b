package engine

import (
	"math"
	"slices"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/lifecycle"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// devAfter is how long a device may stay silent before it is offline:
// Misses expected intervals, at least MinAfter.
func (e *Engine) devAfter(d *registry.Device) int64 {
	iv := d.Interval
	if iv <= 0 {
		iv = time.Minute
	}
	return max(int64(e.cfg.Offline.Misses)*iv.Milliseconds(), e.cfg.Offline.MinAfter.Milliseconds())
}

type streetAgg struct {
	street  *registry.Street
	total   int
	offline []*gwState
}

// checkOffline runs offline detection at now (Unix ms, the engine's clock
// less its lag). Every time it signals is derived from the devices' own
// times (last heard plus the allowed silence), not from when the check
// runs, so a replay that checks at other moments gives the same alerts.
// Called with mu held.
func (e *Engine) checkOffline(now int64) {
	snap := e.reg.Current()
	oc := &e.cfg.Offline
	gwAfter := oc.GatewayAfter.Milliseconds()
	streets := map[string]*streetAgg{}
	var order []string

	// Gateways: offline after their Last Will, or when neither they nor any
	// of their devices have been heard for the shortest allowed silence
	// of their devices.
	for _, g := range snap.Gateways() {
		if g.SelfConnected {
			continue // a device that connects by itself is watched as a device
		}
		gs := e.gw(g.ID)
		heard := gs.heard
		after := int64(math.MaxInt64)
		for _, d := range g.Devices {
			if ds := e.devs[d.ID]; ds != nil {
				heard = max(heard, ds.heard)
			}
			after = min(after, e.devAfter(d))
		}
		if after == math.MaxInt64 {
			after = oc.MinAfter.Milliseconds()
		}
		if heard == 0 {
			heard = e.started
		}
		var off int64
		switch {
		case gs.down != 0 && now-gs.down >= gwAfter:
			off = gs.down
		case now-heard > after:
			off = heard + after
		}
		switch {
		case off != 0 && !gs.offline:
			gs.offline, gs.since = true, off
			e.touchGw(gs)
		case off == 0 && gs.offline:
			gs.offline = false
			// It came back with its online status after a Last Will, else
			// with the newest input (exact when a check ran in time).
			end := max(heard, gs.since)
			if gs.back >= gs.since {
				end = gs.back
			}
			gs.outFrom, gs.outTo = gs.since, end
			if gs.alert != 0 {
				e.gatewayInput(lifecycle.OpClear, g, gs, end)
				gs.alert = 0
			}
			e.touchGw(gs)
		}
		st := g.Building.Community.Street
		agg := streets[st.ID]
		if agg == nil {
			agg = &streetAgg{street: st}
			streets[st.ID] = agg
			order = append(order, st.ID)
		}
		agg.total++
		if gs.offline {
			agg.offline = append(agg.offline, gs)
		}
	}

	// Areas: many gateways of one street offline together are one outage.
	window := oc.AreaWindow.Milliseconds()
	for _, id := range order {
		if e.cfg.Disabled[alerting.RuleAreaOutage] {
			break // the gateways' own alerts stand
		}
		agg := streets[id]
		enough := func(n int) bool {
			return n >= oc.AreaMinGateways && float64(n) >= oc.AreaFraction*float64(agg.total)
		}
		if !e.areas[id] {
			k, first, last := together(agg.offline, window)
			if !enough(k) {
				continue
			}
			e.areas[id] = true
			e.apply(&lifecycle.Input{
				Op: lifecycle.OpFire, Key: alerting.Key{Rule: alerting.RuleAreaOutage, Place: id}, Source: id,
				TS: last, Since: first, Value: float64(k), Limit: float64(agg.total), Unit: "gateways",
				Evidence: gatewayEvidence(agg.offline),
			}, locateStreet(agg.street))
			// Gateway alerts still pending are absorbed by the outage.
			for _, gs := range agg.offline {
				if gs.alert == 1 {
					if g, ok := snap.Gateway(gs.id); ok {
						e.gatewayInput(lifecycle.OpClear, g, gs, last)
					}
					gs.alert = 0
					e.touchGw(gs)
				}
			}
		} else if !enough(len(agg.offline)) {
			delete(e.areas, id)
			e.apply(&lifecycle.Input{
				Op: lifecycle.OpClear, Key: alerting.Key{Rule: alerting.RuleAreaOutage, Place: id}, Source: id, TS: now,
			}, locateStreet(agg.street))
		}
	}
	// Streets that lost all their gateways from the registry.
	for id := range e.areas {
		if streets[id] == nil {
			delete(e.areas, id)
			loc := alerting.Location{Street: id}
			if st, ok := snap.Street(id); ok {
				loc = locateStreet(st)
			}
			e.apply(&lifecycle.Input{Op: lifecycle.OpClear, Key: alerting.Key{Rule: alerting.RuleAreaOutage, Place: id}, Source: id, TS: now}, loc)
		}
	}

	// Gateway alerts outside area outages: pending, then firing after
	// GatewayFor.
	gwFor := oc.GatewayFor.Milliseconds()
	for _, id := range order {
		if e.areas[id] {
			continue
		}
		for _, gs := range streets[id].offline {
			g, ok := snap.Gateway(gs.id)
			if !ok {
				continue
			}
			if gs.alert == 0 {
				op := lifecycle.OpPending
				if gwFor <= 0 {
					op = lifecycle.OpFire
				}
				e.gatewayInput(op, g, gs, gs.since)
				gs.alert = uint8(op)
				e.touchGw(gs)
			}
			if gs.alert == 1 && now-gs.since >= gwFor {
				e.gatewayInput(lifecycle.OpFire, g, gs, gs.since+gwFor)
				gs.alert = 2
				e.touchGw(gs)
			}
		}
	}

	// Devices: offline after Misses intervals of silence, or once their
	// gateway has reported them offline for GatewayAfter; not alerted while
	// their gateway is offline. A gateway that reconnects gives its devices
	// a fresh allowance.
	for d := range snap.Devices() {
		ds := e.devs[d.ID]
		after := e.devAfter(d)
		heard, down := e.started, int64(0)
		if ds != nil {
			if ds.heard != 0 {
				heard = ds.heard
			}
			down = ds.down
			if ds.gapTo != 0 {
				e.gap(d, ds, after)
			}
		}
		if d.Gateway != nil && !d.Gateway.SelfConnected {
			if gs := e.gws[d.Gateway.ID]; gs != nil {
				heard = max(heard, gs.back)
			}
		}
		var off int64
		switch {
		case down != 0 && now-down >= gwAfter:
			off = down
		case now-heard > after:
			off = heard + after
		}
		if off == 0 {
			if ds != nil && ds.offline {
				ds.offline = false
				if ds.alerted {
					ds.alerted = false
					e.deviceInput(lifecycle.OpClear, d, heard, heard)
				}
				e.touch(ds)
			}
			continue
		}
		if ds == nil {
			ds = e.dev(d.ID)
		}
		if !ds.offline {
			ds.offline = true
			e.touch(ds)
		}
		if !ds.alerted && !e.gatewayOut(d, off) {
			ds.alerted = true
			e.deviceInput(lifecycle.OpFire, d, off, heard)
			e.touch(ds)
		}
	}
}

// gap handles a silence that the input saw end: it ends the offline
// condition at the first input after the silence, or, when no check ran
// during the silence, raises and clears the alert the check would have
// raised.
func (e *Engine) gap(d *registry.Device, ds *devState, after int64) {
	from, to := ds.gapFrom+after, ds.gapTo
	ds.gapFrom, ds.gapTo = 0, 0
	e.touch(ds)
	switch {
	case ds.offline:
		ds.offline = false
		if ds.alerted {
			ds.alerted = false
			e.deviceInput(lifecycle.OpClear, d, to, to)
		}
	case !e.gatewayOut(d, from):
		e.deviceInput(lifecycle.OpFire, d, from, from-after)
		e.deviceInput(lifecycle.OpClear, d, to, to)
	}
}

// gatewayOut reports whether a device's gateway was offline at event time
// at (which suppresses the device's own offline alert).
func (e *Engine) gatewayOut(d *registry.Device, at int64) bool {
	if d.Gateway == nil || d.Gateway.SelfConnected {
		return false
	}
	gs := e.gws[d.Gateway.ID]
	if gs == nil {
		return false
	}
	return (gs.offline && at >= gs.since) || (gs.outTo != 0 && at >= gs.outFrom && at <= gs.outTo)
}

// together returns the largest number of gateways whose offline times lie
// within window of each other, and the first and last of those times.
func together(gws []*gwState, window int64) (n int, first, last int64) {
	if len(gws) == 0 {
		return 0, 0, 0
	}
	ts := make([]int64, len(gws))
	for i, g := range gws {
		ts[i] = g.since
	}
	slices.Sort(ts)
	lo := 0
	for hi := range ts {
		for ts[hi]-ts[lo] > window {
			lo++
		}
		if hi-lo+1 > n {
			n, first, last = hi-lo+1, ts[lo], ts[hi]
		}
	}
	return n, first, last
}

func gatewayEvidence(gws []*gwState) []alerting.Sample {
	var out []alerting.Sample
	for _, g := range gws {
		if len(out) == alerting.MaxEvidence {
			break
		}
		out = append(out, alerting.Sample{TS: g.since, Device: g.id, Event: "offline"})
	}
	return out
}

func (e *Engine) gatewayInput(op lifecycle.Op, g *registry.Gateway, gs *gwState, ts int64) {
	in := lifecycle.Input{
		Op: op, Key: alerting.Key{Rule: alerting.RuleGatewayOffline, Place: g.ID}, Source: g.ID,
		TS: ts, Since: gs.since, Value: float64(len(g.Devices)), Unit: "devices",
	}
	if op != lifecycle.OpClear {
		ev := "silent"
		if gs.down != 0 {
			ev = "last_will"
		}
		in.Evidence = []alerting.Sample{{TS: gs.since, Device: g.ID, Event: ev}}
	}
	e.apply(&in, locateGateway(g))
}

// deviceInput signals a device's offline condition; Value and Limit are
// the silence allowed, in minutes (the alert's own times say how long it
// lasted).
func (e *Engine) deviceInput(op lifecycle.Op, d *registry.Device, ts, heard int64) {
	after := math.Round(float64(e.devAfter(d))/60000*10) / 10
	in := lifecycle.Input{
		Op: op, Key: alerting.Key{Rule: alerting.RuleDeviceOffline, Place: d.ID}, Source: d.ID,
		TS: ts, Since: ts, Value: after, Limit: after, Unit: "min",
	}
	if op != lifecycle.OpClear {
		in.Evidence = []alerting.Sample{{TS: heard, Device: d.ID, Event: "last_heard"}}
	}
	e.apply(&in, locateDevice(d))
}
