package detect

// fastUnquiet reports whether an unknown step about to be confirmed by
// the fast path (pathFast) was quiet on too few of its readings: fewer
// than PhysicsParams.FastQuiet (FastQuietLong at intervals over 90 s) of
// the readings it held, at intervals over FastQuietMinIv s. The fast
// path's evidence is a flat, clean step; a step whose readings were
// mostly taken by other loads' edges (a chain of short loads, each
// lowering or raising what it is read against) showed its flatness on a
// few readings only, which a lamp or a compressor's start also shows.
func (s *physCore) fastUnquiet(c *cand, held int64) bool {
	pp := s.p
	q := pp.FastQuiet
	if s.iv > 90 {
		q = pp.FastQuietLong
	}
	if q <= 0 || float64(s.iv) <= pp.FastQuietMinIv || held <= 0 {
		return false
	}
	return float64(c.n) < q*float64(held)/(1000*float64(s.iv))
}
