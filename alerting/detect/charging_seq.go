package detect

import "math"

// The learned score judged as a sequence (PhysicsParams.ScoreSeq): the
// score path fires at the first 5-minute window whose probability passes
// ScoreMin, a maximum over many looks at a step that lasts hours, so a
// single lucky window of a lamp confirms it. The sequence instead asks the
// evidence to hold over windows: a run of windows in a row over a lower
// threshold, or a running sum of the log-odds over a reference (a CUSUM),
// either besides ScoreMin; or a gate on ScoreMin, a run before it.
//
// Its state is 6 bits per candidate, in the core's padding (seq:
// seqBytes, 4 bytes for 5 candidates): a run's length, or the sum in
// eighths of a unit of log-odds. A candidate's bits are cleared when its
// slot opens a new step (seqReset) and written to the checkpoint (version
// 5, 3 bytes for the first four slots; version 7 all of seq) while any is
// set.

const (
	seqRun   = 1 // ScoreSeq: windows in a row
	seqCusum = 2 // ScoreSeq: a running sum of the log-odds
	seqGate  = 3 // ScoreSeq: ScoreMin confirms only after a run
	seqMax   = 63
	seqUnit  = 8 // the CUSUM's steps per unit of log-odds
)

// seqBytes holds 6 bits for each of the nCands candidates; oldSeqBytes
// the 4 of checkpoint versions 5 and 6.
const (
	seqBytes    = (6*nCands + 7) / 8
	oldSeqBytes = (6*oldCands + 7) / 8
)

// seqWord returns the sequence state of all candidates, 6 bits each.
func (s *physCore) seqWord() uint64 {
	var w uint64
	for k, b := range s.seq {
		w |= uint64(b) << (8 * k)
	}
	return w
}

// seqGet returns candidate i's sequence state.
func (s *physCore) seqGet(i int) uint8 {
	return uint8(s.seqWord() >> (6 * i) & seqMax)
}

// seqSet sets candidate i's sequence state to v (at most seqMax).
func (s *physCore) seqSet(i int, v uint8) {
	w := s.seqWord()&^(seqMax<<(6*i)) | uint64(min(v, seqMax))<<(6*i)
	for k := range s.seq {
		s.seq[k] = uint8(w >> (8 * k))
	}
}

// seqReset clears candidate i's sequence state (a new step in its slot).
func (s *physCore) seqReset(i int) {
	if s.seq != [seqBytes]uint8{} {
		s.seqSet(i, 0)
	}
}

// seqUsed returns the sequence state of the candidates a checkpoint keeps
// (cand.kept; the rest is stale or not written: a followed taper's, which
// read back as a free slot's would make the checkpoint corrupt).
func (s *physCore) seqUsed() [seqBytes]uint8 {
	var n physCore
	for i := range s.c {
		if s.c[i].kept() {
			n.seqSet(i, s.seqGet(i))
		}
	}
	return n.seq
}

// seqScored adds the score z (log-odds) of one window of candidate i to
// its sequence and reports whether the score path confirms it, given fire
// (the window alone passed ScoreMin): a run or a CUSUM confirms also when
// it passes; a gate confirms only when the window passed and the run
// reached ScoreSeqK. Called by scored at each scored window from
// ScoreHold on; NaN adds nothing.
func (s *physCore) seqScored(i int, z float64, fire bool) bool {
	pp := s.p
	mode, zRef, h := pp.ScoreSeq, pp.seqZ, pp.seqH
	if s.iv > 90 {
		mode, zRef, h = pp.seqModeLong, pp.seqZLong, pp.seqHLong
	}
	if math.IsInf(h, 1) {
		return fire // off at this interval
	}
	v := s.seqGet(i)
	switch {
	case math.IsNaN(z):
	case mode == seqCusum:
		v = uint8(clip(math.Round(float64(v)+(z-zRef)*seqUnit), 0, seqMax))
	case z >= zRef:
		v = min(v+1, seqMax)
	default:
		v = 0
	}
	s.seqSet(i, v)
	switch mode {
	case seqRun:
		return fire || float64(v) >= h
	case seqCusum:
		return fire || float64(v) >= h*seqUnit
	case seqGate:
		return fire && float64(v) >= h
	}
	return fire
}

// seqLimits sets the sequence's mode, reference log-odds and limit at
// each interval class (from ScoreSeqMin, ScoreSeqK or ScoreSeqH; over
// 90 s ScoreSeqMinLong, and ScoreSeqLong, ScoreSeqKLong or ScoreSeqHLong
// when over 0), once, when the model is made. A limit the state cannot
// hold is never reached; with ScoreSeqMin 0 (up to 90 s) or
// ScoreSeqMinLong 0 (over 90 s) the sequence is off there (ScoreMin or
// ScoreMinLong alone decides).
func (p *PhysicsParams) seqLimits() {
	z := func(q float64) float64 {
		if q <= 0 || q >= 1 {
			return math.Inf(1)
		}
		return math.Log(q / (1 - q))
	}
	long := func(v, l float64) float64 {
		if l > 0 {
			return l
		}
		return v
	}
	limit := func(mode, k, h float64) float64 {
		switch {
		case mode == seqCusum && h*seqUnit <= seqMax:
			return max(h, 1.0/seqUnit)
		case (mode == seqRun || mode == seqGate) && k <= seqMax:
			return max(k, 1)
		}
		return math.Inf(1)
	}
	p.seqModeLong = long(p.ScoreSeq, p.ScoreSeqLong)
	p.seqZ, p.seqZLong = z(p.ScoreSeqMin), z(p.ScoreSeqMinLong)
	p.seqH = limit(p.ScoreSeq, p.ScoreSeqK, p.ScoreSeqH)
	p.seqHLong = limit(p.seqModeLong, long(p.ScoreSeqK, p.ScoreSeqKLong), long(p.ScoreSeqH, p.ScoreSeqHLong))
	if p.ScoreSeqMin <= 0 {
		p.seqH = math.Inf(1)
	}
	if p.ScoreSeqMinLong <= 0 {
		p.seqHLong = math.Inf(1)
	}
}
