package detect

// taperHomePF reports whether the taper paths must not confirm a step on
// this reading (PhysicsParams.TaperHomePF): in the active core, at
// intervals over TaperHomePFMinIv, with the readings' non-active power
// known, the whole home draws under TaperHomePF var per watt (resistive
// loads carry it, and a decline under them is not a charger's to judge).
func (s *physCore) taperHomePF() bool {
	pp := s.p
	return pp.TaperHomePF > 0 && !s.nv && s.nxOK && float64(s.iv) > pp.TaperHomePFMinIv && s.prev > 0 &&
		float64(s.nx) < pp.TaperHomePF*float64(s.prev)
}
