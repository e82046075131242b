package detect

import (
	"math"
	"testing"
	"time"
	"unsafe"

	"github.com/chargewatch/chargewatch/devices"
)

// TestSeqBits: each candidate's 6 bits are its own, and the core's size
// is as planned (the state sits in its padding with four slots).
func TestSeqBits(t *testing.T) {
	var s physCore
	vals := make([]uint8, nCands)
	copy(vals, []uint8{63, 0, 17, 42, 33}) // the fifth from round 13e
	for i, v := range vals {
		s.seqSet(i, v)
	}
	s.seqSet(1, 200) // saturates
	vals[1] = 63
	for i, v := range vals {
		if got := s.seqGet(i); got != v {
			t.Errorf("candidate %d: %d, want %d", i, got, v)
		}
	}
	s.seqReset(2)
	if s.seqGet(2) != 0 || s.seqGet(3) != 42 || s.seqGet(1) != 63 {
		t.Errorf("reset of candidate 2: %d %d %d %d", s.seqGet(0), s.seqGet(1), s.seqGet(2), s.seqGet(3))
	}
	// only candidates in use are kept
	s.c[0].setState(cOpen)
	s.c[3].setState(cCharge)
	u := physCore{seq: s.seqUsed()}
	if u.seqGet(0) != 63 || u.seqGet(1) != 0 || u.seqGet(3) != 42 {
		t.Errorf("in use: %d %d %d %d", u.seqGet(0), u.seqGet(1), u.seqGet(2), u.seqGet(3))
	}
	if nCands > 4 && s.seqGet(4) != 33 {
		t.Errorf("candidate 4: %d, want 33", s.seqGet(4))
	}
	// 552 bytes with four slots (the state in the padding); five add a
	// 64-byte cand and 8 bytes for seq's fourth byte (round 13e), six
	// another cand; round 13f's remembered up-edge and previous non-active
	// power (charging_own.go) add 8
	want := map[int]uintptr{4: 560, 5: 632, 6: 696}[nCands]
	if n := unsafe.Sizeof(physCore{}); n != want {
		t.Errorf("physCore %d bytes, want %d", n, want)
	}
}

// TestSeqScored: the window at which a sequence of scores (log-odds, one
// per 5-minute window) confirms, by mode.
func TestSeqScored(t *testing.T) {
	lo := func(q float64) float64 { return math.Log(q / (1 - q)) }
	nan := math.NaN()
	cases := []struct {
		name string
		set  func(p *PhysicsParams)
		iv   float32
		z    []float64
		want int // the window (from 0) that confirms; -1 none
	}{
		{"off: the first window at ScoreMin", func(p *PhysicsParams) {}, 60,
			[]float64{lo(0.9), lo(0.94), lo(0.5)}, 1},
		{"run of 2 over 0.85, ScoreMin 1: one lucky window does not confirm", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqK, p.ScoreSeqMin = 1, 1, 2, 0.85
		}, 60, []float64{lo(0.99), lo(0.5), lo(0.86), lo(0.84), lo(0.9), lo(0.88)}, 5},
		{"run: NaN neither counts nor breaks the run", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqK, p.ScoreSeqMin = 1, 1, 2, 0.85
		}, 60, []float64{lo(0.9), nan, lo(0.9)}, 2},
		{"run: ScoreMin still confirms at one window", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqK, p.ScoreSeqMin = 1, 0.97, 3, 0.85
		}, 60, []float64{lo(0.9), lo(0.98)}, 1},
		{"run: the long values over 90 s", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreMinLong, p.ScoreSeqK, p.ScoreSeqMin, p.ScoreSeqKLong, p.ScoreSeqMinLong = 1, 1, 1, 2, 0.85, 3, 0.7
		}, 300, []float64{lo(0.75), lo(0.75), lo(0.75), lo(0.75)}, 2},
		{"run: off over 90 s without ScoreSeqMinLong (ScoreMinLong decides)", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqK, p.ScoreSeqMin = 1, 1, 2, 0.5
		}, 300, []float64{lo(0.8), lo(0.8), lo(0.84), lo(0.86)}, 3},
		{"gate: ScoreMin confirms only after 2 windows over 0.5", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreSeqK, p.ScoreSeqMin = 3, 2, 0.5
		}, 60, []float64{lo(0.95), lo(0.4), lo(0.95), lo(0.6), lo(0.9), lo(0.94)}, 5},
		{"CUSUM under 90 s, a gate over (ScoreSeqLong)", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqMin, p.ScoreSeqH = 2, 1, 0.8, 1.5
			p.ScoreSeqLong, p.ScoreSeqMinLong, p.ScoreSeqKLong = 3, 0.5, 3
		}, 300, []float64{lo(0.9), lo(0.9), lo(0.6), lo(0.86)}, 3},
		{"gate over 90 s only: off up to 90 s without ScoreSeqMin", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreSeqMinLong, p.ScoreSeqK = 3, 0.5, 3
		}, 60, []float64{lo(0.5), lo(0.94)}, 1},
		{"CUSUM over 0.8 to 1.5: one window at 0.95 fires", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqMin, p.ScoreSeqH = 2, 1, 0.8, 1.5
		}, 60, []float64{lo(0.5), lo(0.95)}, 1},
		{"CUSUM over 0.8 to 1.5: windows at 0.9 add up (0.81 each)", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqMin, p.ScoreSeqH = 2, 1, 0.8, 1.5
		}, 60, []float64{lo(0.9), lo(0.9)}, 1},
		{"CUSUM: a low window takes back, floored at 0", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqMin, p.ScoreSeqH = 2, 1, 0.8, 1.5
		}, 60, []float64{lo(0.9), lo(0.5), lo(0.1), lo(0.9), lo(0.85), lo(0.9)}, 5},
		{"CUSUM: a limit over what 6 bits hold never fires", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreMin, p.ScoreSeqMin, p.ScoreSeqH = 2, 1, 0.5, 8
		}, 60, []float64{20, 20, 20, 20}, -1},
	}
	for _, c := range cases {
		p := seqOff()
		c.set(&p)
		p.scoreLimits()
		p.seqLimits()
		s := physCore{p: &p, iv: c.iv}
		s.seqSet(0, 5) // another candidate's state is left as it is
		zMin := p.scoreZMin
		if c.iv > 90 {
			zMin = p.scoreZMinLong
		}
		got := -1
		for k, z := range c.z {
			fire := z >= zMin
			if p.ScoreSeq > 0 {
				fire = s.seqScored(1, z, fire)
			}
			if fire {
				got = k
				break
			}
		}
		if got != c.want || s.seqGet(0) != 5 {
			t.Errorf("%s: confirmed at window %d, want %d (candidate 0's state %d)", c.name, got, c.want, s.seqGet(0))
		}
	}
}

// TestSeqCheckpoint: the sequence state is written (version 5) while a
// candidate has one, and a state restored midway confirms when the whole
// series does; with the sequence off, the checkpoint is as before.
func TestSeqCheckpoint(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	w := sumW(base(40), box(hr, 4*hr, 150, 0.12))
	feed := func(ch Charging, from, to float64) string { return startedAt(ch, &cfg, w, from, to) }
	for _, c := range []struct {
		name string
		set  func(p *PhysicsParams)
	}{
		{"run of 3", func(p *PhysicsParams) { p.ScoreSeq, p.ScoreSeqK, p.ScoreSeqMin = 1, 3, 0.9 }},
		// log-odds 3 over 0.9's 2.197: 6 eighths a window, 16 needed
		{"CUSUM to 2", func(p *PhysicsParams) {
			p.ScoreSeq, p.ScoreSeqH, p.ScoreSeqMin = 2, 2, 0.9
			p.ScoreW = [ScoreFeatures + 1]float64{3}
		}},
	} {
		p := seqOff()
		p.ScoreW = [ScoreFeatures + 1]float64{10}
		p.ScoreHold = 5 * time.Minute
		p.ScoreMin = 1 // the sequence alone
		c.set(&p)
		m := NewPhysicsModel(p)
		// windows at 5, 10 and 15 minutes of the step's age: two in at
		// the cut
		ch, _ := cutRestore(t, c.name, m, w, hr+12*60, 2*hr, physVersionSeq, "1h15m0s")
		// a free candidate's state is refused
		bad := ch.(*physCharging)
		var n physCore
		n.seqSet(3, 1)
		if bad.pc.c[3].state() == cFree {
			bad.pc.seq[2] |= n.seq[2]
			b, _ := bad.MarshalBinary()
			b[len(b)-1] |= n.seq[2]
			if err := m.New().UnmarshalBinary(b); err == nil {
				t.Errorf("%s: a free candidate's sequence state was accepted", c.name)
			}
		}
	}
	// off: never version 5
	p := DefaultPhysicsParams()
	p.ScoreW = [ScoreFeatures + 1]float64{10}
	p.ScoreHold = 5 * time.Minute
	p.ScoreMin = 1
	ch := NewPhysicsModel(p).New()
	feed(ch, 0, hr+12*60)
	if b, _ := ch.MarshalBinary(); b[len(physMagic)] != physVersionNoScr {
		t.Errorf("sequence off: checkpoint version %d, want %d", b[len(physMagic)], physVersionNoScr)
	}
}

// seqOff returns the default parameters with the logistic regression's
// score (ScoreModel 0) and no sequence (round 11 turned both on): the
// cases set what they test.
func seqOff() PhysicsParams {
	p := DefaultPhysicsParams()
	p.ScoreModel = 0
	p.ScoreSeq, p.ScoreSeqMin, p.ScoreSeqH, p.ScoreSeqMinLong, p.ScoreSeqHLong = 0, 0, 0, 0, 0
	return p
}

// TestSeqScoreMinOne: a ScoreMin (ScoreMinLong) of 1 means that no single
// window confirms, with the trees' score as with the logistic regression's
// (their own thresholds, ScoreTreeMin, would otherwise take its place).
func TestSeqScoreMinOne(t *testing.T) {
	for _, model := range []float64{0, 11, 15} {
		p := DefaultPhysicsParams()
		p.ScoreModel = model
		p.ScoreMin, p.ScoreMinLong = 1, 1
		p.scoreLimits()
		if !math.IsInf(p.scoreZMin, 1) || !math.IsInf(p.scoreZMinLong, 1) {
			t.Errorf("ScoreModel %v, ScoreMin 1: single-window limits %v and %v, want +Inf", model, p.scoreZMin, p.scoreZMinLong)
		}
		p.ScoreMin, p.ScoreMinLong = 0.5, 0
		p.scoreLimits()
		if math.IsInf(p.scoreZMin, 1) || math.IsInf(p.scoreZMinLong, 1) {
			t.Errorf("ScoreModel %v, ScoreMin 0.5: single-window limits %v and %v", model, p.scoreZMin, p.scoreZMinLong)
		}
	}
}
