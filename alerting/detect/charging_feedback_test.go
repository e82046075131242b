package detect

import (
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// feedbackRun feeds an hour of background, then a 150 W step rising by
// rise of its level per minute for two hours, at 1-min readings, to a
// detector whose active memory holds mem for 150 W (none when zero);
// verdict, when over 0, is given (the size of the alert's step) an hour
// before the step. It returns the path that confirmed the step and when
// (minutes after it), or "" and 0.
func feedbackRun(n, verdictW, rise float64, mem sig) (string, float64, *physCharging) {
	p := DefaultPhysicsParams()
	p.Feedback = n
	ch := NewPhysicsModel(p).New().(*physCharging)
	if mem.w > 0 {
		mem.last = int32(t0/60000) - 600
		ch.pc.mem[0] = mem
	}
	if verdictW > 0 {
		ch.NotCharging(t0, verdictW)
	}
	cfg := Defaults(devices.KindMeter).Charging
	for s := 0.0; s < 3*hr; s += 60 {
		w := 100.0
		if s >= hr {
			w += 150 * (1 + rise*(s-hr)/60) * (1 + 0.001*ripple(s, 7))
		}
		if ch.Observe(&cfg, t0+int64(s*1000), ChargeReading{PowerW: w}) == ChargeStarted {
			return ch.Session().Path, (s - hr) / 60, ch
		}
	}
	return "", 0, ch
}

// TestFeedbackDefault pins Feedback's default.
func TestFeedbackDefault(t *testing.T) {
	if p := DefaultPhysicsParams(); p.Feedback != 0 {
		t.Errorf("Feedback %v, want 0", p.Feedback)
	}
}

// TestNotCharging: a verdict on a size the memory does not hold as a
// charger marks its slot refuted (making one if there is none) and leaves
// its counts: a flat step of that size, which the fast path confirms when
// the size is unknown and the score at 20 minutes when the memory holds it
// as a lamp's, is then confirmed by no path in two hours, and a rising one
// only by the rise. A verdict on a size the memory holds as the unit's charger (its
// charger lessons at least its others, or a proof count), on another
// size, or with Feedback 0 changes nothing.
func TestNotCharging(t *testing.T) {
	const known = "fast, known charger"
	charger := sig{w: 150, maxRun: 200, charger: 3, other: 1, proof: 2}
	proven := sig{w: 150, maxRun: 200, charger: 1, other: 3, proof: 1}
	lamp := sig{w: 150, maxRun: 300, charger: 2, other: 3}
	for _, c := range []struct {
		name     string
		n, w     float64
		rise     float64 // of the level per minute
		mem      sig
		wantPath string
		wantMin  float64 // 0: any time
		refuted  bool
	}{
		{"unknown, no verdict", 1, 0, 0, sig{}, "fast", 0, false},
		{"unknown, verdict", 1, 150, 0, sig{}, "", 0, true},
		{"unknown, verdict within the memory's tolerance", 1, 140, 0, sig{}, "", 0, true},
		{"unknown, verdict, off", 0, 150, 0, sig{}, "fast", 0, false},
		{"unknown, verdict on another size", 1, 60, 0, sig{}, "fast", 0, false},
		{"unknown, verdict, rising", 1, 150, 0.0005, sig{}, "rise", 0, true},
		{"lamp, verdict", 1, 150, 0, lamp, "", 0, true},
		{"charger, verdict", 1, 150, 0, charger, known, 10, false},
		{"charger by proof, verdict", 1, 150, 0, proven, known, 15, false},
		{"lamp, no verdict", 1, 0, 0, lamp, "score", 20, false},
	} {
		path, m, ch := feedbackRun(c.n, c.w, c.rise, c.mem)
		if path != c.wantPath || c.wantMin > 0 && m != c.wantMin {
			t.Errorf("%s: %q at %.0f min, want %q (at %.0f min; 0: any)", c.name, path, m, c.wantPath, c.wantMin)
		}
		k := ch.pc.known(150)
		if got := k >= 0 && ch.pc.mem[k].proof == refuted; got != c.refuted {
			t.Errorf("%s: slot %d %+v, refuted %v, want %v", c.name, k, ch.pc.mem[max(k, 0)], got, c.refuted)
		}
		if c.refuted && c.mem.w > 0 && (ch.pc.mem[k].charger < c.mem.charger || ch.pc.mem[k].other < c.mem.other) {
			t.Errorf("%s: slot %+v: the verdict changed its lessons", c.name, ch.pc.mem[k])
		}
	}
	p := DefaultPhysicsParams()
	p.Feedback = 1
	ch := NewPhysicsModel(p).New().(*physCharging)
	if !ch.NotCharging(t0, 95) {
		t.Error("a verdict on an unknown size was not learnt")
	}
	k := ch.pc.known(95)
	if k < 0 || ch.pc.mem[k].proof != refuted || ch.pc.mem[k].charger != 0 || ch.pc.mem[k].last != int32(t0/60000) {
		t.Errorf("verdict on an unknown size: slot %d %+v, want a refuted 95 W slot seen at the verdict", k, ch.pc.mem[max(k, 0)])
	}
	if ch.pc.proofKnown(k, 0xffff) {
		t.Error("a refuted slot reads as a proof count")
	}
	var d Device
	if d.NotCharging(t0, 95) {
		t.Error("a device with no charging detector reported learning a verdict")
	}
	d.chg = ch
	if !d.NotCharging(t0, 95) {
		t.Error("a device with the physics detector did not learn the verdict")
	}
	ch.pc.mem[0] = sig{w: 200, charger: 4, other: 1}
	if d.NotCharging(t0, 200) {
		t.Error("a verdict on the unit's charger's size was learnt")
	}
	p.Feedback = 0
	if NewPhysicsModel(p).New().(*physCharging).NotCharging(t0, 95) {
		t.Error("a verdict was learnt with Feedback 0")
	}
}

// TestFeedbackOffMark: with Feedback turned back to 0 after a verdict, a
// refuted slot teaches nothing: a confirmed charge that ends teaching a
// proof counts it from 0 (at 1 min by MemProof, at 5 min by KnownProof),
// and the slot is not kept over one worth more; with Feedback on, the mark
// stays and is kept.
func TestFeedbackOffMark(t *testing.T) {
	for _, c := range []struct {
		name      string
		feedback  float64
		iv        float32
		wantProof uint8
	}{
		{"off, 1 min", 0, 60, 1},
		{"off, 5 min", 0, 300, 1},
		{"on, 1 min", 1, 60, refuted},
		{"on, 5 min", 1, 300, refuted},
	} {
		p := DefaultPhysicsParams()
		p.Feedback = c.feedback
		s, k := endTaught(&p, c.iv, false, pathRise, nil, sig{w: 150, maxRun: 60, other: 1, proof: refuted})
		if k != 0 || s.mem[0].charger != 1 || s.mem[0].proof != c.wantProof {
			t.Errorf("%s: slot %d %+v, want slot 0 with charger 1, proof %d", c.name, k, s.mem[0], c.wantProof)
		}
		// a full memory: slot 0 (refuted, one lesson, seen an hour ago) is
		// the least worth keeping but for the mark
		s.mem[0].proof = refuted
		for j := 1; j < len(s.mem); j++ {
			s.mem[j] = sig{w: float32(300 + 100*j), maxRun: 60, other: 3, last: int32(endTS/60000) - 60}
		}
		s.remember(40, 60, false)
		kept := s.known(150) >= 0
		if want := c.feedback > 0; kept != want {
			t.Errorf("%s: the refuted slot kept %v, want %v", c.name, kept, want)
		}
	}
}
