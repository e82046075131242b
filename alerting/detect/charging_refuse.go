package detect

// roomRefused reports whether an up-edge of d that found no candidate slot
// free is not followed (PhysicsParams.RoomRefuse; RoomRefuseLong over
// 90 s; only at intervals up to RoomRefuseMaxIv s): the unit's memory knows a load of its size as a cycler (a fridge's
// compressor, a lamp switched the same way) and not a charger. Following
// it would forget a step that holds a slot, and in a busy home the slots
// hold a charge about as often as any other step: a load the memory knows
// is worth less than what it would push out. Its size is remembered as an
// up-edge no candidate follows (charging_own.go), so that its load's
// down-edge is not taken for a step's.
func (s *physCore) roomRefused(ts int64, d float32) bool {
	f := s.p.RoomRefuse
	if s.iv > 90 {
		f = s.p.RoomRefuseLong
	}
	if f <= 0 || s.p.RoomRefuseMaxIv > 0 && float64(s.iv) > s.p.RoomRefuseMaxIv {
		return false
	}
	k := s.known(d)
	if k < 0 {
		return false
	}
	if m := &s.mem[k]; !(int(m.cycles)*2 > int(m.other) && m.charger < m.other) || s.proofKnown(k, 128) {
		return false
	}
	s.ghostSet(ts, d)
	if s.p.Trace != nil {
		s.traceEdge(ts, "no room", d)
	}
	return true
}
