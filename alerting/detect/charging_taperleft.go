package detect

// taperGone reports whether a step that fell under its hold level draws
// nothing over its reference any more (PhysicsParams.TaperLeftW): then
// neither taper path confirms it. A charger's taper declines towards a
// float of a few watts over what was on before it; a step whose power
// went to or under its reference in one reading was switched off, its
// off-edge mixed with another load's change, whatever its decline before.
// At 5-min readings only by default (TaperLeftMinIv); s.prev is the
// reading being judged.
func (s *physCore) taperGone(c *cand) bool {
	pp := s.p
	return pp.TaperLeftW > 0 && float64(s.iv) > pp.TaperLeftMinIv && float64(s.prev-c.ref) < pp.TaperLeftW
}
