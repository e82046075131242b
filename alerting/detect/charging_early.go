package detect

import "math"

// Before ScoreHold (round 12b; PhysicsParams.ScoreEarlyGate and the
// fields after it). ScoreHold's 20 minutes outlast a steady
// compressor-like load of a charger's size (about 16 minutes:
// TestPhysicsFastNewHold, TestScorePath). Two ways to an earlier alert
// keep that: the early score (ScoreEarlyMin from ScoreEarlyHold) confirms
// a young step only on a score such a load does not reach, and, with
// ScoreEarlyGate over 0, only with evidence such a load lacks (the default
// gate is 0 since round 21a: the threshold alone); and
// the running sum (ScoreSeq 2) may add a young step's windows
// (ScoreSeqFrom) but confirms only from ScoreHold on, so that a charge
// whose score was fair from its first windows fires at ScoreHold rather
// than several windows later.

// earlyDue reports whether a step held held ms, in its early window, is
// scored at this reading: once per ScoreEarlyEvery of its age (as
// scoreDue does per scoreEvery); with ScoreEarlyEvery 0, at scoreDue's
// 5-minute marks.
func (s *physCore) earlyDue(held int64) bool {
	if s.p.ScoreEarlyEvery <= 0 {
		return s.scoreDue(held)
	}
	return s.everyDue(held, ms(s.p.ScoreEarlyEvery))
}

// onDue reports whether a step held ScoreHold or more is also scored at
// this reading off the 5-minute marks (ScoreOnEvery; never when 0).
func (s *physCore) onDue(held int64) bool {
	return s.p.ScoreOnEvery > 0 && s.everyDue(held, ms(s.p.ScoreOnEvery))
}

// everyDue reports whether the reading is the first at or past a mark
// of every ms of a step's age held (as scoreDue).
func (s *physCore) everyDue(held, every int64) bool {
	return held >= 0 && held/every != max(held-int64(s.gap), -1)/every
}

// earlyGated reports whether the gate (ScoreEarlyGate) lets a young step
// of features f be confirmed early: with the gate 0, always; else when
// the step has one of the kinds of evidence its bits name.
func (s *physCore) earlyGated(f *[ScoreFeatures]float64) bool {
	g := int(s.p.ScoreEarlyGate)
	if g == 0 {
		return true
	}
	return g&1 != 0 && s.nv ||
		g&2 != 0 && !s.nv && f[11] > 0 && f[10] == 0 ||
		g&4 != 0 && f[12] > f[13] // log(1+charger) over log(1+other)
}

// earlyRun counts the early looks in a row of candidate i that reached
// ScoreEarlyMin (fire) and reports whether the run is long enough
// (ScoreEarlyRun; 1 or less: the look alone). The count lives in the
// candidate's sequence bits, which the running sum uses only from
// ScoreHold on (earlyDone clears it there).
func (s *physCore) earlyRun(i int, fire bool) bool {
	k := s.p.ScoreEarlyRun
	if k <= 1 || s.seqFromOn() {
		return fire
	}
	v := uint8(0)
	if fire {
		v = min(s.seqGet(i)+1, seqMax)
	}
	s.seqSet(i, v)
	return float64(v) >= k
}

// earlyDone clears candidate i's early run at its first reading from
// ScoreHold on, before the running sum reads the same bits.
func (s *physCore) earlyDone(i int) {
	if s.p.ScoreEarlyRun > 1 && !s.seqFromOn() {
		s.seqReset(i)
	}
}

// seqFromOn reports whether the running sum starts before ScoreHold at
// this reading interval (ScoreSeqFrom, ScoreSeqFromLong; ScoreSeq 0 turns
// the running sum off at every interval, as scored reads it).
func (s *physCore) seqFromOn() bool {
	pp := s.p
	from, mode, h := pp.ScoreSeqFrom, pp.ScoreSeq, pp.seqH
	if s.iv > 90 {
		from, mode, h = pp.ScoreSeqFromLong, pp.seqModeLong, pp.seqHLong
	}
	return pp.ScoreSeq > 0 && from > 0 && mode == seqCusum && !math.IsInf(h, 1) && pp.ScoreMin > 0
}

// seqFrom reports whether a step held held ms, not yet ScoreHold, adds
// its windows to the running sum (seqFromOn).
func (s *physCore) seqFrom(held int64) bool {
	from := s.p.ScoreSeqFrom
	if s.iv > 90 {
		from = s.p.ScoreSeqFromLong
	}
	return s.seqFromOn() && held >= ms(from) && held < ms(s.p.ScoreHold)
}
