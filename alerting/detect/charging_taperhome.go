package detect

// taperHomePF reports whether the taper paths must not confirm a step on
// this reading (PhysicsParams.TaperHomePF): in the active core, at
// intervals over TaperHomePFMinIv, with the readings' non-active power
// known, the whole home draws under TaperHomePF var per watt (resistive
// loads carry it, and a decline under them is not a charger's to judge).
// Its fields are the reading's: Observe sets nx and nxOK (HasNA) before
// the core's observe, which sets prev (the active power, clipped at 0)
// before anything can fire. A step it refuses in tapered's paths stays
// open; one followed in its taper (taper5Step) is dropped.
func (s *physCore) taperHomePF() bool {
	pp := s.p
	return pp.TaperHomePF > 0 && !s.nv && s.nxOK && float64(s.iv) > pp.TaperHomePFMinIv && s.prev > 0 &&
		float64(s.nx) < pp.TaperHomePF*float64(s.prev)
}
