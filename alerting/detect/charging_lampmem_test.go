package detect

import (
	"math"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsLampMemDefaults pins round 32a's defaults: LampMem 5 (the
// active core's memory knows the step's watts as a long load that was no
// charger, run 240-420 min, and knows no load as a charger) at 45-90 s
// (bounds off the nominal 60 s: the interval is an average of the gaps).
func TestPhysicsLampMemDefaults(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.LampMem != 5 || p.LampMemRun != 240 || p.LampMemRunMax != 420 || p.LampMemMinIv != 45 || p.LampMemMaxIv != 90 {
		t.Fatalf("LampMem %v, LampMemRun %v, LampMemRunMax %v, LampMemMinIv %v, LampMemMaxIv %v; want 5, 240, 420, 45, 90",
			p.LampMem, p.LampMemRun, p.LampMemRunMax, p.LampMemMinIv, p.LampMemMaxIv)
	}
}

// TestPhysicsLampMem: the non-active core's step of 175 var over 115 W
// is not confirmed by the score when the active core's memory knows 115
// W as a long load that was never a charger (an evening lamp: on 5 h 30,
// twice, once a short run), at 1-min readings only, under every bit's
// condition.
func TestPhysicsLampMem(t *testing.T) {
	lamp := sig{w: 116, other: 2, cycles: 1, maxRun: 330}
	for _, c := range []struct {
		name  string
		mode  float64
		iv    float32
		peer  sig  // the active core's memory slot
		other sig  // another slot of the active core's memory
		own   sig  // the non-active core's memory slot
		nv    bool // the step is the non-active core's
		want  bool
	}{
		{"a lamp the active memory knows", 1, 60, lamp, sig{}, sig{}, true, true},
		{"off", 0, 60, lamp, sig{}, sig{}, true, false},
		{"the active core's own step", 1, 60, lamp, sig{}, sig{}, false, false},
		{"5-min readings", 1, 300, lamp, sig{}, sig{}, true, false},
		{"10-s readings", 1, 10, lamp, sig{}, sig{}, true, false},
		{"a 1-min meter whose gaps jitter (58 s)", 1, 58, lamp, sig{}, sig{}, true, true},
		{"size unknown to the active memory", 1, 60, sig{w: 200, other: 2, maxRun: 330}, sig{}, sig{}, true, false},
		{"once a charger", 1, 60, sig{w: 116, other: 2, charger: 1, maxRun: 330}, sig{}, sig{}, true, false},
		{"a cycler", 1, 60, sig{w: 116, other: 3, cycles: 2, maxRun: 330}, sig{}, sig{}, true, false},
		{"ran under LampMemRun", 1, 60, sig{w: 116, other: 2, maxRun: 200}, sig{}, sig{}, true, false},
		{"held to MaxCandidate once (481 min)", 1, 60, sig{w: 116, other: 2, maxRun: 481}, sig{}, sig{}, true, false},
		{"bit 2: the var memory knows its var as a load that ended", 3, 60, lamp, sig{}, sig{w: 178, charger: 2, other: 2, maxRun: 325}, true, true},
		{"bit 2: the var memory knows it only as a charger", 3, 60, lamp, sig{}, sig{w: 178, charger: 2}, true, false},
		{"bit 4: the active memory knows no charger", 5, 60, lamp, sig{w: 82, other: 80, cycles: 80, charger: 1, maxRun: 24}, sig{}, true, true},
		{"bit 4: the active memory knows a charger", 5, 60, lamp, sig{w: 150, charger: 2}, sig{}, true, false},
	} {
		p := DefaultPhysicsParams()
		p.LampMem = c.mode
		pc := physCore{p: &p, iv: c.iv}
		pc.mem[0], pc.mem[1] = c.peer, c.other
		s := physCore{p: &p, iv: c.iv, nv: c.nv}
		s.mem[0] = c.own
		if c.nv {
			s.peer = &pc
		}
		cd := cand{t0: 1, ref: 40, lvl: 176, step: 176, ws: 115, sf: cOpen}
		if got := s.lampMem(&cd); got != c.want {
			t.Errorf("%s: vetoed %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPhysicsLampMemScore: a lamp-like step (110 W at 1.5 var per watt,
// steady for 3 hours) under a score that confirms every window, the
// active core's memory knowing 110 W as a long load that was no charger
// (so the active core's paths do not take it: ScoreVeto 2), is confirmed
// by the non-active core's score with LampMem off, and not at all with
// it on, at 1-min readings; at 5-min readings LampMem does not apply.
func TestPhysicsLampMemScore(t *testing.T) {
	run := func(lampMem float64, step float64) string {
		p := DefaultPhysicsParams()
		p.ScoreModel, p.ScoreW, p.ScoreWLong = 0, [ScoreFeatures + 1]float64{math.Log(0.999 / 0.001)}, [ScoreFeatures + 1]float64{math.Log(0.999 / 0.001)}
		p.ScoreVeto, p.LampMem = 2, lampMem
		ch := NewPhysicsModel(p).New().(*physCharging)
		ch.pc.mem[0] = sig{w: 110, other: 2, maxRun: 330}
		load, bg := box(hr, 4*hr, 110, 0.002), base(40)
		cfg := Defaults(devices.KindMeter).Charging
		for s := 0.0; s < 4*hr; s += step {
			r := ChargeReading{PowerW: math.Round((bg(s)+load(s))*10) / 10, HasNA: true}
			r.NonActive = math.Round((bg(s)*0.5+1.5*load(s))*10) / 10
			if ch.Observe(&cfg, t0+int64(s*1000), r) == ChargeStarted {
				return ch.Session().Path
			}
		}
		return ""
	}
	if got := run(0, 60); got != "score (var)" {
		t.Fatalf("LampMem off, 1 min: path %q, want score (var)", got)
	}
	if got := run(5, 60); got != "" {
		t.Fatalf("LampMem on, 1 min: path %q, want none", got)
	}
	if got := run(0, 300); got != run(5, 300) {
		t.Fatalf("5 min: LampMem changed the path (%q, off %q)", run(5, 300), got)
	}
}
