package detect

// cWatch is a step followed in what may be its taper
// (PhysicsParams.Taper5N): it would have been dropped, and is confirmed
// only if its power declines reading by reading. It is in no other
// path's reach, and is not kept in a checkpoint.
const cWatch = cCharge + 1

// taper5Watch reports whether candidate i, held Taper5Hold, which is about
// to be dropped (fallen, not persistent, or matched by a down-edge), is
// followed in its taper instead; it then becomes cWatch. Its power over
// its reference must still be Taper5MinW to Taper5Max of its level: a lamp
// switched off leaves nothing, a charger in its taper what it still draws.
// The vetoes of the taper paths apply (tapered).
func (s *physCore) taper5Watch(cfg *ChargingConfig, ts int64, i int) bool {
	pp := s.p
	c := &s.c[i]
	if pp.Taper5N <= 0 || s.nv && pp.Taper5Var <= 0 || float64(s.iv) <= pp.Taper5Iv || c.state() != cOpen || ts-c.t0 < ms(pp.Taper5Hold) {
		return false
	}
	if lvl := float64(c.lvl); lvl < cfg.StepMinW || lvl > cfg.StepMaxW*1.05 {
		return false
	}
	if r := float64(s.prev - c.ref); r < pp.Taper5MinW || r > pp.Taper5Max*float64(c.lvl) {
		return false
	}
	if s.splitVetoed(c, 8) || s.notCharger(c.lvl) || s.notPF(c, pfSeenTaper5) || s.peer != nil && s.peer.notCharger(c.ws) {
		return false
	}
	c.setState(cWatch)
	c.tb = 0                          // readings that declined since (the rise's t is no longer needed)
	c.low = int32((ts-c.t0)/1000) + 1 // the reading it was followed from
	s.trace(ts, "watch", "taper5", i)
	return true
}

// taper5Step judges a followed step (cWatch) on a reading p without an
// edge (prev the reading before): confirmed as a taper after Taper5N
// readings that each declined by at most Taper5Dec of its level and at
// least Taper5Rel of what was left of it (a flat load drifts by less) and
// stayed Taper5MinW over its reference; dropped at the first that did not.
func (s *physCore) taper5Step(ts int64, i int, p, prev float32) ChargeChange {
	pp := s.p
	c := &s.c[i]
	if c.lowAt(ts) {
		return ChargeNone // followed from this reading
	}
	r, dec := p-c.ref, prev-p
	if dec <= 0 || float64(dec) > pp.Taper5Dec*float64(c.lvl) || float64(dec) < pp.Taper5Rel*float64(prev-c.ref) || float64(r) < pp.Taper5MinW || s.taper5Flat(dec) {
		s.forget(ts, i, "taper5: no decline")
		return ChargeNone
	}
	if c.tb++; float64(c.tb) < pp.Taper5N {
		return ChargeNone
	}
	c.setState(cOpen) // fire confirms open steps
	ch := s.fire(ts, i, pathTaperFall)
	if c.state() != cCharge {
		s.forget(ts, i, "taper5: vetoed")
	}
	return ch
}

// taper5Stop drops the followed steps: an edge or a gap breaks the
// decline they wait for.
func (s *physCore) taper5Stop(ts int64, why string) {
	if s.p.Taper5N <= 0 {
		return
	}
	for i := range s.c {
		if s.c[i].state() == cWatch {
			s.forget(ts, i, why)
		}
	}
}
