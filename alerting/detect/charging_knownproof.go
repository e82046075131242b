package detect

// The known-charger paths asking for a confirmed lesson (round 44a;
// PhysicsParams.KnownProof). A memory slot's charger count mixes the
// lessons of confirmed charges with those of steps dropped unconfirmed
// (forget: mostly fridge cycles and lamps whose power climbed; round
// 39a: on cities 201-224 at 1 min 10,518 such lessons on units that
// never charged, against 68 from alerts there), and the fast
// known-charger path fires on a slot whose charger count reaches its
// other count. Its proof count (sig.proof, charging_memproof.go) holds
// only the lessons of confirmed charges (MemProof 784: the active core,
// whichever path confirmed them), so "proof"
// and "charger count less proof" are the lessons by route, with no new
// state. With KnownProof the known-charger paths read a slot by its
// counts only once it has a proof: a slot taught "charger" only by
// dropped steps (a lamp's evening, a fridge's climb) no longer opens the
// fast path (bit 2) or the held one (bit 4). MemProof teaches only at
// 45-90 s; bit 1 teaches the same lessons over 90 s (where nothing else
// reads the proof count: MemProof's readers stay at 45-90 s), bit 8 not
// those of the charge whose session the score confirmed.
//
// Measured on the wide pool (round 44a; main 1 min 6,590/207, alerts
// 7,359, charging days 185; 5 min 5,123/192, 5,802, 100):
//   - 1 min, bits 2 (KnownProof 2): 6,589/199, charging days 180, one
//     set against; bits 2 and 4: 6,582/193, 161, four sets against;
//   - 5 min, bits 1, 2 (3): 5,121/187, charging days 100, two sets
//     against; with bit 8: 5,116/186, 99; bits 1, 2, 4: 5,091/180, 88;
//     with bit 8: 5,063/177, 75; bits 1, 4: 5,093/186, 89; 3 with
//     KnownProofMin 2: 5,100/186, 96.
// The held path's lessons carry sessions (a charger's size first learnt
// from a dropped step); the fast path's are the lamps' and fridges'.
// Cities 1153-1184 (never used before), once per interval, KnownProof 3:
// 5 min 4,030/128 against main's 4,033/136 (alerts 4,568 -> 4,555,
// charging days 88 -> 86, ends 183/714 both; two of eight sets against):
// passed; 1 min 5,202/143 against 5,206/147 (charging days 128 -> 127): a
// tie, not passed. On (3) at 150 s or more only (KnownProofMinIv).
//
// Also measured at 5 min and not kept (round 44a): the confirmation
// forest refitted on rows with the proof count and the rest of the
// charger count as features (cities 1105-1120, the proof taught over 90
// s without the score's own charges), 5,044/177 (charging days 104) at
// today's limits, 5,119/214 (114) at 0.85 / 0.7; with mem_charger kept
// 5,081/186 (102), 5,116/204 (105) at 0.88 / 0.75; today's forest with
// the proof count as its mem_charger 5,011/171 (77); a charge whose
// session the score confirmed teaching the memory nothing 4,940/179
// (75), or no "charger" to a cycler's slot 5,110/192 (101).

func (s *physCore) knownProofOn(b int) bool {
	pp := s.p
	if pp == nil || pp.KnownProof <= 0 || int(pp.KnownProof)&b == 0 {
		return false
	}
	return s.ivIn(pp.KnownProofMinIv, pp.KnownProofMaxIv)
}

// knownProofCharge reports whether confirmed charge c, ending and teaching
// "charger", counts in its slot's proof count by KnownProof bit 1 (over
// 90 s only: MemProof's proofCharge teaches up to 90 s).
func (s *physCore) knownProofCharge(c *cand) bool {
	if s.iv <= 90 || !s.knownProofOn(1) || s.nv {
		return false
	}
	if s.knownProofOn(8) && s.sT0 == c.t0 && s.sPath == pathScore {
		return false // the charge whose session the score confirmed
	}
	// as MemProof's bit 512: only a core with a peer asks it, and the
	// active core has none (the detector sets only the non-active core's)
	return s.peer == nil || !s.peer.notCharger(c.ws)
}

// unproven reports whether KnownProof bit b (2 the fast known-charger
// path, 4 the held one) keeps slot k from being read as the unit's
// charger by its counts: its proof count is under KnownProofMin (0: 1).
// A slot a person's verdict refuted (proof byte 255, charging_feedback.go)
// has no proof count: with Feedback turned off after a verdict it must not
// read as the best-proven slot of the memory.
func (s *physCore) unproven(k int, b int) bool {
	if !s.knownProofOn(b) {
		return false
	}
	m := &s.mem[k]
	return m.proof == refuted || float64(m.proof) < max(s.p.KnownProofMin, 1)
}
