package detect

// How a confirmed charge ends by a fall (round 20a). A charge ends when a
// down-edge of its size takes it (down: "unplugged"), when the power over
// its reference stays under the float level, or under EndLevel of its
// level where that is higher (endBelow, charging_endlvl.go), for EndAfter
// (checkEnd: "float"), or when a down-edge takes the power over its
// reference from 0.85 of its level or more to under half ("fell": an
// unplug masked or split by another load's edge in the same reading). In
// the charge's taper its own power is under half its level; another load
// that came on during the charge holds the power over 0.85 of the level,
// and its off-edge, smaller than the charge's level, makes the same fall
// while the charger still draws. FellEdge asks the edge itself to be most
// of the level.

// fellEdge reports whether a down-edge of d is large enough to be charge
// c's own fall: FellEdge (FellEdgeLong over 90 s) of its level or more;
// always when that is 0.
func (s *physCore) fellEdge(c *cand, d float32) bool {
	f := s.p.FellEdge
	if s.iv > 90 {
		f = s.p.FellEdgeLong
	}
	return f <= 0 || float64(-d) >= f*float64(c.lvl)
}
