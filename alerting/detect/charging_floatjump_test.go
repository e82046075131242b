package detect

import (
	"math"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// evenings feeds a unit's 1-min readings for days evenings: a 60 W base, an
// 80 W fridge, and a load plugged in at 19:00 and switched off after 3.5
// hours: a charger on its plateau (rising: charge's 2% an hour, about
// 135 W) or a flat 130 W load (a lamp, or a charger whose plateau does not
// rise); masked (every every-th evening): in the reading it goes off a
// 100 W load comes on (for 30 minutes), so its down-edge is not seen and
// the charge ends in its "float" when that load goes off, in one reading
// from 0.77 of its level. It returns the minutes to detect of each evening
// (-1: not detected) and the active core's memory slot of 130 W.
func evenings(p PhysicsParams, days int, masked, rising bool, every int) ([]int, sig) {
	cfg := Defaults(devices.KindMeter).Charging
	ch := NewPhysicsModel(p).New().(*physCharging)
	var loads []func(float64) float64
	loads = append(loads, base(60), cycler(80, 18, 30))
	for d := range days {
		a := float64(d)*24*hr + 19*hr
		if rising {
			loads = append(loads, charge(a, 5, 30, 3.5, 140))
		} else {
			loads = append(loads, box(a, a+3.5*hr, 130, 0.004))
		}
		if masked && d%every == 0 {
			loads = append(loads, box(a+3.5*hr, a+4*hr, 100, 0.01))
		}
	}
	w := sumW(loads...)
	ttd := make([]int, days)
	for d := range ttd {
		ttd[d] = -1
	}
	for s := 0.0; s < float64(days)*24*hr; s += 60 {
		if ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: math.Round(w(s)*10) / 10}) == ChargeStarted {
			d := int(s / (24 * hr))
			if m := int((s - float64(d)*24*hr - 19*hr) / 60); m >= 0 && ttd[d] < 0 {
				ttd[d] = m
			}
		}
	}
	var m sig
	if k := ch.pc.known(130); k >= 0 {
		m = ch.pc.mem[k]
	}
	return ttd, m
}

// TestPhysicsFloatJumpDefault pins FloatJump and FloatTaper off (0).
func TestPhysicsFloatJumpDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.FloatJump != 0 || p.FloatTaper != 0 {
		t.Fatalf("FloatJump %v, FloatTaper %v; want 0, 0", p.FloatJump, p.FloatTaper)
	}
}

// TestPhysicsFloatEnd: what a confirmed 100 W charge (reference 30 W, end
// level 20 W over it) that ends in its float teaches the memory, fed the
// readings pw (each a minute apart, then 35 W until it ends): a charger
// (the taper, as always with both off), unless FloatTaper is on and no
// reading while confirmed was between its end level and FloatTaper of its
// level, or FloatJump is on and the reading before the first under its
// end level was FloatJump of its level or more over its reference, at
// readings of 30 to 90 s: then a charger only if its rise says so
// (verdict), nothing otherwise, never "not a charger".
func TestPhysicsFloatEnd(t *testing.T) {
	const mn = 60 * 1000
	flat, rising := [2]float32{1, 0.5}, [2]float32{100, 300} // rise 0.5%/h t 0.5; 3%/h t 30
	for _, c := range []struct {
		name   string
		jump   float64
		taper  float64
		iv     float32
		run    int64      // minutes from the step's start to the first reading of pw
		rise   [2]float32 // sxx, sxy
		gap    bool       // the first reading under the end level comes after a gap
		pw     []float32
		learnt int // 1 charger, 0 nothing
	}{
		{"off: from its plateau in one reading", 0, 0, 60, 200, flat, false, []float32{130, 130}, 1},
		{"off: a taper", 0, 0, 60, 200, flat, false, []float32{130, 110, 90, 70, 55, 45}, 1},
		{"taper 0.7: from its plateau in one reading", 0, 0.7, 60, 200, flat, false, []float32{130, 130}, 0},
		{"taper 0.7: a taper", 0, 0.7, 60, 200, flat, false, []float32{130, 110, 90, 70, 55, 45}, 1},
		{"taper 0.7: one reading at 0.65 of its level", 0, 0.7, 60, 200, flat, false, []float32{130, 95, 130}, 1},
		{"taper 0.7: one reading at 0.7 of its level", 0, 0.7, 60, 200, flat, false, []float32{130, 100}, 0},
		{"taper 0.7: one reading at 0.75 of its level", 0, 0.7, 60, 200, flat, false, []float32{130, 105}, 0},
		{"taper 0.7: one reading just under its end level is no taper", 0, 0.7, 60, 200, flat, false, []float32{130, 49, 130}, 0},
		{"taper 0.7: at its end level exactly", 0, 0.7, 60, 200, flat, false, []float32{130, 50, 130}, 1},
		{"taper 0.7: under an hour (verdict: not a charger): nothing", 0, 0.7, 60, 30, flat, false, []float32{130, 130}, 0},
		{"taper 0.7: its plateau rose: a charger", 0, 0.7, 60, 200, rising, false, []float32{130, 130}, 1},
		{"taper 0.7: at 30 s", 0, 0.7, 30, 200, flat, false, []float32{130, 130}, 0},
		{"taper 0.7: at 90 s", 0, 0.7, 90, 200, flat, false, []float32{130, 130}, 0},
		{"taper 0.7: at 29 s", 0, 0.7, 29, 200, flat, false, []float32{130, 130}, 1},
		{"taper 0.7: at 91 s", 0, 0.7, 91, 200, flat, false, []float32{130, 130}, 1},
		{"taper 0.7: at 5 min", 0, 0.7, 300, 200, flat, false, []float32{130, 130}, 1},
		{"jump 0.85: from its plateau in one reading", 0.85, 0, 60, 200, flat, false, []float32{130, 130}, 0},
		{"jump 0.85: from 0.85 of its level", 0.85, 0, 60, 200, flat, false, []float32{130, 115}, 0},
		{"jump 0.85: from 0.8 of its level", 0.85, 0, 60, 200, flat, false, []float32{130, 110}, 1},
		{"jump 0.85: back over its end level, then a taper", 0.85, 0, 60, 200, flat, false, []float32{130, 35, 130, 110, 90, 70, 55}, 1},
		{"jump 0.85: under an hour: nothing", 0.85, 0, 60, 30, flat, false, []float32{130}, 0},
		{"jump 0.85: after a gap", 0.85, 0, 60, 200, flat, true, []float32{130}, 1},
		{"jump 0.85: at 5 min", 0.85, 0, 300, 200, flat, false, []float32{130}, 1},
	} {
		cfg := Defaults(devices.KindMeter).Charging
		p := DefaultPhysicsParams()
		p.FloatJump, p.FloatTaper = c.jump, c.taper
		ts := int64(10 * 3600 * 1000)
		s := physCore{p: &p, iv: c.iv, chg: 1}
		s.c[0] = cand{t0: ts - c.run*mn, ref: 30, pre: 30, step: 100, lvl: 100, sf: cCharge, sxx: c.rise[0], sxy: c.rise[1]}
		prev := float32(130)
		ended := false
		for k := 0; k < len(c.pw)+20 && !ended; k++ {
			p := float32(35)
			if k < len(c.pw) {
				p = c.pw[k]
			}
			pr := prev
			if c.gap && k == len(c.pw) {
				pr = float32(math.NaN())
			}
			ended = s.checkEnd(&cfg, ts+int64(k)*mn, pr, p) == ChargeEnded
			prev = p
		}
		if !ended {
			t.Fatalf("%s: not ended", c.name)
		}
		var m sig
		if k := s.known(100); k >= 0 {
			m = s.mem[k]
		}
		if m.other != 0 || int(m.charger) != c.learnt {
			t.Errorf("%s: memory charger %d, other %d; want charger %d, other 0", c.name, m.charger, m.other, c.learnt)
		}
	}
}

// TestPhysicsFloatPlateau: a charger unplugged on its plateau evening after
// evening stays detectable with FloatTaper 0.7: its plateau rises, so an
// unplug its down-edge hid (masked) still teaches the memory "charger" by
// the rise, and the variant never teaches "not a charger" (round 25's
// review: one such lesson closed the known-charger paths to the size for
// good). A flat load ended so every evening (a lamp) is no longer taught
// as a charger; a charger whose plateau does not rise is that lamp to the
// detector (measured: detected on 4 evenings of 10 then, 10 with it off).
func TestPhysicsFloatPlateau(t *testing.T) {
	for _, c := range []struct {
		name       string
		taper      float64
		masked     bool
		rising     bool
		every      int
		minDet     int   // evenings detected, at least
		minCharger uint8 // the memory's charger count, at least
		maxCharger uint8
		noOther    bool // the memory never learnt "not a charger"
		fastFrom   int  // from this evening on, detected within 20 minutes
	}{
		{"off: unplugged seen", 0, false, true, 1, 10, 9, 10, true, 1},
		{"taper 0.7: unplugged seen", 0.7, false, true, 1, 10, 9, 10, true, 1},
		{"off: unplugged unseen every evening", 0, true, true, 1, 10, 9, 10, true, 1},
		{"taper 0.7: unplugged unseen every evening", 0.7, true, true, 1, 10, 8, 10, true, 1},
		{"taper 0.7: unplugged unseen every other evening", 0.7, true, true, 2, 10, 9, 10, true, 1},
		{"off: a lamp switched off unseen every evening: a charger", 0, true, false, 1, 10, 9, 10, true, 1},
		{"taper 0.7: a lamp switched off unseen every evening: never a charger", 0.7, true, false, 1, 0, 0, 0, false, 99},
	} {
		p := DefaultPhysicsParams()
		p.FloatTaper = c.taper
		ttd, m := evenings(p, 10, c.masked, c.rising, c.every)
		det := 0
		for d, v := range ttd {
			if v >= 0 {
				det++
			}
			if d >= c.fastFrom && (v < 0 || v > 20) {
				t.Errorf("%s: evening %d detected after %d min, want within 20 (%v)", c.name, d, v, ttd)
			}
		}
		if det < c.minDet || m.charger < c.minCharger || m.charger > c.maxCharger || c.noOther && m.other != 0 {
			t.Errorf("%s: %d evenings detected (%v), memory charger %d, other %d; want %d or more, charger %d-%d, other 0: %v",
				c.name, det, ttd, m.charger, m.other, c.minDet, c.minCharger, c.maxCharger, c.noOther)
		}
	}
}

// TestPhysicsFloatOtherEnds: FloatTaper and FloatJump judge float ends
// only: a charge with no taper seen (xTaper clear) or one that came down
// in one reading (xJump) that ends "unplugged" or "fell" teaches what it
// taught before (here "charger": verdict cannot call it, MemConfirmed).
func TestPhysicsFloatOtherEnds(t *testing.T) {
	for _, why := range []string{"unplugged", "fell"} {
		for _, sf := range []uint8{cCharge, cCharge | xJump} {
			p := DefaultPhysicsParams()
			p.FloatTaper, p.FloatJump = 0.7, 0.85
			ts := int64(10 * 3600 * 1000)
			s := physCore{p: &p, iv: 60, last: ts, chg: 1}
			s.c[0] = cand{t0: ts - 200*60000, ref: 30, pre: 30, step: 100, lvl: 100, sf: sf, sxx: 1, sxy: 0.5}
			s.endCharge(ts, 0, why, false)
			if k := s.known(100); k < 0 || s.mem[k].charger != 1 || s.mem[k].other != 0 {
				t.Errorf("%s, sf %#x: not learnt as a charger", why, sf)
			}
		}
	}
}

// TestPhysicsFloatJumpCleared: xJump is set on a charge's first reading
// under its end level after one FloatJump of its level over its reference
// and cleared when the power comes back over the end level (a checkpoint
// is version 9 only while it holds).
func TestPhysicsFloatJumpCleared(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	p := DefaultPhysicsParams()
	p.FloatJump = 0.85
	ts := int64(10 * 3600 * 1000)
	s := physCore{p: &p, iv: 60, chg: 1}
	s.c[0] = cand{t0: ts - 200*60000, ref: 30, pre: 30, step: 100, lvl: 100, sf: cCharge}
	for k, r := range []struct {
		prev, p float32
		jump    bool
	}{{130, 130, false}, {130, 35, true}, {35, 35, true}, {35, 130, false}, {130, 45, true}, {45, 130, false}, {130, 60, false}, {60, 45, false}} {
		s.checkEnd(&cfg, ts+int64(k)*60000, r.prev, r.p)
		if got := s.c[0].sf&xJump != 0; got != r.jump || s.c[0].state() != cCharge {
			t.Errorf("reading %d (%g after %g): xJump %v, want %v (state %d)", k, r.p, r.prev, got, r.jump, s.c[0].state())
		}
	}
}
