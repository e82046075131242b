package detect

import "math"

// roomSwap returns the open step to forget for an up-edge that found no
// slot free, given the one the eviction rules chose (i: the memory's
// cycler or other load, else the latest; not a step RoomOld or a level
// out of the band chose): the settled step held RoomHold (RoomHoldLong
// over 90 s, when set) or more whose learned score is lowest, when it lies more
// than RoomSwap (RoomSwapLong over 90 s; log-odds) under i's; i when
// there is none, when i is not settled, when RoomSwap is 0 or the
// reading interval is under RoomSwapMinIv (s). Round 14:
// on the tuning seeds, the charger's step that was lost for room had a
// higher score than another slot's in 41 of 57 cases at 1 min and 85 of
// 113 at 5 min (old steps of small loads, fridges and lights whose
// down-edge was not seen, z -4 to -6).
func (s *physCore) roomSwap(ts int64, prev float32, i int) int {
	m := s.p.RoomSwap
	if s.iv > 90 {
		m = s.p.RoomSwapLong
	}
	if m <= 0 || i < 0 || float64(s.iv) < s.p.RoomSwapMinIv {
		return i
	}
	ci := &s.c[i]
	if ci.state() != cOpen || ci.lvl <= 0 || ts-ci.t0 < ms(s.p.RoomSwapAge) {
		return i
	}
	zi := s.scoreNowCut(ci, ts, prev, math.Inf(-1), math.Inf(1))
	if math.IsNaN(zi) {
		return i
	}
	hold := ms(s.p.RoomHold)
	if s.iv > 90 && s.p.RoomHoldLong > 0 {
		hold = ms(s.p.RoomHoldLong)
	}
	best, bi := zi-m, i
	for j := range s.slots() {
		c := &s.c[j]
		if j == i || c.state() != cOpen || c.lvl <= 0 || ts-c.t0 < hold {
			continue
		}
		if z := s.scoreNowCut(c, ts, prev, math.Inf(-1), best); z < best {
			best, bi = z, j
		}
	}
	return bi
}

// roomOld returns the open step to forget first for an up-edge that found
// no slot free: of the settled steps held RoomOld (RoomOldLong over 90 s)
// or more that no path confirmed and whose learned score is under
// RoomOldScore (a probability under 1; 0: any), the oldest; -1 when there
// is none or RoomOld is 0. A charge is confirmed within hours of its start or ends in its
// taper: a step held that long unconfirmed is most often a load whose
// down-edge was not seen.
func (s *physCore) roomOld(ts int64, prev float32) int {
	age := s.p.RoomOld
	if s.iv > 90 {
		age = s.p.RoomOldLong
	}
	if age <= 0 {
		return -1
	}
	bi := -1
	for j := range s.slots() {
		c := &s.c[j]
		if c.state() != cOpen || c.lvl <= 0 || ts-c.t0 < ms(age) || bi >= 0 && c.t0 >= s.c[bi].t0 {
			continue
		}
		if sc := s.p.RoomOldScore; sc > 0 {
			// only which side of the limit it lies on counts: the
			// forest stops once that is certain
			if z := math.Log(sc / (1 - sc)); !(s.scoreNowCut(c, ts, prev, z, z) < z) {
				continue
			}
		}
		bi = j
	}
	return bi
}
