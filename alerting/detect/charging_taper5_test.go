package detect

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsTaper5Watch: a held step about to be dropped is followed in
// what may be its taper (cWatch) only at intervals over Taper5Iv, in the
// active power's detector unless Taper5Var, after Taper5Hold, with a
// level in the band and Taper5MinW to Taper5Max of its level still on.
func TestPhysicsTaper5Watch(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	for _, c := range []struct {
		name   string
		n, nv  float64 // Taper5N, Taper5Var
		iv     float32
		var_   bool
		held   time.Duration
		lvl, p float32 // level, power over the reference
		want   bool
	}{
		{"5 min, a taper's remainder", 3, 0, 300, false, 2 * time.Hour, 100, 40, true},
		{"off", 0, 0, 300, false, 2 * time.Hour, 100, 40, false},
		{"1 min", 3, 0, 60, false, 2 * time.Hour, 100, 40, false},
		{"held too short", 3, 0, 300, false, time.Hour, 100, 40, false},
		{"nothing left (switched off)", 3, 0, 300, false, 2 * time.Hour, 100, 2, false},
		{"hardly fell", 3, 0, 300, false, 2 * time.Hour, 100, 95, false},
		{"level under the band", 3, 0, 300, false, 2 * time.Hour, 40, 20, false},
		{"non-active power", 3, 0, 300, true, 2 * time.Hour, 100, 40, false},
		{"non-active power, Taper5Var", 3, 1, 300, true, 2 * time.Hour, 100, 40, true},
	} {
		p := DefaultPhysicsParams()
		p.Taper5N, p.Taper5Var = c.n, c.nv
		now := int64(c.held / time.Millisecond)
		s := physCore{p: &p, iv: c.iv, nv: c.var_, prev: 30 + c.p}
		s.c[0] = cand{t0: 1, ref: 30, lvl: c.lvl, step: c.lvl, sf: cOpen}
		if got := s.taper5Watch(&cfg, now+1, 0); got != c.want || got && s.c[0].state() != cWatch {
			t.Errorf("%s: followed %v (state %d), want %v", c.name, got, s.c[0].state(), c.want)
		}
	}
}

// TestPhysicsTaper5Step: a followed step (level 100 W, 30 W reference) is
// confirmed after Taper5N readings that each declined by at most
// Taper5Dec of its level and at least Taper5Rel of what was left, staying
// Taper5MinW over its reference; the first reading that does not drops it.
func TestPhysicsTaper5Step(t *testing.T) {
	for _, c := range []struct {
		name string
		over []float32 // power over the reference, from the reading it was followed from
		want uint8     // its state after the last
	}{
		{"a taper", []float32{60, 55, 50, 46}, cCharge},
		{"two readings of it so far", []float32{60, 55, 50}, cWatch},
		{"flat", []float32{60, 60, 59.9, 59.8}, cFree},
		{"rose", []float32{60, 55, 57, 50}, cFree},
		{"fell by more than Taper5Dec", []float32{60, 15, 12, 10}, cFree},
		{"to nothing", []float32{10, 7, 3, 1}, cFree},
	} {
		p := DefaultPhysicsParams()
		p.Taper5N, p.Taper5Rel = 3, 0.03
		if st, ch := followTaper5(&p, c.over); st != c.want || (ch == ChargeStarted) != (c.want == cCharge) {
			t.Errorf("%s: state %d (%v), want %d", c.name, st, ch, c.want)
		}
	}
}

// followTaper5 follows a step (level 100 W, 30 W reference, held two
// hours) in its taper at 5-min readings whose power over the reference is
// over, from the reading it was followed from, while it is followed; it
// returns the step's state after the last and the last change.
func followTaper5(p *PhysicsParams, over []float32) (uint8, ChargeChange) {
	s := physCore{p: p, iv: 300}
	s.c[0] = cand{t0: 1, ref: 30, lvl: 100, step: 100, sf: cWatch, low: 7200 + 1}
	ts := int64(1 + 7200*1000)
	prev := 30 + over[0]
	ch := s.taper5Step(ts, 0, prev, prev) // the reading it was followed from
	for _, o := range over[1:] {
		ts += 300000
		if s.c[0].state() != cWatch {
			break
		}
		ch = s.taper5Step(ts, 0, 30+o, prev)
		prev = 30 + o
	}
	return s.c[0].state(), ch
}

// TestPhysicsTaper5: at 5-min readings a charge whose plateau neither
// rises nor can be confirmed, and whose taper the regression does not
// take (TaperFallT off), is confirmed in its taper by the followed
// decline (Taper5N); not with it off, nor a lamp switched off after as
// long, nor at 1-min readings.
func TestPhysicsTaper5(t *testing.T) {
	for _, c := range []struct {
		name string
		w    func(float64) float64
		n    float64
		step float64
		fire bool
	}{
		{"a flat charge's taper", sumW(base(40), flatCharge), 3, 300, true},
		{"the same, Taper5N off", sumW(base(40), flatCharge), 0, 300, false},
		{"a lamp switched off", sumW(base(40), box(hr, 4*hr, 130, 0.004)), 3, 300, false},
		{"1-min readings", sumW(base(40), flatCharge), 3, 60, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPhysicsParams()
			// nothing on the plateau: no fast confirmation, no memory, no
			// score; the taper that declined (the regression) is off
			p.FastNoise, p.FastNoiseW, p.KnownHold, p.ScoreMin = 1e-9, 0, 0, 0
			p.TaperFallT = 0
			p.Taper5N, p.Taper5Rel = c.n, 0.03
			sigs, evs := traceRun(t, p, c.step, 8*hr, c.w)
			if fired := slices.Contains(evs, "fire taper, declined"); fired != c.fire {
				t.Fatalf("fired as a declined taper %v, want %v (%q)", fired, c.fire, sigs)
			}
			if !c.fire {
				if slices.ContainsFunc(sigs, func(s string) bool { return strings.Contains(s, "fire") }) {
					t.Errorf("signals %q", sigs)
				}
				return
			}
			if len(sigs) == 0 || !strings.Contains(sigs[0], "fire since 1h0m0s") {
				t.Fatalf("signals %q", sigs)
			}
			// fired in the taper (it starts at 4 h), before the float ends (7 h)
			at, err := time.ParseDuration(strings.Fields(sigs[0])[0])
			if err != nil || at < 4*time.Hour || at >= 7*time.Hour {
				t.Errorf("fired at %v (%v)", at, err)
			}
		})
	}
}

// TestPhysicsTaper5Checkpoint: a followed step (cWatch) is not written to
// a checkpoint (its few readings of decline are lost on a restart), and the
// checkpoint of a state with one is read back.
func TestPhysicsTaper5Checkpoint(t *testing.T) {
	p := DefaultPhysicsParams()
	s := NewPhysicsModel(p).New().(*physCharging)
	s.pc.last = t0
	s.pc.c[0] = cand{t0: t0 - 7200000, ref: 30, lvl: 100, step: 100, sf: cWatch, low: 1}
	s.pc.c[1] = cand{t0: t0 - 600000, ref: 30, lvl: 80, step: 80, sf: cOpen}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back physCharging
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range back.pc.c {
		if c := &back.pc.c[i]; c.state() != cFree {
			n++
			if c.state() != cOpen || c.lvl != 80 {
				t.Errorf("restored step %d: %+v", i, *c)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d steps restored, want the open one", n)
	}
}

// TestPhysicsTaper5WatchSeqCheckpoint: a followed step whose score had a
// running sum (ScoreSeq) is not written, and neither is its sum: the
// checkpoint is read back. Before, the sum was written for a slot the
// checkpoint did not hold, and the whole state was refused as corrupt
// (which stopped the engine from starting).
func TestPhysicsTaper5WatchSeqCheckpoint(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	m := NewPhysicsModel(DefaultPhysicsParams())
	ch := m.New()
	ts := t0
	for range 30 { // 5-min readings of a flat 40 W
		ch.Observe(&cfg, ts, ChargeReading{PowerW: 40})
		ts += 300000
	}
	pc := &ch.(*physCharging).pc
	// a step held 2 h, its running sum at 5 eighths, fallen to 40 W over
	// its reference
	pc.c[0] = cand{t0: ts - 2*3600000, ref: 40, pre: 40, lvl: 100, step: 100, sf: cOpen, n: 24}
	pc.seqSet(0, 5)
	pc.prev = 80
	if !pc.taper5Watch(&cfg, ts, 0) {
		t.Fatal("not followed")
	}
	b, err := ch.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if v := b[len(physMagic)]; v >= physVersionSeq {
		t.Errorf("checkpoint version %d: a followed step's sum was written", v)
	}
	if err := m.New().UnmarshalBinary(b); err != nil {
		t.Errorf("own checkpoint refused: %v", err)
	}
}

// TestPhysicsTaper5Jitter: a step followed at a down-edge is not judged
// again by the loop of the same reading when the readings' times are not
// whole seconds after the step's start (meters stamp milliseconds).
func TestPhysicsTaper5Jitter(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	for _, off := range []int64{0, 1, 500, 999} {
		p := DefaultPhysicsParams()
		ts := t0 + 10*3600000
		s := physCore{p: &p, iv: 300, prev: 70} // after the edge: 40 W left over the reference
		s.c[0] = cand{t0: ts - 2*3600000 - off, ref: 30, pre: 30, lvl: 100, step: 100, sf: cOpen}
		if !s.taper5Watch(&cfg, ts, 0) {
			t.Fatalf("%d ms: not followed", off)
		}
		s.taper5Step(ts, 0, 70, 130) // the same reading's loop: prev was before the edge
		if s.c[0].state() != cWatch {
			t.Errorf("start %d ms off the second: dropped by the reading it was followed from", off)
		}
	}
}
