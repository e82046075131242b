package detect

import (
	"math"
	"time"
)

// The learned confirmation score (docs/detection-history.md, Tuning): a logistic
// regression on the evidence an open candidate step already carries,
// fitted on the tuning seeds by cw-sim fit-score from the rows that
// cw-sim eval --features dumps. It is computed only at judgements, at most
// once every 5 minutes of a step's life (scoreDue), never per reading
// otherwise. Gradient-boosted trees on the same features are the other
// model, the default since round 11 (PhysicsParams.ScoreModel;
// charging_score_trees.go).

// ScoreFeatures is the number of features of the score; ScoreNames names
// them, in order (PhysicsParams.ScoreW holds the intercept, then a
// coefficient per feature).
const ScoreFeatures = 30

// ScoreNames are the score's features: what each means is in
// scoreFeatures.
var ScoreNames = [ScoreFeatures]string{
	"log_held", "log_level", "log_noise", "log_recent_noise", "overshoot", "overshoot_unknown",
	"rise", "rise_t", "rise_t_in_range", "pf_known", "pf_not_charger", "pf_charger",
	"mem_charger", "mem_other", "cycler_like", "log_busy", "split_or_big", "pair",
	"var_core", "log_interval", "passed_fast", "level_now", "peer_not_charger",
	"quiet_share", "log_noise_sq", "log_quiet_min", "level_off",
	"held_x_rise_t", "held_x_fast", "held_x_noise",
}

// scoreW and scoreWLong are the default coefficients (PhysicsParams.ScoreW,
// ScoreWLong: the intercept, then ScoreNames in order), fitted by cw-sim
// fit-score (L2 1) on the first look of the tuning seeds (--seeds tuning
// --days 10) at 1-min and at 5-min readings, each on its own interval's
// rows, dumped with the path off (--set ScoreMin=0 --features FILE;
// docs/detection-history.md, Tuning). The AUC of their rows: 0.912 (1 min) and
// 0.865 (5 min) on that look, 0.905 and 0.856 on the second (--seeds
// 102,103,104,101 --days 10).
var (
	scoreW     = [ScoreFeatures + 1]float64{-4.655, -0.533, 1.575, -0.357, -0.48, -5.431, -1.141, 0.164, -0.557, 5.396, -0.047, 0.143, 0.79, 1.569, -0.987, -0.222, 0.329, -2.032, 0.505, 0.047, 0, 2.749, 2.256, 0.554, 0.539, -0.263, 0.889, -1.979, -0.724, -0.553, -0.247}
	scoreWLong = [ScoreFeatures + 1]float64{-6.715, 0.244, 1.628, 0.01, -0.62, 0, 0, 0.239, -0.629, 6.576, -0.006, 0.137, 0.594, 1.585, -0.492, -1.052, 0.061, -1.201, 0, 0.006, 0, 2.287, 1.049, 0.487, 0.83, -0.27, 0.826, -0.772, -1.554, -0.218, -0.13}
)

// scoreDropW and scoreDropWLong are the default drop-time coefficients
// (PhysicsParams.ScoreDropW, ScoreDropWLong), fitted by cw-sim fit-score
// --min-held 60 on the rows that cw-sim eval --set ScoreTrace=2 --features
// FILE dumps (the features of a step held five minutes or more at the
// reading it would be dropped as fallen or not persistent, with the score
// path on) on the first look of the tuning seeds: at 1-min readings with
// L2 10 (AUC 0.930 on that look, 0.913 on the second), at 5-min readings
// with L2 1 (0.876 and 0.878).
var (
	scoreDropW     = [ScoreFeatures + 1]float64{-6.949, 0.231, 0.531, -0.383, 0.127, -0.774, -0.74, -0.304, -0.747, 0.23, 0.116, 0.876, 0.508, 0.515, -0.231, -0.219, -0.029, -0.223, -0.105, -0.116, 0, 0.074, 0.78, 0.707, 0.359, 0.187, 0.724, -0.78, 0.552, 0.233, -0.175}
	scoreDropWLong = [ScoreFeatures + 1]float64{-8.043, 1.027, 0.226, -0.934, 0.716, 0, 0, -0.097, -0.496, 1.409, -0.099, 0.831, 0.502, 0.531, 0.231, -0.223, -0.143, -0.119, 0, 0.099, 0, -0.019, 1.522, 0.547, 1.322, 0.136, 0.423, -1.522, 0.09, -0.064, -0.098}
)

// scoreEvery: the score is computed at most once per this much of a
// step's life (at reading intervals under it; every reading at longer
// ones). Every 2 minutes found as many sessions on the tuning seeds
// (within ±5 of 953 either way) for twice the cost.
const scoreEvery = 5 * 60000

// scoreDumpHold: with PhysicsParams.ScoreTrace, features are traced from
// this age of a step on (whatever ScoreHold is).
const scoreDumpHold = 5 * 60000

// scoreDue reports whether a step held held ms is scored at this reading:
// once per scoreEvery of its age, at the first reading at or past each
// mark, whatever the spacing of the readings (jitter, a gap under
// max_gap); at readings scoreEvery or more apart, every reading.
func (s *physCore) scoreDue(held int64) bool { return s.everyDue(held, scoreEvery) }

// scoreFeatures fills f with the features of open candidate c, held held
// ms, of relative noise noise since its start, with the power now at now
// (the latest reading, or the one before an edge). Logarithms are of values
// floored so that no feature is infinite; every feature is clipped to a
// few units (a logistic regression's coefficients then stay meaningful).
func (s *physCore) scoreFeatures(c *cand, held int64, noise float64, now float32, f *[ScoreFeatures]float64) {
	pp := s.p
	lvl := max(float64(c.lvl), 1)
	iv := max(float64(s.iv), 1)
	// 0 age, 1 level
	f[0] = flog(max(float64(held)/600000, 0.1))
	f[1] = flog(lvl / 100)
	// 2 noise since the start, 3 recent noise (the last ~7 minutes), both
	// relative to the fast limit (0.8% of the step)
	f[2] = clip(flog(max(noise, 1e-4)/0.008), -4, 5)
	f[3] = clip(flog(max(math.Sqrt(float64(c.rq)/2)/lvl, 1e-4)/0.008), -4, 5)
	// 4, 5 overshoot at the start, when it is known (clean start at
	// intervals up to 90 s)
	if iv <= 90 && c.fl&fClean != 0 {
		f[4] = clip(overshoot(c), -0.5, 1)
	} else {
		f[5] = 1
	}
	// 6-8 rise: relative per hour (×10), its t (÷4), the t when the rise
	// is in the charger's range
	r, t := s.rise(c)
	maxRise := pp.MaxRise
	if s.nv {
		maxRise = pp.VarMaxRise
	}
	f[6] = clip(10*r, -2, 2)
	f[7] = clip(t/4, -3, 5)
	if r >= pp.MinRise && r <= maxRise {
		f[8] = clip(t/4, 0, 5)
	}
	// 9-11 var per watt of the step (active core, with the power factor):
	// known, no charger's, a charger's (0.1-0.4 with correction, 1.0-1.9
	// without)
	if !s.nv && s.nxOK && c.fl&fNA != 0 && c.lvl > 0 {
		f[9] = 1
		q := float64((s.nx - c.wb) / c.lvl)
		if s.notChargerPF(c) {
			f[10] = 1
		}
		if q >= 0.1 && q <= 0.4 || q >= 1.0 && q <= 1.9 {
			f[11] = 1
		}
	}
	// 12-14 the unit's memory of a load of this size
	if k := s.known(c.lvl); k >= 0 {
		m := &s.mem[k]
		f[12] = flog(1 + float64(m.charger))
		f[13] = flog(1 + float64(m.other))
	}
	if s.cyclerLike(c) {
		f[14] = 1
	}
	// 15 how busy the home is: the reading-to-reading sigma over the step
	f[15] = clip(flog(max(float64(s.sigma()), 0.1)/lvl), -6, 2)
	// 16, 17 flags
	if c.fl&(fSplit|fBig) != 0 {
		f[16] = 1
	}
	if c.fl&fPair != 0 {
		f[17] = 1
	}
	// 18 the non-active core, 19 the reading interval
	if s.nv {
		f[18] = 1
	}
	f[19] = flog(iv / 60)
	// 20 passed the fast test and waits (fFast), 21 the power over the
	// reference now, relative to the level
	if c.fl&fFast != 0 {
		f[20] = 1
	}
	f[21] = clip(float64(now-c.ref)/lvl, -1, 3)
	// 22 the active core's memory knows the step's size as no charger
	if s.peer != nil && s.peer.notCharger(c.ws) {
		f[22] = 1
	}
	// 23 the share of its readings that were quiet (no edge, not
	// settling), 24 the noise's square (÷4), 25 how many minutes of quiet
	// readings (whatever the interval)
	f[23] = clip(float64(c.n)*iv*1000/max(float64(held), 1), 0, 1.5)
	f[24] = f[2] * f[2] / 4
	f[25] = flog(1 + float64(c.n)*iv/60)
	// 26 how far the power over the reference now is from the level
	f[26] = math.Abs(f[21] - 1)
	// 27-29 the age times the rise's t in range, the fast mark, the noise
	f[27] = f[0] * f[8]
	f[28] = f[0] * f[20]
	f[29] = f[0] * f[2]
}

func clip(x, lo, hi float64) float64 { return min(max(x, lo), hi) }

// flog is the natural logarithm of x > 0 (a normal number), to about
// 1e-6: the exponent, and the series of atanh for the mantissa in [1, 2).
// A third of math.Log's time; the score needs no more.
func flog(x float64) float64 {
	b := math.Float64bits(x)
	e := float64(int64(b>>52&0x7ff) - 1023)
	m := math.Float64frombits(b&^(0x7ff<<52) | 1023<<52)
	t := (m - 1) / (m + 1)
	t2 := t * t
	return e*math.Ln2 + 2*t*(1+t2*(1.0/3+t2*(1.0/5+t2*(1.0/7+t2*(1.0/9+t2/11)))))
}

// scoreLogit is the score's log-odds for features f at reading interval
// iv s: ScoreW up to 90 s, ScoreWLong over; with ScoreModel 1 (2), the
// forest scoreTreesW (scoreTreesWLong) instead.
func (p *PhysicsParams) scoreLogit(f *[ScoreFeatures]float64, iv float64) float64 {
	if p.scoreTrees(false, iv) {
		return scoreTreesOf(false, iv).Logit(f)
	}
	w := &p.ScoreW
	if iv > 90 {
		w = &p.ScoreWLong
	}
	z := w[0]
	for i, v := range f {
		z += w[i+1] * v
	}
	return z
}

// scored judges an open candidate by its score: it reports whether the
// score path confirms it (PhysicsParams.ScoreMin) and the probability the
// score gives, and traces its features with ScoreTrace. Called by judge
// once the step is settled, in the band and persistent, and not confirmed
// by another path. Before ScoreHold it judges by the early score, and adds
// windows to the running sum from ScoreSeqFrom (charging_early.go).
func (s *physCore) scored(ts int64, i int, held int64, noise float64) (bool, float64) {
	pp := s.p
	dump := pp.ScoreTrace == 1 && pp.Trace != nil
	if !dump && pp.ScoreMin <= 0 {
		return false, 0
	}
	on := pp.ScoreMin > 0 && held >= ms(pp.ScoreHold)
	zEarly := pp.scoreZEarly
	if s.iv > 90 {
		zEarly = pp.scoreZEarlyLong
	}
	// an early threshold of 1 (ScoreEarlyMinLong by default) is off: no score
	early := !on && pp.ScoreMin > 0 && pp.ScoreEarlyMin > 0 && held >= ms(pp.ScoreEarlyHold) && !math.IsInf(zEarly, 1)
	if on && held-int64(s.gap) < ms(pp.ScoreHold) {
		s.earlyDone(i) // the early run's bits are the sequence's from now on
	}
	mark := s.scoreDue(held)
	due := mark
	if !mark && (early && s.earlyDue(held) || on && s.onDue(held)) {
		due, dump = true, false // a look off the marks: not a row of the dump
	}
	pre := !on && s.seqFrom(held)
	if !on && !early && !pre && !(dump && held >= scoreDumpHold) || !due {
		return false, 0
	}
	c := &s.c[i]
	var f [ScoreFeatures]float64
	s.scoreFeatures(c, held, noise, s.prev, &f)
	hl := on && s.heldLongOn(&f, held)                 // the held-long rule judges this window (charging_heldlong.go)
	z := s.scoreCut(&f, i, on || pre, early, dump, hl) // pp.scoreLogit's, or a bound where only its side of the limits matters (charging_score_cut.go)
	if dump {
		s.traceScore(ts, i, &f, z)
	}
	fire := z >= s.windowLimit(early) // NaN never confirms
	if early && !fire && s.earlyPF(i, c, &f, z) {
		fire = true // a lower early score with a charger's evidence (charging_early_pf.go)
	}
	zc := z // the confirmation's log-odds
	if early && !fire {
		fire, zc = s.earlyYoung(&f) // the young steps' forest (charging_early_young.go)
	}
	if on && !fire {
		if ok, zy := s.youngLong(&f, held); ok {
			fire, zc = true, zy // the young steps' 5-min forest (charging_score_young5.go)
		}
	}
	if hl && !fire && z >= pp.HeldLongZ {
		fire, zc = true, z // a step held long at 5 min (charging_heldlong.go); z is exact from HeldLongZ up
	}
	if on && pp.ScoreSeq > 0 && mark {
		fire = s.seqScored(i, z, fire) // the windows as a sequence (charging_seq.go)
	} else if pre && mark {
		s.seqScored(i, z, false) // the window counts; it confirms from ScoreHold on
	}
	if early {
		fire = s.earlyRun(i, fire) && s.earlyGated(&f)
	}
	if !on && !early || !fire {
		return false, 0
	}
	if s.resistive(c, 1<<pathScore) || s.pfSeen(c, 1<<pathScore) {
		return false, 0
	}
	v := int(pp.ScoreVeto)
	if v&1 != 0 && s.splitVetoed(c, 4) || v&2 != 0 && (s.notCharger(c.lvl) || s.notPF(c, 1<<pathScore)) ||
		v&4 != 0 && s.peer != nil && s.peer.notCharger(c.ws) || s.lampMem(c) {
		return false, 0
	}
	return true, 1 / (1 + math.Exp(-zc))
}

// windowLimit is the log-odds a window of the score must reach at this
// reading interval: ScoreMin's (the trees' ScoreTreeMin), or before
// ScoreHold (early) ScoreEarlyMin's; their Long values over 90 s.
func (s *physCore) windowLimit(early bool) float64 {
	pp := s.p
	switch {
	case s.iv > 90 && early:
		return pp.scoreZEarlyLong
	case s.iv > 90:
		return pp.scoreZMinLong
	case early:
		return pp.scoreZEarly
	}
	return pp.scoreZMin
}

// scoredDrop judges by its drop-time score (PhysicsParams.ScoreDropMin) a
// candidate held held ms, of a level in the band, that would be dropped
// as fallen or not persistent: it reports whether the score path confirms
// it (marking it fDrop) and the probability, and traces its features with
// ScoreTrace 2. Drops are rare: it is computed at each.
func (s *physCore) scoredDrop(cfg *ChargingConfig, ts int64, i int, held int64) (bool, float64) {
	pp := s.p
	dump := pp.ScoreTrace == 2 && pp.Trace != nil
	on := pp.ScoreMin > 0 && pp.ScoreDropMin > 0 && held >= ms(pp.ScoreDropHold)
	mem := pp.ScoreMin > 0 && pp.ScoreDropMin > 0 && s.dropMemMay(held) // maybe a known charger's drop (charging_dropmem.go)
	c := &s.c[i]
	if !on && !mem && !(dump && held >= scoreDumpHold) || float64(c.lvl) < cfg.StepMinW || float64(c.lvl) > cfg.StepMaxW*1.05 {
		return false, 0
	}
	var f [ScoreFeatures]float64
	s.scoreFeatures(c, held, s.noise(c), s.prev, &f)
	w, zMin := &pp.ScoreDropW, pp.scoreZDrop
	if s.iv > 90 {
		w, zMin = &pp.ScoreDropWLong, pp.scoreZDropLong
	}
	if !on {
		zMin = math.Inf(1)
	}
	if mem && s.dropMemOn(&f, held) && s.dropMemCalm(&f) {
		on, zMin = true, min(zMin, pp.dropMemZ())
	}
	if !on && !dump {
		return false, 0
	}
	var z float64
	if pp.scoreTrees(true, float64(s.iv)) {
		lo := zMin // under it the drop does not confirm: only its side matters
		if dump || pp.ScoreTreeAll == 1 {
			lo = math.Inf(-1)
		}
		z = scoreTreesOf(true, float64(s.iv)).LogitCut(&f, lo, math.Inf(1))
	} else {
		z = w[0]
		for k, v := range f {
			z += w[k+1] * v
		}
	}
	if dump {
		s.traceScore(ts, i, &f, z)
	}
	if !on || !(z >= zMin) || float64(s.prev-c.ref) < pp.ScoreDropLeft*float64(c.lvl) || s.dropFlat(c) { // NaN never confirms
		return false, 0
	}
	c.fl |= fDrop
	return true, 1 / (1 + math.Exp(-z))
}

// scoreLimits sets the log-odds the score must reach (from ScoreMin and
// ScoreMinLong, or with ScoreModel the trees' ScoreTreeMin and the like),
// once, when the model is made.
func (p *PhysicsParams) scoreLimits() {
	logit := func(q float64) float64 {
		if q <= 0 || q >= 1 {
			return math.Inf(1)
		}
		return math.Log(q / (1 - q))
	}
	pair := func(q, long float64) (float64, float64) {
		z := logit(q)
		if long > 0 {
			return z, logit(long)
		}
		return z, z
	}
	p.scoreZMin, p.scoreZMinLong = pair(p.ScoreMin, p.ScoreMinLong)
	p.scoreZEarly, p.scoreZEarlyLong = pair(p.ScoreEarlyMin, p.ScoreEarlyMinLong)
	p.scoreZDrop, p.scoreZDropLong = pair(p.ScoreDropMin, p.ScoreDropMinLong)
	p.scoreZEarlyPF = logit(p.ScoreEarlyMinPF)
	p.scoreZEarlyYoung = logit(p.ScoreEarlyMinYoung)
	p.scoreZYoungLong = logit(p.ScoreYoungMinLong)
	p.scoreZVeto = logit(p.ScoreVetoMin) // 1 or more: every attempt vetoed
	p.scoreZVetoLong = p.scoreZVeto
	// the trees' thresholds (ScoreModel), interval class by interval
	// class: ScoreMin, ScoreDropMin and ScoreVetoMin still turn their
	// parts on and off, and a ScoreMin (ScoreMinLong) of 1 still means
	// that no single window confirms (a sequence alone, ScoreSeq)
	tMin, tMinLong := pair(p.ScoreTreeMin, p.ScoreTreeMinLong)
	tDrop, tDropLong := pair(p.ScoreTreeDropMin, p.ScoreTreeDropMinLong)
	if p.scoreTrees(false, 60) {
		p.scoreZVeto = logit(p.ScoreTreeVetoMin)
		if !math.IsInf(p.scoreZMin, 1) {
			p.scoreZMin = tMin
		}
	}
	if p.scoreTrees(false, 300) {
		p.scoreZVetoLong = logit(p.ScoreTreeVetoMin)
		if !math.IsInf(p.scoreZMinLong, 1) {
			p.scoreZMinLong = tMinLong
		}
	}
	if p.scoreTrees(true, 60) {
		p.scoreZDrop = tDrop
	}
	if p.scoreTrees(true, 300) {
		p.scoreZDropLong = tDropLong
	}
}

// scoreTrees reports whether ScoreModel makes the confirmation score (drop
// false) or the drop-time score at reading interval iv s the trees'.
func (p *PhysicsParams) scoreTrees(drop bool, iv float64) bool {
	bit := 1
	if iv > 90 {
		bit = 2
	}
	if drop {
		bit <<= 2
	}
	return int(p.ScoreModel)&bit != 0
}

// scoreVetoed reports whether the score vetoes confirming candidate i by
// path (PhysicsParams.ScoreVetoMin, ScoreVetoPaths): computed at the
// attempt, whatever scoreDue says (attempts are rare).
func (s *physCore) scoreVetoed(ts int64, i int, path uint8) bool {
	pp := s.p
	if pp.ScoreVetoMin <= 0 || path == pathScore || int(pp.ScoreVetoPaths)&(1<<path) == 0 {
		return false
	}
	c := &s.c[i]
	if c.state() != cOpen || c.lvl <= 0 {
		return false
	}
	zv := pp.scoreZVeto
	if s.iv > 90 {
		zv = pp.scoreZVetoLong
	}
	return !s.scoreAtLeast(c, ts, s.prev, zv) // NaN is vetoed
}

// scoreNow returns the confirmation score's log-odds (ScoreModel's) of
// open candidate c at the reading at ts, the power then being p (the
// power before an edge, to judge a step as it stood before it).
func (s *physCore) scoreNow(c *cand, ts int64, p float32) float64 {
	var f [ScoreFeatures]float64
	s.scoreFeatures(c, ts-c.t0, s.noise(c), p, &f)
	return s.p.scoreLogit(&f, float64(s.iv))
}

// traceScore reports a candidate's score features (event "score"; Score is
// the log-odds with the parameters' coefficients).
func (s *physCore) traceScore(ts int64, i int, f *[ScoreFeatures]float64, z float64) {
	c := &s.c[i]
	tr := ChargingTrace{TS: ts, Event: "score", Start: c.t0, StepW: float64(c.step), LevelW: float64(c.lvl), RefW: float64(c.ref),
		Held: time.Duration(ts-c.t0) * time.Millisecond, N: int(c.n), Var: s.nv, Score: z}
	for k, v := range f {
		tr.Feat[k] = float32(v)
	}
	s.p.Trace(&tr)
}
