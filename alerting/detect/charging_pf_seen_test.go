package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsPFSeenTV: a television's step (120 W, 0.7 var per watt: no
// charger's) comes on at 1 h over a 40 W base; 12 minutes later a small
// load (40 W, under the band: it opens no step) with 84 var comes on under
// it, so from then on the step reads 1.4 var per watt, a charger's without
// correction. Without PFSeen the fast path confirms it at 20 minutes; with
// PFSeen on the fast path (PFSeenPaths 2) the step read no charger's var
// per watt soon after it settled (xPF) and the fast path does not confirm
// it: the score does, later, unless PFSeenPaths holds it too (512). The
// mark is not taken with PFSeenMinIv over the interval. Without the small
// load it is not confirmed either way (notChargerPF reads it now).
func TestPhysicsPFSeenTV(t *testing.T) {
	bg, tv := base(40), box(hr, 4*hr, 120, 0.002)
	fired := []string{"1h20m0s started", "4h0m0s ended"}
	scored := []string{"1h35m0s started", "4h0m0s ended"}
	for _, c := range []struct {
		name      string
		seen      float64
		paths     float64
		minIv     float64
		other     bool
		want      []string
		wantFires []string
	}{
		{"off, the load comes on", 0, 14, 0, true, fired, []string{"fire fast"}},
		{"PFSeen 300, the load comes on", 300, 14, 0, true, scored, []string{"fire score"}},
		{"PFSeen 60, the load comes on", 60, 2, 0, true, scored, []string{"fire score"}},
		{"PFSeen 300, the score too", 300, 14 | 512, 0, true, nil, nil},
		{"PFSeen 300, not on the fast path", 300, 12, 0, true, fired, []string{"fire fast"}},
		{"PFSeen 300, from 5 min only", 300, 14, 300, true, fired, []string{"fire fast"}},
		{"off, alone", 0, 14, 0, false, nil, nil},
		{"PFSeen 300, alone", 300, 14, 0, false, nil, nil},
	} {
		fr := func(float64) float64 { return 0 }
		if c.other {
			fr = box(hr+12*60, 4*hr, 40, 0.002)
		}
		w := sumW(bg, tv, fr)
		na := func(s float64) float64 { return 0.5*bg(s) + 0.7*tv(s) + 2.1*fr(s) }
		p := DefaultPhysicsParams()
		p.PFSeen, p.PFSeenMode, p.PFSeenPaths, p.PFSeenMinIv = c.seen, 1, c.paths, c.minIv
		sigs, fires := naRun(p, 60, 5*hr, w, na)
		if !slices.Equal(sigs, c.want) || !slices.Equal(fires, c.wantFires) {
			t.Errorf("%s: %q by %q, want %q by %q", c.name, sigs, fires, c.want, c.wantFires)
		}
	}
}

// TestPhysicsPFSeenMark: pfMark marks (xPF) an open, settled step of the
// active core (level 150 W, 300 var before it, settled at 4 min) on a
// reading whose var per watt is no charger's (between FastRatioLo 0.4 and
// FastRatioHi 1.0: 360-450 var; over FastRatioMax 2.2: 630 var) within
// PFSeen s of its settling; not a reading of a charger's var per watt
// (with correction 0.2, without 1.4), nor a resistive one, nor outside
// the window, nor with PFSeen 0; PFSeenMode 1 asks the reading before to
// read so too, 2 a reading without an edge. PFSeenMinIv and PFSeenMaxIv
// bound the interval. It keeps notChargerPF's guards: not on the var
// core, not without the non-active power before the step or now.
func TestPhysicsPFSeenMark(t *testing.T) {
	const at = int64(5 * 60 * 1000) // the step's first settled reading at 1 min
	runMarkCases(t, []markCase{
		{"off", 0, 0, 405, 405, at, false, nil, false},
		{"0.7, first settled reading", 60, 0, 405, 405, at, false, nil, true},
		{"over FastRatioMax (2.5)", 60, 0, 675, 675, at, false, nil, true},
		{"a charger with correction (0.2)", 60, 0, 330, 330, at, false, nil, false},
		{"a charger without (1.4)", 60, 0, 510, 510, at, false, nil, false},
		{"resistive", 60, 0, 300, 300, at, false, nil, false},
		{"after the window", 60, 0, 405, 405, at + 60*1000, false, nil, false},
		{"within a 300-s window", 300, 0, 405, 405, at + 4*60*1000, false, nil, true},
		{"after a 300-s window", 300, 0, 405, 405, at + 6*60*1000, false, nil, false},
		{"not settled (level 0)", 60, 0, 405, 405, 3 * 60 * 1000, false, func(s *physCore, c *cand) { c.lvl = 0 }, false},
		{"still settling, its level measured early (another step came on)", 60, 0, 405, 405, 3 * 60 * 1000, false, nil, false},
		{"the last reading of its settling", 60, 0, 405, 405, 4 * 60 * 1000, false, nil, false},
		{"mode 1, the reading before a charger's", 60, 1, 405, 510, at, false, nil, false},
		{"mode 1, the reading before no charger's", 60, 1, 405, 420, at, false, nil, true},
		{"mode 1, no reading before", 60, 1, 405, -1, at, false, nil, false},
		{"FastRatioHi 0 (the verdict off), over FastRatioMax", 60, 0, 675, 675, at, false, func(s *physCore, c *cand) { s.p.FastRatioHi = 0 }, false},
		{"mode 0, the reading before a charger's", 60, 0, 405, 510, at, false, nil, true},
		{"mode 2, an edge", 60, 2, 405, 405, at, true, nil, false},
		{"mode 2, no edge", 60, 2, 405, 405, at, false, nil, true},
		{"mode 0, an edge", 60, 0, 405, 405, at, true, nil, true},
		{"PFSeenMaxIv 90, 5-min readings", 600, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.iv = 300; s.p.PFSeenMaxIv = 90 }, false},
		{"PFSeenMaxIv 90, 1-min readings", 600, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.p.PFSeenMaxIv = 90 }, true},
		{"PFSeenMinIv 60, 10-s readings", 60, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.iv = 10; s.p.PFSeenMinIv = 60 }, false},
		{"PFSeenMinIv 60, 1-min readings", 60, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.p.PFSeenMinIv = 60 }, true},
		{"5-min readings, no bound", 600, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.iv = 300 }, true},
		{"the var core", 60, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.nv = true }, false},
		{"no non-active power now", 60, 0, 405, 405, at, false, func(s *physCore, c *cand) { s.nxOK = false }, false},
		{"none before the step (fNA)", 60, 0, 405, 405, at, false, func(s *physCore, c *cand) { c.fl = 0 }, false},
	}, xPF, func(p *PhysicsParams, c markCase) {
		p.PFSeen, p.PFSeenMode, p.PFSeenMinIv, p.PFSeenMaxIv = c.seen, c.mode, 0, 0
	}, (*physCore).pfMark)
}

// TestPhysicsPFSeenPaths: a step marked xPF reads no charger's var per
// watt (notPF) for the places PFSeenPaths holds whatever its var per watt
// now (a charger's 1.4 here), with PFSeen on; with it off the mark says
// nothing; a step not marked is read now. The fast test reads the fast
// path's bit for an unknown step, the known charger's and the cycler's
// for a known one. A confirmed charge drops the mark (read only while a
// step is open), so its checkpoint needs no version 9 for it.
func TestPhysicsPFSeenPaths(t *testing.T) {
	for _, c := range []struct {
		name  string
		seen  float64
		paths float64
		x     uint8
		mask  int
		want  bool
	}{
		{"marked, fast", 60, 14, xPF, 1 << pathFast, true},
		{"marked, known charger", 60, 14, xPF, pfFastMask(0), true},
		{"marked, unknown, fast only", 60, 2, xPF, pfFastMask(-1), true},
		{"marked, known, fast only", 60, 2, xPF, pfFastMask(0), false},
		{"marked, rise (not in PFSeenPaths)", 60, 14, xPF, 1 << pathRise, false},
		{"marked, the pair keep", 60, pfSeenPair, xPF, pfSeenPair, true},
		{"marked, known, cycler only", 60, 8, xPF, pfFastMask(0), true},
		{"marked, unknown, cycler only", 60, 8, xPF, pfFastMask(-1), false},
		{"marked, PFSeen 0", 0, 14, xPF, 1 << pathFast, false},
		{"not marked", 60, 14, 0, 1 << pathFast, false},
	} {
		p := DefaultPhysicsParams()
		p.PFSeen, p.PFSeenPaths = c.seen, c.paths
		s := &physCore{p: &p, iv: 60, nx: 510, nxp: 510, nxOK: true}
		s.c[0] = cand{t0: t0, lvl: 150, wb: 300, sf: cOpen | c.x, fl: fNA}
		if got := s.notPF(&s.c[0], c.mask); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	p := DefaultPhysicsParams()
	p.PFSeen, p.PFSeenPaths = 60, 14
	s := &physCore{p: &p, iv: 60, nx: 405, nxp: 405, nxOK: true}
	s.c[0] = cand{t0: t0, lvl: 150, wb: 300, sf: cOpen, fl: fNA}
	if !s.notPF(&s.c[0], 1<<pathRise) {
		t.Errorf("not marked, 0.7 now: notPF false, want true")
	}
	// the delayed fast path (fFast at FastNewHold) reads the mark too
	for _, c := range []struct {
		name  string
		paths float64
		x     uint8
		want  bool
	}{
		{"fast mark, marked", 14, xPF, true},
		{"fast mark, marked, not on the fast path", 12, xPF, false},
		{"fast mark, not marked", 14, 0, false},
	} {
		p := DefaultPhysicsParams()
		p.PFSeen, p.PFSeenPaths = 60, c.paths
		s := &physCore{p: &p, iv: 60, nx: 510, nxp: 510, nxOK: true}
		s.c[0] = cand{t0: t0, lvl: 150, wb: 300, sf: cOpen | c.x, fl: fNA | fFast}
		if got := s.fastNewRecheck(&s.c[0]); got != c.want {
			t.Errorf("%s: fastNewRecheck %v, want %v", c.name, got, c.want)
		}
	}
	s = &physCore{p: &p, iv: 60, na: 1, base: 100, last: t0, prev: 450}
	s.c[0] = cand{t0: t0 - 3600*1000, ref: 295, pre: 300, step: 150, lvl: 150, sf: cOpen | xPF, fl: fNA, wb: 300}
	if ch := s.fire(t0, 0, pathRise); ch != ChargeStarted {
		t.Fatalf("fire: %v, want started", ch)
	}
	if s.c[0].sf != cCharge {
		t.Errorf("confirmed: sf %#x, want a charge without xPF %#x", s.c[0].sf, cCharge)
	}
}

// TestPhysicsPFSeenDefault pins the default: PFSeen 300 with PFSeenMode
// 1 on the fast test's paths (PFSeenPaths 14: fast, fast known charger,
// cycler) at 60-90 s only (round 29d: a step that read no charger's var
// per watt on two readings in a row within 5 minutes of its settling;
// wide pool at 1 min -4/-10, confirmation cities -1/-14; it lost at
// 5 min; inert at 5 min and 10 s: L1 700/11, L2 704/5 unchanged).
func TestPhysicsPFSeenDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.PFSeen != 300 || p.PFSeenMode != 1 || p.PFSeenPaths != 14 || p.PFSeenMinIv != 45 || p.PFSeenMaxIv != 90 {
		t.Errorf("PFSeen %v, PFSeenMode %v, PFSeenPaths %v, PFSeenMinIv %v, PFSeenMaxIv %v; want 300, 1, 14, 45, 90",
			p.PFSeen, p.PFSeenMode, p.PFSeenPaths, p.PFSeenMinIv, p.PFSeenMaxIv)
	}
}

// TestPhysicsPFSeenSites: the places PFSeenPaths holds besides the fast
// test read the mark (review of round 29: a mutation that read
// notChargerPF alone there passed the suite, their bits being off by
// default): the held band, the taper paths, the 5-min taper's watch.
// Each case is a step that place takes unmarked; marked, it does not
// when PFSeenPaths holds the place, and does when it holds only the fast
// test's.
func TestPhysicsPFSeenSites(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	const mn = 60 * 1000
	band := func(x uint8, paths float64) bool {
		ts := int64(10 * 3600 * 1000)
		p := DefaultPhysicsParams()
		p.BandEnv, p.BandEnvK, p.BandMinLong, p.BandMin, p.BandHoldLong = 0.03, 2, 0, 0, 2*time.Hour
		p.PFSeen, p.PFSeenPaths = 300, paths
		p.scoreLimits()
		p.seqLimits()
		s := &physCore{p: &p, iv: 300, na: 1, base: 380, last: ts, prev: 510, gap: 5 * mn}
		for i := range s.blk {
			s.blk[i] = 504
		}
		s.c[0] = cand{t0: ts - 120*mn, ref: 395, pre: 400, step: 100, lvl: 100, sf: cOpen | x, n: 20, sd2: 20 * 4, rq: 4,
			sxx: 100, sxy: 10, ws: 105}
		return s.banded(&cfg, ts, &s.c[0], 120*mn)
	}
	taper := func(x uint8, paths float64) bool {
		p := DefaultPhysicsParams()
		p.PFSeen, p.PFSeenPaths = 300, paths
		s := physCore{p: &p, iv: 60}
		cd := cand{t0: 0, low: 1, ref: 40, lvl: 100, step: 100, sf: cOpen | x, tb: 4, n: 10, sd2: 2}
		return s.tapered(&cfg, 2*3600*1000, &cd) == pathTaper
	}
	taper5 := func(x uint8, paths float64) bool {
		p := DefaultPhysicsParams()
		p.Taper5N, p.PFSeen, p.PFSeenPaths = 3, 300, paths
		s := physCore{p: &p, iv: 300, prev: 70}
		s.c[0] = cand{t0: 1, ref: 30, lvl: 100, step: 100, sf: cOpen | x}
		return s.taper5Watch(&cfg, 2*3600*1000+1, 0)
	}
	for _, c := range []struct {
		name  string
		place func(x uint8, paths float64) bool
		bits  float64
	}{
		{"held band", band, 1 << pathBand},
		{"taper", taper, 1<<pathTaper | 1<<pathTaperFall},
		{"5-min taper's watch", taper5, pfSeenTaper5},
	} {
		if !c.place(0, c.bits) {
			t.Errorf("%s: unmarked, not taken", c.name)
		}
		if c.place(xPF, c.bits) {
			t.Errorf("%s: marked, taken with PFSeenPaths %v", c.name, c.bits)
		}
		if !c.place(xPF, 14) {
			t.Errorf("%s: marked, PFSeenPaths 14: not taken", c.name)
		}
	}
}
