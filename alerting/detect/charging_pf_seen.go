package detect

// The var-per-watt verdict's memory of a step (round 29d; PhysicsParams.
// PFSeen, the x flag xPF). notChargerPF reads a step's var per watt on
// the reading it judges: the non-active power now less before the step,
// over its level. A load that comes on or goes off during the step
// changes the non-active power and can make a television, a PC or a lamp
// with its own power factor read like a charger later. A step that read
// no charger's var per watt soon after it settled is marked, and the mark
// keeps it no charger for PFSeenPaths for the rest of its life.
//
// A charger reads no charger's var per watt only when a load with non-
// active power comes on or goes off in the reading it is read on: the
// window after settling (PFSeen s), the reading before (PFSeenMode 1) and
// a reading without an edge (PFSeenMode 2) bound that.

// PFSeenPaths bits besides 1 << path: the places that judge a step
// without confirming it on a path.
const (
	pfSeenPair   = 1 // pairKept: outliving a known other load's down-edge
	pfSeenTaper5 = 1 << 11
)

// pfRead reports whether non-active power nx, less c's before its step,
// per watt of its level, is no charger's (as notChargerPF reads it).
func (s *physCore) pfRead(nx float32, c *cand) bool {
	q := (nx - c.wb) / c.lvl
	return q > float32(s.p.FastRatioLo) && q < float32(s.p.FastRatioHi) ||
		s.p.FastRatioMax > 0 && q > float32(s.p.FastRatioMax)
}

// pfMark sets c's xPF on a reading ts of the active core that reads the
// open, settled step's var per watt as no charger's within PFSeen s of its
// settling (PFSeenMode: 1 the reading before too; 2 not when the reading
// is an edge), at reading intervals from PFSeenMinIv s and up to
// PFSeenMaxIv s when that is over 0. It reads notChargerPF (its guards
// too), and the reading before as it would.
func (s *physCore) pfMark(ts int64, c *cand, edge bool) {
	pp := s.p
	if pp.PFSeen <= 0 || c.openX(xPF) || c.lvl <= 0 || ts > c.t0+ms(pp.Settle)+int64(pp.PFSeen*1000) {
		return
	}
	if ts <= c.t0+ms(pp.Settle) {
		return // still settling: its level measured early, when another step came on (open)
	}
	if pp.PFSeenMaxIv > 0 && float64(s.iv) > pp.PFSeenMaxIv || float64(s.iv) < pp.PFSeenMinIv {
		return
	}
	mode := int(pp.PFSeenMode)
	if mode&2 != 0 && edge {
		return
	}
	if !s.notChargerPF(c) {
		return
	}
	if mode&1 != 0 && (s.nxp < 0 || !s.pfRead(s.nxp, c)) {
		return
	}
	c.sf |= xPF
}

// pfSeen reports whether c was marked no charger by its var per watt
// (xPF) with PFSeen on, for a place of mask (PFSeenPaths bits).
func (s *physCore) pfSeen(c *cand, mask int) bool {
	return s.p.PFSeen > 0 && int(s.p.PFSeenPaths)&mask != 0 && c.openX(xPF)
}

// notPF reports whether c's var per watt is no charger's for a place of
// mask: on this reading (notChargerPF) or soon after it settled (pfSeen).
func (s *physCore) notPF(c *cand, mask int) bool {
	return s.notChargerPF(c) || s.pfSeen(c, mask)
}

// pfFastMask is the PFSeenPaths bits the fast test's var per watt reads
// for a step the memory holds at k (-1: an unknown step, the fast path;
// else the known charger's and the cycler's).
func pfFastMask(k int) int {
	if k < 0 {
		return 1 << pathFast
	}
	return 1<<pathKnown | 1<<pathCycler
}
