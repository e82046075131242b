package detect

import "math"

// A step that the floor carries outlives a down-edge of its size
// (FloorKeep, round 26c). In a real home (the UCI household of the
// semi-synthetic set) a fridge, a freezer and a boiler of a charger's size,
// 70-120 W, switch every 10-20 minutes all night, and their edges are
// staged over two readings. A down-edge of one of them that matches the
// charger's step in size ended the charge ("switched off") when the load
// that went off had come on after the charger and was not followed (no
// slot, a staged edge, a level settled out of PairTol). A charger is on all
// the time; the loads of its size that cycle are not: once a step has held
// the whole persistence window (45 minutes) with the lowest power of that
// window FloorKeep of its level over its reference, and the power after the
// edge still stands FloorKeep of its level over it, what went off was
// another load. Had the step's own load gone, the power would be back near
// its reference (less whatever came on since, which goes off in turn: the
// fell and persistence rules then end the step).
//
// The flaw: when the step's own load goes off while a charger that came on
// since carries the power, the old step is kept on the charger's power and
// may be confirmed in its place, its start an hour or more early
// (TestPhysicsFloorKeepOlderLoad; on the wide pool at 1 min the alerts more
// than 30 minutes early went 601 -> 760). FloorKeepYoung refuses the keep
// when a younger settled step falls under its hold level at the edge (it
// stood on the load that went off); a charger that no slot followed is not
// seen by it.

// The power over the step's reference after the edge has no upper bound:
// when the step's own load goes off while a larger younger load runs (a
// heater, a bigger charger), that load carries the step, and its drift, read
// against the small step's level, can confirm it by its rise hours after the
// unplug (TestPhysicsFloorKeepCarrier). FloorKeepMax bounds that power;
// FloorKeepOwn takes the levels of the younger followed steps the edge does
// not match off it. Both off: not measured on the pool.

// floorKeeps reports whether an open settled step that the down-edge
// matched outlives it because the floor carries it (FloorKeep over 0, at
// intervals up to FloorKeepIv s; the power p after the edge).
func (s *physCore) floorKeeps(ts int64, c *cand, p, d float32) bool {
	k := float32(s.p.FloorKeep)
	if k <= 0 || s.p.FloorKeepIv > 0 && float64(s.iv) > s.p.FloorKeepIv || float64(s.iv) < s.p.FloorKeepMinIv || c.state() != cOpen || c.lvl <= 0 || ts-c.t0 < blockMS*nBlocks {
		return false
	}
	if p-c.ref < k*c.lvl || s.persistent()-c.ref < k*c.lvl {
		return false
	}
	if m := float32(s.p.FloorKeepMax); m > 0 && p-c.ref > m*c.lvl {
		return false
	}
	if s.p.FloorKeepOwn > 0 {
		// the power that younger followed steps the edge does not match
		// stand for is not c's (FloorKeepOwn 2: only those still standing
		// over their own reference)
		r := p - c.ref
		for i := range s.c {
			x := &s.c[i]
			if x != c && (x.state() == cOpen || x.state() == cCharge) && x.t0 > c.t0 && x.lvl > 0 &&
				math.Abs(float64(d+x.lvl))/float64(x.lvl) > s.p.PairTol && (s.p.FloorKeepOwn < 2 || p-x.ref >= float32(s.p.Hold)*x.lvl) {
				r -= x.lvl
			}
		}
		if r < k*c.lvl {
			return false
		}
	}
	if s.p.FloorKeepYoung > 0 {
		// a younger settled step that the edge takes under its hold
		// level stood on the load that went off: that load was on when
		// it came on, as c's was
		for i := range s.c {
			x := &s.c[i]
			if x.state() == cOpen && x != c && x.t0 > c.t0 && x.lvl > 0 && p-x.ref < float32(s.p.Hold)*x.lvl {
				return false
			}
		}
	}
	return true
}

// A kept step's confirmation (round 27a). On cities 225-256 FloorKeepOwn 2
// added 27 alerts outside every session on days with charging: 19 after an
// unplug, mostly "score (var)" on a step 3-8 hours old, opened 15-180
// minutes before the plug-in (a fridge's cycle, the evening's lights),
// that the charger's power carried: its level falls steeply at the fire
// (-8 to -118 %/h: the charger's taper and float, then the unplug).

// floorRefuses reports whether a step FloorKeep kept (xFloor) may not be
// confirmed on path: FloorKeepPaths over 0 leaves it to the rise and taper
// paths, 2 to the rise and the taper after a rise (not the declined level,
// which confirmed most of the kept steps' false alarms at 5 min; round
// 29b), 3 to the rise only; FloorKeepFall over 0 refuses it while its rise
// is under -FloorKeepFall of its level an hour.
func (s *physCore) floorRefuses(ts int64, i int, path uint8) bool {
	c := &s.c[i]
	if !c.openX(xFloor) {
		return false
	}
	if s.p.FloorKeepPaths > 0 && path != pathRise && path != pathTaper && path != pathTaperFall ||
		s.p.FloorKeepPaths >= 2 && path == pathTaperFall || s.p.FloorKeepPaths >= 3 && path == pathTaper {
		s.trace(ts, "judge", "floor kept: path", i)
		return true
	}
	if f := s.p.FloorKeepFall; f > 0 {
		if r, _ := s.rise(c); r < -f {
			s.trace(ts, "judge", "floor kept: falling", i)
			return true
		}
	}
	return false
}

// floorNoDrop reports whether the drop-time score may not confirm a kept
// step (FloorKeepDrop 1 or more): its power went under its hold level in
// the window, as when the charger that carried it was unplugged.
func (s *physCore) floorNoDrop(c *cand) bool {
	return s.p.FloorKeepDrop > 0 && c.openX(xFloor)
}

// floorDrops reports whether a kept step ends when the window's floor goes
// under its hold level (FloorKeepDrop 2), before the taper paths.
func (s *physCore) floorDrops(c *cand) bool {
	return s.p.FloorKeepDrop >= 2 && s.p.FloorKeepDrop < 3 && c.openX(xFloor)
}

// floorDropsLate reports whether a kept step ends when the window's floor
// goes under its hold level and the taper paths did not confirm it
// (FloorKeepDrop 3, round 29b): it is not waited for as a taper (following)
// nor judged by the drop-time score. Drop 2 lost the kept steps the taper
// paths confirm (wide pool at 1 min: -187 sessions, -7 false alarms).
func (s *physCore) floorDropsLate(c *cand) bool {
	return s.p.FloorKeepDrop >= 3 && c.openX(xFloor)
}
