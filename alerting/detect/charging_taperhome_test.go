package detect

import "testing"

// TestPhysicsTaperHomePFDefaults pins round 36's defaults: TaperHomePF
// 0.5 (passed the wide pool and cities 609-640), its floor on the interval 150 s
// (5 min; the interval is an average of the gaps, so the floor sits off
// the nominal 300 s).
func TestPhysicsTaperHomePFDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.TaperHomePF != 0.5 || p.TaperHomePFMinIv != 150 {
		t.Fatalf("TaperHomePF %v, TaperHomePFMinIv %v; want 0.5, 150", p.TaperHomePF, p.TaperHomePFMinIv)
	}
}

// TestPhysicsTaperHomePF: in the active core, at intervals over
// TaperHomePFMinIv, with the non-active power known, a home drawing under
// TaperHomePF var per watt refuses the taper paths; never in the
// non-active core, without the non-active power, at 1 min, or off.
func TestPhysicsTaperHomePF(t *testing.T) {
	for _, c := range []struct {
		name  string
		lim   float64
		nv    bool
		nxOK  bool
		iv    float32
		nx    float32 // var with 200 W on
		wantR bool
	}{
		{"5 min, 0.4 var per watt", 0.5, false, true, 300, 80, true},
		{"5 min, 0.5 var per watt", 0.5, false, true, 300, 100, false},
		{"5 min, 1.2 var per watt", 0.5, false, true, 300, 240, false},
		{"5 min, no var in the readings", 0.5, false, false, 300, 0, false},
		{"5 min, the non-active core", 0.5, true, true, 300, 80, false},
		{"5 min, off", 0, false, true, 300, 80, false},
		{"1 min", 0.5, false, true, 60, 80, false},
		{"at the floor", 0.5, false, true, 150, 80, false},
		{"a 5-min meter whose gaps jitter", 0.5, false, true, 290, 80, true},
	} {
		p := DefaultPhysicsParams()
		p.TaperHomePF = c.lim
		s := physCore{p: &p, iv: c.iv, prev: 200, nx: c.nx, nxOK: c.nxOK, nv: c.nv}
		if got := s.taperHomePF(); got != c.wantR {
			t.Errorf("%s: refused %v, want %v", c.name, got, c.wantR)
		}
	}
}

// TestPhysicsTaperHomePFFire: fire refuses a taper path (both) when the
// home reads resistive, no other path; a refused step stays open.
func TestPhysicsTaperHomePFFire(t *testing.T) {
	for _, c := range []struct {
		name string
		path uint8
		nx   float32
		want ChargeChange
	}{
		{"taper, declined, resistive home", pathTaperFall, 80, ChargeNone},
		{"taper, resistive home", pathTaper, 80, ChargeNone},
		{"taper, declined, a charger's home", pathTaperFall, 240, ChargeStarted},
		{"score, resistive home", pathScore, 80, ChargeStarted},
		// the other paths are not the rule's either
		{"fast, resistive home", pathFast, 80, ChargeStarted},
		{"fast, known charger, resistive home", pathKnown, 80, ChargeStarted},
		{"outlasted a cycler, resistive home", pathCycler, 80, ChargeStarted},
		{"rise, resistive home", pathRise, 80, ChargeStarted},
		{"quiet later, resistive home", pathQuiet, 80, ChargeStarted},
		{"known charger, resistive home", pathKnownHeld, 80, ChargeStarted},
		{"held in band, resistive home", pathBand, 80, ChargeStarted},
	} {
		p := DefaultPhysicsParams()
		p.TaperHomePF = 0.5
		// the score's veto judges the fast, rise and known paths at 5 min
		// (and this bare step has no score): the rule alone is tested
		p.ScoreVetoMin = 0
		s := physCore{p: &p, iv: 300, prev: 200, nx: c.nx, nxOK: true}
		s.c[0] = cand{t0: 1, ref: 40, lvl: 150, step: 150, sf: cOpen}
		if got := s.fire(2*hr*1000, 0, c.path); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if want := map[ChargeChange]uint8{ChargeNone: cOpen, ChargeStarted: cCharge}[c.want]; s.c[0].state() != want {
			t.Errorf("%s: state %d, want %d", c.name, s.c[0].state(), want)
		}
	}
}
