package detect

import "math"

// The held band (round 13b, BandHold): a step held for hours whose lower
// envelope stays in the charger band is confirmed without its rise
// resolved. In a busy home the rise of a charger's plateau (1-5 %/h) is
// lost in the background's noise and edges, and the fast paths need a
// quiet start; but the lowest power of the last 45 minutes (the
// persistence window) still stands the step's size over its reference,
// hour after hour: whatever else switches, the charger never left. A
// lamp or a television does the same for an evening, so the step must
// also not be a look-alike by the learned score (its probability at
// least BandMin, well under the score path's own threshold) nor by the
// unit's memory or its var per watt, and (BandEnv) the envelope itself
// must have risen since an hour in, a little and no faster than a
// charger's plateau: the lowest power of 45 minutes is not moved by
// short loads, where the rise regression loses every stretch an edge
// cuts short. Without that rise, the band confirmed the lamps of an
// evening (round 13b, on the tuning seeds). The envelope is first read when judge
// reaches this path (no charge on in the core), at BandEnvAt or later.

// banded reports whether open candidate c, held held ms, is confirmed by
// the held band (PhysicsParams.BandHold): judged at the score's 5-minute
// marks only.
func (s *physCore) banded(cfg *ChargingConfig, ts int64, c *cand, held int64) bool {
	pp := s.p
	hold, lim := pp.BandHold, pp.BandMin
	if s.iv > 90 {
		hold, lim = pp.BandHoldLong, pp.BandMinLong
	}
	if hold <= 0 || held < blockMS*nBlocks {
		return false
	}
	if pp.BandEnv > 0 {
		if s.nv {
			return false
		}
		if c.ws == 0 && held >= ms(pp.BandEnvAt) {
			// the envelope first read: kept in ws, which the active
			// power's candidates do not use
			c.ws = max(s.persistent()-c.ref, 1e-3)
		}
	}
	if held < ms(hold) || !s.scoreDue(held) {
		return false
	}
	lvl := float64(c.lvl)
	if lvl < cfg.StepMinW || lvl > cfg.StepMaxW*1.05 {
		return false
	}
	// the lower envelope: what has been on for the whole window stands
	// the step's size over its reference, not much less nor much more
	env := float64(s.persistent()-c.ref) / lvl
	if env < pp.BandLo || pp.BandHi > 0 && env > pp.BandHi {
		return false
	}
	if pp.BandEnv > 0 {
		// the envelope rose as a charger's plateau does
		g := float64(s.persistent()-c.ref-c.ws) / lvl
		h := float64(held-ms(pp.BandEnvAt)) / 3.6e6
		rate := pp.MaxRise
		if pp.BandEnvRate > 0 {
			rate = pp.BandEnvRate
		}
		if c.ws == 0 || g < pp.BandEnv || g > rate*max(h, 1) || g*lvl < pp.BandEnvK*float64(s.sigma()) {
			return false
		}
	}
	if pp.BandRiseT > 0 {
		// not declining: a sag or a load dying down
		if _, t := s.rise(c); t <= -pp.BandRiseT {
			return false
		}
	}
	if s.notCharger(c.lvl) || s.notPF(c, 1<<pathBand) ||
		s.peer != nil && s.peer.notCharger(c.ws) {
		return false
	}
	if lim <= 0 {
		return true
	}
	if lim >= 1 {
		return false
	}
	return s.scoreAtLeast(c, ts, s.prev, math.Log(lim/(1-lim)))
}
