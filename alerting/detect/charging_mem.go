package detect

// The unit's memory taught by confirmed charges (round 13c;
// PhysicsParams.MemConfirmed). A charge confirmed in a busy home rarely
// ends with the rise of t 2 or the float that verdict needs to call it a
// charger, and one whose regression takes in its taper (a decline) or
// that was unplugged within the hour is called not a charger, so the
// unit's memory seldom learns its own charger's size, and the paths and
// score features that read the memory (fast known charger, known charger
// held, the early score's gate) stay closed for its next charges.

// confirmedVerdict is what the memory learns of a confirmed charge that
// ended (why: "fell", "unplugged" or "float") after run minutes, given
// verdict's k; alone: no other charge of the core was on. With
// MemConfirmed's bit 1 a charge verdict cannot call either way (0) is a
// charger; bit 2 one it calls not a charger (-1) that a down-edge took
// from its plateau to under half its level with no matching size
// ("fell"); bit 4 one a down-edge of its size ended ("unplugged"). Bits
// 2 and 4 hold only: with 8, for a run under an hour; with 16, for a run
// of an hour or more; with 32, for a charge alone; with 64, for a
// rise's t over 0; with 128, for a t of -2 or less (a decline).
func (s *physCore) confirmedVerdict(c *cand, k int, why string, run float32, alone bool) int {
	m := int(s.p.MemConfirmed)
	if k == 0 && m&1 != 0 {
		return 1
	}
	if k >= 0 || why == "fell" && m&2 == 0 || why == "unplugged" && m&4 == 0 || why != "fell" && why != "unplugged" {
		return k
	}
	if m&8 != 0 && run >= 60 || m&16 != 0 && run < 60 || m&32 != 0 && !alone {
		return k
	}
	if m&(64|128) != 0 {
		if _, t := s.rise(c); m&64 != 0 && t <= 0 || m&128 != 0 && t > -2 {
			return k
		}
	}
	return 1
}
