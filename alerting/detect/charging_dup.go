package detect

// Two steps that claim one load's power (round 17a). A down-edge that
// matches no step lowers the reference of every step it would bring down
// (down), so after a load went off unseen its step can stand on the floor
// beside another of its size, both leaning on whatever is on now (three
// slots at about 168 W on the floor, all on one charge, in round 16's
// trace). On look L1 of the tuning seeds at 5 min, at the 32,906 up-edges
// that found no slot free, 22,700 pairs of open steps had levels and
// references within 5% of each other; matched to the simulator's loads,
// the newer of the pair was a step whose load had gone (no load that came
// on at its start still on) in 93% of them (the older in 73%), a charge
// in 0.7%. The usual rules forget such a step in 72% of those events.

// roomDup returns the open step to forget first for an up-edge that found
// no slot free: of two settled open steps whose levels and references lie
// within RoomDup (RoomDupLong over 90 s; RoomDup only from RoomDupMinIv s
// when that is over 0) of the larger level of each other,
// both references within roomDupFloor of it over the floor, the newer (of
// several such pairs, the newest); -1 when there is none or the rule is
// off at the interval (its tolerance 0, or under RoomDupMinIv).
func (s *physCore) roomDup() int {
	tol := float32(s.p.RoomDup)
	if s.iv > 90 {
		tol = float32(s.p.RoomDupLong)
	} else if s.p.RoomDupMinIv > 0 && float64(s.iv) < s.p.RoomDupMinIv {
		tol = 0
	}
	if tol <= 0 {
		return -1
	}
	bi := -1
	n := s.slots()
	for j := 0; j < n; j++ {
		a := &s.c[j]
		if a.state() != cOpen || a.lvl <= 0 {
			continue
		}
		for k := j + 1; k < n; k++ {
			b := &s.c[k]
			if b.state() != cOpen || b.lvl <= 0 {
				continue
			}
			m := max(a.lvl, b.lvl)
			if abs32(a.lvl-b.lvl) > tol*m || abs32(a.ref-b.ref) > tol*m || max(a.ref, b.ref)-s.base >= roomDupFloor*m {
				continue
			}
			f := k
			if b.t0 < a.t0 {
				f = j
			}
			if bi < 0 || s.c[f].t0 > s.c[bi].t0 {
				bi = f
			}
		}
	}
	return bi
}

// roomDupFloor: a duplicate's references lie within this share of its
// level over the floor.
const roomDupFloor = 0.3
