package detect

import (
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// TestPhysicsBand: the held band confirms a step held BandHoldLong (at
// readings over 90 s; BandHold at shorter ones) at a score mark when the
// lowest power of the window stands BandLo-BandHi of its level over its
// reference and, with BandEnv, has risen since it was first read by at
// least BandEnv of the level and BandEnvK of the noise, at most
// BandEnvRate of it an hour; not for a declining step, one the memory knows as no
// charger, the non-active power's detector (with BandEnv), or a score
// under BandMinLong.
func TestPhysicsBand(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, c := range []struct {
		name    string
		iv      float32
		held    int64   // ms
		gap     int32   // ms since the reading before
		floor   float32 // the lowest power of the window
		anchor  float32 // the envelope as first read (ws)
		na      float32 // noise (sigma is 1.25 of it)
		sxy     float32 // rise regression (sxx 100)
		mem     bool    // the memory knows its size as no charger
		nv      bool
		hold    time.Duration // BandHoldLong (BandHold at 60 s)
		min     float64       // BandMinLong
		want    bool
		wantEnv float32 // ws after the call
	}{
		{"confirmed", 300, 120 * mn, 5 * mn, 504, 105, 1, 10, false, false, 2 * time.Hour, 0, true, 105},
		{"confirmed, score asked", 300, 120 * mn, 5 * mn, 504, 105, 1, 10, false, false, 2 * time.Hour, 1e-9, true, 105},
		{"score under BandMinLong", 300, 120 * mn, 5 * mn, 504, 105, 1, 10, false, false, 2 * time.Hour, 1 - 1e-9, false, 105},
		{"off", 300, 120 * mn, 5 * mn, 504, 105, 1, 10, false, false, 0, 0, false, 105},
		{"held too short", 300, 115 * mn, 5 * mn, 504, 105, 1, 10, false, false, 2 * time.Hour, 0, false, 105},
		{"off a score mark", 300, 122 * mn, 1 * mn, 504, 105, 1, 10, false, false, 2 * time.Hour, 0, false, 105},
		{"envelope under BandLo", 300, 120 * mn, 5 * mn, 470, 60, 1, 10, false, false, 2 * time.Hour, 0, false, 60},
		{"envelope over BandHi", 300, 120 * mn, 5 * mn, 540, 130, 1, 10, false, false, 2 * time.Hour, 0, false, 130},
		{"envelope flat", 300, 120 * mn, 5 * mn, 504, 108, 1, 10, false, false, 2 * time.Hour, 0, false, 108},
		{"envelope rose too much", 300, 120 * mn, 5 * mn, 504, 90, 1, 10, false, false, 2 * time.Hour, 0, false, 90},
		{"envelope rose faster than BandEnvRate", 300, 120 * mn, 5 * mn, 504, 103, 1, 10, false, false, 2 * time.Hour, 0, false, 103},
		{"rise within the noise", 300, 120 * mn, 5 * mn, 504, 105, 4, 10, false, false, 2 * time.Hour, 0, false, 105},
		{"declining", 300, 120 * mn, 5 * mn, 504, 105, 1, -300, false, false, 2 * time.Hour, 0, false, 105},
		{"memory: no charger", 300, 120 * mn, 5 * mn, 504, 105, 1, 10, true, false, 2 * time.Hour, 0, false, 105},
		{"non-active power", 300, 120 * mn, 5 * mn, 504, 105, 1, 10, false, true, 2 * time.Hour, 0, false, 105},
		{"envelope first read", 300, 50 * mn, 5 * mn, 504, 0, 1, 10, false, false, 2 * time.Hour, 0, false, 109},
		{"envelope not read yet", 300, 45 * mn, 5 * mn, 504, 0, 1, 10, false, false, 2 * time.Hour, 0, false, 0},
		{"1 min: BandHold", 60, 120 * mn, 1 * mn, 504, 105, 1, 10, false, false, 2 * time.Hour, 0, true, 105},
	} {
		p := DefaultPhysicsParams()
		p.BandEnv, p.BandEnvK, p.BandMinLong, p.BandMin = 0.03, 2, c.min, c.min
		if c.iv > 90 {
			p.BandHoldLong = c.hold
		} else {
			p.BandHold = c.hold
		}
		p.scoreLimits()
		p.seqLimits()
		s := &physCore{p: &p, iv: c.iv, na: c.na, base: 380, last: ts, prev: 510, gap: c.gap, nv: c.nv}
		for i := range s.blk {
			s.blk[i] = c.floor
		}
		s.c[0] = cand{t0: ts - c.held, ref: 395, pre: 400, step: 100, lvl: 100, sf: cOpen, n: 20, sd2: 20 * 4, rq: 4,
			sxx: 100, sxy: c.sxy, ws: c.anchor}
		if c.mem {
			s.mem[0] = sig{w: 100, other: 3}
		}
		if got := s.banded(&cfg, ts, &s.c[0], c.held); got != c.want {
			t.Errorf("%s: banded %v, want %v", c.name, got, c.want)
		}
		if s.c[0].ws != c.wantEnv {
			t.Errorf("%s: envelope %g, want %g", c.name, s.c[0].ws, c.wantEnv)
		}
	}
}

// TestPhysicsBandJudge: judge confirms by the held band, as its last
// path, a noisy step that no other path takes, and the session says so.
func TestPhysicsBandJudge(t *testing.T) {
	cfg := Defaults(devices.KindMeter).Charging
	ts := int64(10 * 3600 * 1000)
	const mn = 60 * 1000
	for _, on := range []bool{false, true} {
		p := DefaultPhysicsParams()
		p.ScoreMin = 0 // the score path off: the band alone
		if on {
			p.BandHoldLong, p.BandMinLong, p.BandEnv, p.BandEnvK = 2*time.Hour, 0, 0.03, 2
		}
		s := &physCore{p: &p, iv: 300, na: 1, base: 380, last: ts, prev: 510, gap: 5 * mn, seg0: ts - 10*mn}
		for i := range s.blk {
			s.blk[i] = 504
		}
		// noisy (10% of the step from reading to reading), not rising
		s.c[0] = cand{t0: ts - 120*mn, ref: 395, pre: 400, step: 100, lvl: 100, sf: cOpen, n: 20, sd2: 20 * 200, rq: 200,
			sxx: 100, sxy: 10, ws: 105}
		ch := s.judge(&cfg, ts, 0)
		if got := ch == ChargeStarted; got != on {
			t.Fatalf("band %v: started %v", on, got)
		}
		if on && chargePaths[s.sPath] != "held in band" {
			t.Errorf("path %q", chargePaths[s.sPath])
		}
	}
}

// TestBandCheckpoint: a running session the held band confirmed is written
// as version 6 and read back with its path; once it ended, the state is
// written as the older versions are, with the path as none; a reader from
// before the band answers version 6 with ErrOtherChargingModel (the
// version check of TestScoreCheckpoint, now 8).
func TestBandCheckpoint(t *testing.T) {
	m := NewPhysicsModel(DefaultPhysicsParams())
	for _, c := range []struct {
		name    string
		chg     uint8
		version byte
		path    string
	}{
		{"running", 1, physVersionBand, "held in band"},
		{"ended", 0, physVersionNoScr, ""},
	} {
		ch := m.New().(*physCharging)
		s := &ch.pc
		s.last, s.prev, s.base, s.iv, s.seg0, s.blkT = t0, 500, 380, 300, t0, t0
		if c.chg > 0 {
			s.c[0] = cand{t0: t0 - 2*3600*1000, ref: 395, pre: 400, step: 100, lvl: 100, sf: cCharge, ws: 104}
		}
		s.chg, s.sT0, s.sLvl, s.sPath, s.sConf = c.chg, t0-2*3600*1000, 100, pathBand, 0.85
		ch.on = c.chg > 0
		b, err := ch.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if v := b[len(physMagic)]; v != c.version {
			t.Errorf("%s: version %d, want %d", c.name, v, c.version)
		}
		back := m.New()
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p := back.Session().Path; p != c.path {
			t.Errorf("%s: path %q, want %q", c.name, p, c.path)
		}
		if c.chg > 0 && back.(*physCharging).pc.c[0].ws != 104 {
			t.Errorf("%s: the envelope was not kept", c.name)
		}
	}
}
