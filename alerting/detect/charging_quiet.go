package detect

// fastUnquiet reports whether a step about to be confirmed by a path of
// PhysicsParams.FastQuietPaths (by default the fast path of an unknown
// step, pathFast) was quiet on too few of its readings: fewer
// than PhysicsParams.FastQuiet (FastQuietLong at intervals over 90 s) of
// the readings it held, at intervals over FastQuietMinIv s. The fast
// path's evidence is a flat, clean step; a step whose readings were
// mostly taken by other loads' edges (a chain of short loads, each
// lowering or raising what it is read against) showed its flatness on a
// few readings only, which a lamp or a compressor's start also shows.
func (s *physCore) fastUnquiet(c *cand, held int64, path uint8) bool {
	pp := s.p
	if int(pp.FastQuietPaths)&(1<<path) == 0 {
		return false
	}
	q := pp.FastQuiet
	if s.iv > 90 {
		q = pp.FastQuietLong
	}
	if q <= 0 || float64(s.iv) <= pp.FastQuietMinIv || held <= 0 {
		return false
	}
	return float64(c.n) < q*float64(held)/(1000*float64(s.iv))
}

// fastVeto returns why a memory path's fast confirmation (the known
// charger's, the outlasted cycler's) is refused by the resistive test,
// the flat veto or FastQuiet, or "" when none refuses it.
func (s *physCore) fastVeto(c *cand, held int64, path uint8) string {
	switch {
	case s.resistive(c, 1<<path):
		return "fast: resistive"
	case s.flat(c, path):
		return "fast: flat"
	case s.fastUnquiet(c, held, path):
		return "fast: unquiet"
	}
	return ""
}
