package detect

// taperGone reports whether a step that fell under its hold level draws
// nothing over its reference any more (PhysicsParams.TaperLeftW): then
// neither taper path confirms it. A charger's taper declines towards a
// float of a few watts over what was on before it; a step whose power
// went to or under its reference was switched off, its off-edge mixed
// with another load's change (or under the edge threshold), whatever its
// decline before. The reference is the one down-edges have moved, this
// reading's included (a down-edge no step matched is taken for a load
// that was on before the step). In the non-active core the same floor
// holds in var. At intervals over TaperLeftMinIv only (5 min by default;
// s.iv is an average of the gaps: a 1-min meter's gap of 16 to 20 min
// lifts it over 150 s for up to three readings); s.prev is the reading being
// judged.
func (s *physCore) taperGone(c *cand) bool {
	pp := s.p
	return pp.TaperLeftW > 0 && float64(s.iv) > pp.TaperLeftMinIv && float64(s.prev-c.ref) < pp.TaperLeftW
}
