package detect

// Candidate slots (round 13e): the detector follows at most nCands open
// steps per core. In the busier homes of round 13a an up-edge often
// found all four slots of round 12 taken, and a charge's step was lost
// on the plateau with no room (evicted) or never followed. The checkpoint
// writes version 7 (physVersionSlots) only while a slot past the fourth
// is kept, so that a binary with four slots starts only those devices'
// charging detectors afresh (ErrOtherChargingModel).

// slots returns how many slots an up-edge may take at this reading
// interval: PhysicsParams.Cands (CandsLong over 90 s when over 0), from 1
// to nCands; 0: all.
func (s *physCore) slots() int {
	n := s.p.Cands
	if s.iv > 90 && s.p.CandsLong > 0 {
		n = s.p.CandsLong
	}
	if n <= 0 || n > nCands {
		return nCands
	}
	return n
}

// oldCands is the slot count of the checkpoint versions before 7: a state
// that keeps no slot from oldCands on is written as they were.
const oldCands = 4

// wideSlots reports whether a checkpoint of s needs version 7: a kept
// candidate in a slot past the fourth.
func (s *physCore) wideSlots() bool {
	for i := oldCands; i < nCands; i++ {
		if s.c[i].kept() {
			return true
		}
	}
	return false
}
