package detect

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestHeldLongDefault pins the held-long rule's defaults (round 35d:
// kept at 5 min after the confirmation cities).
func TestHeldLongDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.HeldLongHold != 3*time.Hour || p.HeldLongMinIv != 150 || p.HeldLongQuiet != 0.65 || p.HeldLongZ != 1.5 {
		t.Fatalf("HeldLongHold %v, HeldLongMinIv %v, HeldLongQuiet %v, HeldLongZ %v; want 3h, 150, 0.65, 1.5",
			p.HeldLongHold, p.HeldLongMinIv, p.HeldLongQuiet, p.HeldLongZ)
	}
}

// heldLongFlat is a charger's step that holds flat for five hours from
// hour 1 (no rise, no taper), unplugged on its plateau.
func heldLongFlat(t float64) float64 {
	if h := (t - hr) / 3600; h < 0 || h >= 5 {
		return 0
	}
	return 130 * (1 + 0.004*ripple(t, 2))
}

// heldLongFair is the defaults with the fast paths, the young steps'
// 5-min forest and the score's running sum off, so that at 5-min readings the flat step is confirmed
// by the score alone.
func heldLongFair() PhysicsParams {
	p := DefaultPhysicsParams()
	p.FastNoise = 1e-9
	p.ScoreYoungHoldLong, p.ScoreYoungMinLong = 0, 0
	p.ScoreSeq = 0 // no running sum of the constant windows
	return p
}

// TestHeldLong: with HeldLongHold, at 5-min readings a step held
// HeldLongHold or more, quiet, whose score window reaches HeldLongZ (a
// log-odds under ScoreTreeMinLong's) is confirmed at HeldLongHold, where
// without the rule the score (a constant probability of 0.85, log-odds
// 1.73, under ScoreTreeMinLong 0.9) never confirms it. HeldLongHold 0, a
// probability under HeldLongZ, a quiet share under HeldLongQuiet, an
// interval under HeldLongMinIv (1 min), a window limit no window reaches
// (ScoreTreeMinLong 1) are as off; a shorter hold confirms earlier. "Off"
// is every gate shut (HeldLongHold 0 and HeldLongZ +Inf), so that a case
// that shuts one gate is not compared with itself; the 1-min forest
// (scoreTreesW) gives 0.5, so that only the 5-min one can confirm.
func TestHeldLong(t *testing.T) {
	fair := heldLongFair()
	with := func(f func(*PhysicsParams)) PhysicsParams {
		p := fair
		f(&p)
		return p
	}
	w := sumW(base(40), heldLongFlat)
	at3h := "4h0m0s fire since 1h0m0s"
	at2h := "3h0m0s fire since 1h0m0s"
	cases := []struct {
		name string
		p    PhysicsParams
		step float64
		prob float64
		want string // "": as with HeldLongHold 0
	}{
		{"on, 0.85 (log-odds 1.73) over 1.5: at 3 h", fair, 300, 0.85, at3h},
		{"on, hold 2 h: at 2 h", with(func(p *PhysicsParams) { p.HeldLongHold = 2 * time.Hour }), 300, 0.85, at2h},
		{"on, 0.8 (log-odds 1.39) under 1.5: as off", fair, 300, 0.8, ""},
		{"HeldLongHold 0: off", with(func(p *PhysicsParams) { p.HeldLongHold = 0 }), 300, 0.85, ""},
		{"quiet share under HeldLongQuiet 1.01: off", with(func(p *PhysicsParams) { p.HeldLongQuiet = 1.01 }), 300, 0.85, ""},
		{"HeldLongMinIv 400 over 300: off", with(func(p *PhysicsParams) { p.HeldLongMinIv = 400 }), 300, 0.85, ""},
		{"at 1 min: off", fair, 60, 0.85, ""},
		{"ScoreTreeMinLong 1 (no window confirms alone): off", with(func(p *PhysicsParams) { p.ScoreTreeMinLong = 1 }), 300, 0.85, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			constForest(t, &scoreTreesWLong, c.prob)
			constForest(t, &scoreTreesW, 0.5)
			got := physRun(t, c.p, c.step, 8*hr, w)
			q := c.p
			q.HeldLongHold, q.HeldLongZ = 0, math.Inf(1)
			off := physRun(t, q, c.step, 8*hr, w)
			if c.want == "" {
				if len(got) > 0 && got[0] == at3h || !slices.Equal(got, off) {
					t.Errorf("signals %q, want %q (as off)", got, off)
				}
				return
			}
			if len(off) > 0 && off[0] == c.want {
				t.Fatalf("off: signals %q: confirmed without the rule, the case tests nothing", off)
			}
			if len(got) == 0 || got[0] != c.want {
				t.Errorf("signals %q, want first %q (off: %q)", got, c.want, off)
			}
		})
	}
}

// TestHeldLongExact: the held-long rule compares the window's log-odds
// itself with HeldLongZ, not a bound of a forest cut short under the
// window's limit. The 5-min forest gives log-odds 1.39 (0.8, under
// HeldLongZ 1.5) through a tree whose other leaf would give 2.09: cut
// short at ScoreTreeMinLong's 2.2 alone (the running sum off), its bound
// 2.09 is over 1.5, and the step would be confirmed. With a leaf that
// gives 1.73 (0.85) it is.
func TestHeldLongExact(t *testing.T) {
	w := sumW(base(40), heldLongFlat)
	p := heldLongFair()
	f, old := &scoreTreesWLong, scoreTreesWLong
	t.Cleanup(func() { *f = old })
	constForest(t, &scoreTreesW, 0.5)
	for _, c := range []struct {
		leaf float32 // the leaf the step reaches; the other adds 0.7
		want string
	}{{0, ""}, {float32(math.Log(0.85/0.15) - math.Log(4)), "4h0m0s fire since 1h0m0s"}} {
		// log_held (at most 3.5 here) is never over 100: the left leaf
		*f = ScoreForest{Depth: 1, Base: math.Log(4), Feat: []uint8{0}, Thr: []float32{100}, Leaf: []float32{c.leaf, 0.7}}
		f.bound()
		got := physRun(t, p, 300, 8*hr, w)
		if first := ""; len(got) > 0 && got[0] != c.want || len(got) == 0 && c.want != "" {
			if len(got) > 0 {
				first = got[0]
			}
			t.Errorf("leaf %g: first signal %q, want %q", c.leaf, first, c.want)
		}
	}
}
