package detect

import "math"

// Who owns a down-edge (round 13f). A down-edge of a step's size ends the
// step it matches best (down). In a busy home the load that went off is
// more often a short one that came on minutes after the step: its own
// up-edge was not followed (no free slot, evicted, or gated out) or it was
// followed but matched less closely than the older step. Two tests give
// the edge to its owner: the non-active power it took away per watt
// (ratioDisowns: a resistive blanket zone is not a charger without
// correction), and a remembered up-edge of its size that no candidate
// followed (ghostOwns: last in, first out).

// ghostTick is the unit of the remembered up-edge's time (gT, modulo
// 2^16 ticks), ms.
const ghostTick = 10000

// ghostSet remembers an up-edge of w that the var-per-watt gate kept from
// being followed: the load that came on then is still on, and its
// down-edge is its own.
func (s *physCore) ghostSet(ts int64, w float32) {
	if s.p.OwnGhost <= 0 || w <= 0 {
		return
	}
	s.gT, s.gW = uint16(ts/ghostTick), uint16(min(10*w, math.MaxUint16))
}

// ghostOwns reports whether the down-edge d at ts (power p after it) is
// the remembered up-edge's load going off rather than the step c it
// matched: the up-edge came after c started, within OwnGhost, of d's size
// within PairTol, and the power after the edge still stands OwnStay of
// c's size over its reference. The ghost is spent.
func (s *physCore) ghostOwns(ts int64, c *cand, p, d float32) bool {
	pp := s.p
	if pp.OwnGhost <= 0 || s.gW <= 0 {
		return false
	}
	// its 10 s, from the ticks since it (modulo 2^16: 7.6 days; observe
	// forgets it once past OwnGhost)
	gt := (ts/ghostTick - int64(uint16(ts/ghostTick)-s.gT)) * ghostTick
	w := float32(s.gW) / 10
	if ts-gt > ms(pp.OwnGhost) || gt < c.t0 || abs32(d+w) > float32(pp.PairTol)*w {
		return false
	}
	if c.lvl > 0 && p-c.ref < float32(pp.OwnStay)*c.lvl {
		return false
	}
	s.gW = 0
	return true
}

// ratioDisowns reports whether a down-edge d of the active power is not
// the step c's by its non-active change (OwnRatio, OwnRatioLong): the
// step added q of non-active power per watt, the edge took away a ratio
// further from it than the tolerance.
func (s *physCore) ratioDisowns(ts int64, c *cand, d float32) bool {
	pp := s.p
	tol, age := pp.OwnRatio, pp.OwnAge
	if s.iv > 90 {
		tol, age = pp.OwnRatioLong, 0
	}
	if tol <= 0 || s.nv || !s.nxOK || s.nxp < 0 || c.fl&fNA == 0 || c.lvl <= 0 || d >= 0 || ts-c.t0 < ms(age) {
		return false
	}
	qc := (s.nxp - c.wb) / c.lvl
	qe := (s.nxp - s.nx) / -d
	return abs32(qe-qc) > float32(tol)
}
