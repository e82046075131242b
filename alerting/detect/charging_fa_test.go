package detect

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPhysicsRiseTGrow: the rise's threshold grows with the time held past
// SlowHold (or RiseTGrowFrom) by RiseTGrow at 30-90 s readings and
// RiseTGrowLong over 90 s, in the detectors RiseTGrowCores says; by
// default at 1 min in the active power's detector from an hour held.
func TestPhysicsRiseTGrow(t *testing.T) {
	mn := int64(60000)
	cases := []struct {
		name string
		set  func(p *PhysicsParams)
		iv   float32
		nv   bool
		held int64
		want float64
	}{
		{"default: the active power's detector, from an hour", func(p *PhysicsParams) {
			p.RiseTGrow, p.RiseTGrowFrom, p.RiseTGrowCores = 0.1, time.Hour, 1
		}, 60, false, 60 * mn * 1024, 3.75 * 2},
		{"default: not the var detector", func(p *PhysicsParams) { p.RiseTGrow, p.RiseTGrowFrom, p.RiseTGrowCores = 0.1, time.Hour, 1 }, 60, true, 160 * mn, 3.75},
		{"off", func(p *PhysicsParams) { p.RiseTGrow = 0 }, 60, false, 160 * mn, 3.75},
		{"at SlowHold: RiseT", func(p *PhysicsParams) { p.RiseTGrow = 0.5 }, 60, false, 40 * mn, 3.75},
		{"four times SlowHold: RiseT·4^0.5", func(p *PhysicsParams) { p.RiseTGrow = 0.5 }, 60, false, 160 * mn, 7.5},
		{"the var detector too", func(p *PhysicsParams) { p.RiseTGrow = 0.5 }, 60, true, 160 * mn, 7.5},
		{"not in the var detector (RiseTGrowCores 1)", func(p *PhysicsParams) { p.RiseTGrow, p.RiseTGrowCores = 0.5, 1 }, 60, true, 160 * mn, 3.75},
		{"not at 10 s (RiseTGrowMinIv)", func(p *PhysicsParams) { p.RiseTGrow = 0.5 }, 10, false, 160 * mn, 3.75},
		{"at 5 min only by RiseTGrowLong", func(p *PhysicsParams) { p.RiseTGrow = 0.5 }, 300, false, 160 * mn, 3.75},
		{"RiseTGrowLong at 5 min", func(p *PhysicsParams) { p.RiseTGrowLong = 0.5 }, 300, false, 160 * mn, 7.5},
		{"from RiseTGrowFrom", func(p *PhysicsParams) { p.RiseTGrow, p.RiseTGrowFrom = 0.5, 80*time.Minute }, 60, false, 320 * mn, 7.5},
		{"before RiseTGrowFrom: RiseT", func(p *PhysicsParams) { p.RiseTGrow, p.RiseTGrowFrom = 0.5, 80*time.Minute }, 60, false, 70 * mn, 3.75},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		// the cases start from the threshold growing from SlowHold in
		// both detectors, at 1 min only, and set what they test
		p.RiseTGrow, p.RiseTGrowLong, p.RiseTGrowFrom, p.RiseTGrowCores = 0, 0, 0, 3
		c.set(&p)
		s := physCore{p: &p, iv: c.iv, nv: c.nv}
		if got := s.riseT(c.held); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%s: threshold %g, want %g", c.name, got, c.want)
		}
	}
}

// TestPhysicsPeakVeto: a step that began with a compressor's start-up peak
// is not confirmed by the paths PeakVeto names, when the peak is known
// (clean, at most 90-s readings) and the step was not split.
func TestPhysicsPeakVeto(t *testing.T) {
	cases := []struct {
		name      string
		veto, min float64
		iv        float32
		step, lvl float32
		fl        uint8
		path      uint8
		want      bool
	}{
		{"off by default", 0, 0, 60, 160, 100, fClean, pathRise, false},
		{"a compressor's peak: vetoed", 16, 0, 60, 160, 100, fClean, pathRise, true},
		{"no peak (a charger)", 16, 0, 60, 102, 100, fClean, pathRise, false},
		{"another path", 16, 0, 60, 160, 100, fClean, pathKnownHeld, false},
		{"known charger held too (64)", 16 | 64, 0, 60, 160, 100, fClean, pathKnownHeld, true},
		{"not clean: the peak is not known", 16, 0, 60, 160, 100, 0, pathRise, false},
		{"split: its first reading held the other load", 16, 0, 60, 160, 100, fClean | fSplit, pathRise, false},
		{"at 5 min the peak is not read", 16, 0, 300, 160, 100, fClean, pathRise, false},
		{"under PeakVetoMin", 16, 0.7, 60, 160, 100, fClean, pathRise, false},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		p.PeakVeto, p.PeakVetoMin = c.veto, c.min
		s := physCore{p: &p, iv: c.iv}
		cd := cand{step: c.step, lvl: c.lvl, fl: c.fl, sf: cOpen}
		if got := s.peakVetoed(&cd, c.path); got != c.want {
			t.Errorf("%s: vetoed %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPhysicsRiseTeaches: what a rise must also show to teach the memory a
// charger (MemVerdict): every rise teaches by default.
func TestPhysicsRiseTeaches(t *testing.T) {
	cases := []struct {
		name    string
		verdict float64
		nv      bool
		r, t    float64
		run     float32
		want    bool
	}{
		{"by default a steep short rise teaches", 0, false, 0.5, 2.5, 15, true},
		{"bit 1: steeper than MaxRise does not", 1, false, 0.5, 2.5, 90, false},
		{"bit 1: within MaxRise does", 1, false, 0.03, 2.5, 90, true},
		{"bit 1: var, over VarMaxRise", 1, true, 0.07, 2.5, 90, false},
		{"bit 2: a run under SlowHold does not", 2, false, 0.03, 2.5, 15, false},
		{"bit 4: t under MemVerdictT does not", 4, false, 0.03, 2.5, 90, false},
		{"bit 4: t over MemVerdictT does", 4, false, 0.03, 3.5, 90, true},
	}
	for _, c := range cases {
		p := DefaultPhysicsParams()
		p.MemVerdict = c.verdict
		s := physCore{p: &p, nv: c.nv}
		if got := s.riseTeaches(c.r, c.t, c.run); got != c.want {
			t.Errorf("%s: teaches %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPhysicsFAVetoesSeries: on short series, a charge confirmed by its
// rise over a noisy base is still confirmed with the threshold growing
// (the default; its t keeps growing with its hold), no earlier; and the peak veto does
// not touch a charge that starts under fridge cycles (a charger has no
// start-up peak).
func TestPhysicsFAVetoesSeries(t *testing.T) {
	noisy := sumW(base(150), charge(2*hr, 3, 30, 7, 110))
	p0 := DefaultPhysicsParams()
	p0.RiseTGrow = 0
	def := physRun(t, p0, 60, 12*hr, noisy)
	p := DefaultPhysicsParams()
	got := physRun(t, p, 60, 12*hr, noisy)
	if len(def) != 2 || len(got) != 2 {
		t.Fatalf("default %v, growing threshold %v: want a fire and a clear each", def, got)
	}
	at := func(sig string) time.Duration {
		d, err := time.ParseDuration(strings.Fields(sig)[0])
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if at(got[0]) < at(def[0]) || at(got[0]) > at(def[0])+30*time.Minute {
		t.Errorf("growing threshold fired %s, default %s: want the same or up to 30 min later", got[0], def[0])
	}
	t.Logf("default %v, growing threshold %v", def, got)
	underFridge := sumW(base(40), cycler(110, 18, 30), charge(2*hr+7*60, 3, 30, 6, 106))
	q := DefaultPhysicsParams()
	q.PeakVeto = 2 | 4 | 8 | 16 | 64
	if a, b := physRun(t, DefaultPhysicsParams(), 60, 12*hr, underFridge), physRun(t, q, 60, 12*hr, underFridge); !slices.Equal(a, b) {
		t.Errorf("peak veto changed a charge under fridge cycles: %v, default %v", b, a)
	}
}
