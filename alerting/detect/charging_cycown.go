package detect

// Who owns a down-edge, by a compressor's start-up (round 17b). A down-edge
// of a step's size ends the step it matches best (down), by the level each
// step settled at, a cycler's first. A fridge's compressor that came on
// during a charge settles high (its start-up current decays for minutes)
// and its down-edge is often further from its level than PairTol, or
// further than the charger's; and where the charger is the size of the
// unit's fridge, the memory takes the charger's step for a cycler too. The
// charge was then taken for switched off by the fridge's down-edge (on the
// tuning seeds at 1 min, a dozen of the sessions lost on the plateau and in
// the taper as "switched off"). A step that has held longer than
// CycOwnOld is not the compressor that went off when a younger step, within
// OwnGhost (a compressor's longest run), looks like one (cyclerLike, or its
// first reading overshot its level by CycOwnOver) and settled between
// PairTol under the edge and CycOwnTol over it: the edge is that step's.

// cycOwns returns the step that owns the down-edge d (power p after it)
// instead of c, the step it matched (CycOwnTol, CycOwnTolLong over 90 s;
// off at intervals up to CycOwnMinIv s): the youngest open step that
// started after c, within OwnGhost of ts, that looks like a compressor and
// whose level is the edge's within -PairTol and +CycOwnTol; or -1. As for
// the remembered up-edge (ghostOwns), only while the power after the edge
// still stands OwnStay of c's size over c's reference: when it fell back
// to it, c's load is what went off (kept, c would stand on the power its
// reference, lowered by the edge in down, no longer holds).
func (s *physCore) cycOwns(ts int64, c *cand, p, d float32) int {
	pp := s.p
	t := pp.CycOwnTol
	if s.iv > 90 {
		t = pp.CycOwnTolLong
	}
	if t <= 0 || d >= 0 || float64(s.iv) <= pp.CycOwnMinIv || ts-c.t0 <= ms(pp.CycOwnOld) || p-c.ref < float32(pp.OwnStay)*c.size() {
		return -1
	}
	y := -1
	for j := range s.c {
		x := &s.c[j]
		if x.state() != cOpen || x == c || x.lvl <= 0 || x.t0 <= c.t0 || ts-x.t0 > ms(pp.OwnGhost) {
			continue
		}
		if x.lvl < (1-float32(pp.PairTol))*-d || x.lvl > (1+float32(t))*-d {
			continue
		}
		if !s.cyclerLike(x) && !(pp.CycOwnOver > 0 && overshoot(x) > pp.CycOwnOver) {
			continue
		}
		if y < 0 || x.t0 > s.c[y].t0 {
			y = j
		}
	}
	return y
}
