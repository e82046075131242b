package detect

import "math"

// roomEvict returns the open step to forget for an up-edge that found no
// candidate slot free (PhysicsParams.RoomScore): of the settled steps held
// RoomHold or more, the one whose learned score is lowest, when that score
// is under RoomScore (RoomScoreLong and RoomHoldLong over 90 s when over
// 0); -1 when there is none. prev is the power before the
// edge: the steps are scored as they stood then. Computed only when no
// slot is free.
func (s *physCore) roomEvict(ts int64, prev float32) int {
	pp := s.p
	score, hold := pp.RoomScore, pp.RoomHold
	if s.iv > 90 {
		if pp.RoomScoreLong > 0 {
			score = pp.RoomScoreLong
		}
		if pp.RoomHoldLong > 0 {
			hold = pp.RoomHoldLong
		}
	}
	if score <= 0 {
		return -1
	}
	zMax := math.Log(score / (1 - score))
	best, bi := math.Inf(1), -1
	for j := range s.slots() {
		c := &s.c[j]
		if c.state() != cOpen || c.lvl <= 0 || ts-c.t0 < ms(hold) {
			continue
		}
		// only a score under both the best so far and zMax matters
		if z := s.scoreNowCut(c, ts, prev, math.Inf(-1), min(best, zMax)); z < best {
			best, bi = z, j
		}
	}
	if bi >= 0 && best < zMax {
		return bi
	}
	return -1
}

// pairScored reports whether an open step that a down-edge matches in size
// outlives it for its learned score (PhysicsParams.PairScore): it is
// settled, neither split nor over the band, has held PairScoreHold, and
// scores at least PairScore as it stood before the edge.
func (s *physCore) pairScored(ts int64, c *cand, prev float32) bool {
	pp := s.p
	held := ts - c.t0
	if c.state() != cOpen || c.lvl <= 0 || c.fl&(fSplit|fBig) != 0 || held < ms(pp.PairScoreHold) {
		return false
	}
	return s.scoreAtLeast(c, ts, prev, math.Log(pp.PairScore/(1-pp.PairScore)))
}
