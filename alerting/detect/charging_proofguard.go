package detect

// What the proof count may not read as the charger (round 42b;
// PhysicsParams.ProofGuard, at 1 min). MemProof's reading (the fast
// known-charger path on a slot the memory outweighs as another load but
// whose proof count reads it as the unit's charger) fires at
// MemProofHold (15 min); on cities 577-608 it fired so outside every
// session on fridges of the charger's size (a compressor starts about 10%
// over the level it settles to: overshoot 0.10-0.11 on all three; of
// the path's 39 readings on the wide pool none overshot 0.02, of its 92
// there and on those cities 5 overshot 0.06, all on fridges' slots) and
// on a range hood (91 W, on top of lights) whose slot had taught "other"
// six times, only two of them cycles, and proof once (a steady load of
// this size the unit runs).
// Bit 1: the proof count does not read a step that overshot its settled
// level by more than ProofOver at its start (a compressor's start-up; a
// charger's constant current does not overshoot). Bit 2: nor a step of a
// slot whose other lessons that were not cycles (other - cycles) exceed
// ProofOth times its proof count (a steady non-charger of this size,
// such as a lamp or a hood, has been seen far more often than the
// charger proved itself). No new state; only at ProofGuardMinIv-
// ProofGuardMaxIv s.
// On by default (3, ProofOver 0.06, ProofOth 3) since round 42b, with
// MemProof 784 and the sag veto (SagDrop), at 1 min. Cities 577-608 against main:
// 5262/133 -> 5263/133, alerts 5847 -> 5849, outside sessions on charging
// days 143 -> 143 (without the guard 5263/134, 5855, 146), within 20
// minutes 1,333 -> 1,340; the wide pool as without the guard (within 20
// 1,581 -> 1,588, alerts unchanged); cities 1057-1088: 5099/192, alerts
// 5751 and 132 outside sessions unchanged, within 20 1,141 -> 1,156,
// within 30 1,567 -> 1,573, within 60 2,279 -> 2,282.

// proofGuardOn reports whether ProofGuard's bit b is on at this interval.
func (s *physCore) proofGuardOn(b int) bool {
	pp := s.p
	if pp == nil || pp.ProofGuard <= 0 || int(pp.ProofGuard)&b == 0 {
		return false
	}
	return s.ivIn(pp.ProofGuardMinIv, pp.ProofGuardMaxIv)
}

// proofGuarded reports whether ProofGuard keeps slot k's proof count from
// reading step c as the unit's charger.
func (s *physCore) proofGuarded(c *cand, k int) bool {
	if k < 0 {
		return false
	}
	if s.proofGuardOn(1) && overshoot(c) > s.p.ProofOver {
		return true
	}
	if m := &s.mem[k]; s.proofGuardOn(2) && float64(int(m.other)-int(m.cycles)) > s.p.ProofOth*float64(m.proof) {
		return true
	}
	return false
}
