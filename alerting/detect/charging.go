package detect

import (
	"errors"
	"math"
	"unsafe"
)

// ChargeChange is what a charging detector reports for one reading.
type ChargeChange uint8

// Charge changes.
const (
	ChargeNone    ChargeChange = iota
	ChargeStarted              // a charging session is confirmed (it started at Session().Start)
	ChargeEnded                // the confirmed session ended
)

// ChargeSession describes a charging session for the alert's evidence.
type ChargeSession struct {
	Start  int64   // event time of the first reading of the step
	BaseW  float64 // background load before the step
	StartW float64 // total power at the first reading of the step
	StepW  float64 // smoothed step over the background
	PeakW  float64 // largest step seen
	// Confidence (0-1) that this is a charge, from how it was confirmed;
	// 0 when the model does not say (StepModel).
	Confidence float64
	Path       string // how it was confirmed, e.g. "fast" or "rise (var)"; "" when not said
}

// ChargeReading is what a charging detector gets of one reading: the
// active power, and the non-active power when the meter gives a power
// factor or current and voltage.
type ChargeReading struct {
	PowerW    float64 // active power, W
	NonActive float64 // non-active power sqrt(S²-P²), var (reactive and distortion); valid when HasNA
	HasNA     bool
}

// Charging detects e-bike charging in one device's power series (active
// power, and non-active power when the readings allow), on event time. An
// implementation keeps bounded state (it is per device: about a kilobyte
// at most), does not allocate per reading, and round-trips through
// MarshalBinary and UnmarshalBinary so that a running session survives a
// restart. The engine feeds it only readings with power_w, in event-time
// order, from meters and plugs in units that are not designated charging
// rooms.
type Charging interface {
	Observe(cfg *ChargingConfig, ts int64, r ChargeReading) ChargeChange
	Session() ChargeSession
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// ChargingModel makes a device's charging detector. The engine takes one
// model: StepModel is the first version, PhysicsModel its replacement
// (charging_physics.go, docs/detection.md).
type ChargingModel interface {
	New() Charging
}

// ChargingModelFunc adapts a function to ChargingModel.
type ChargingModelFunc func() Charging

// New calls f.
func (f ChargingModelFunc) New() Charging { return f() }

// StepModel is the first-version charging detector: a persistent step of
// StepMinW..StepMaxW over the background load that holds for ConfirmAfter,
// stable (chargers run in constant current, with power rising slowly as the
// pack voltage rises), and ends when the step falls under the float level
// EndBelowW for EndAfter (after the taper, or when unplugged). It rejects
// kW resistive loads (a step above StepMaxW is another load, not a
// charger) and compressor cycles shorter than ConfirmAfter. It does not
// separate chargers from other stable loads in the band that run longer
// than ConfirmAfter (a television, a desktop PC, lighting): PhysicsModel
// does; docs/detection-history.md compares the two (held out).
var StepModel ChargingModel = ChargingModelFunc(func() Charging { return new(stepCharging) })

const (
	phaseIdle uint8 = iota
	phaseCandidate
	phaseCharging
)

// stepCharging is StepModel's per-device state. 56 bytes.
type stepCharging struct {
	last   int64   // event time of the last reading
	start  int64   // first reading of the step
	low    int64   // first reading under EndBelowW while charging; 0 otherwise
	big    int64   // first reading of a rise above StepMaxW while idle; 0 otherwise
	base   float32 // background load
	startP float32 // total power at the start of the step
	level  float32 // smoothed step
	dev    float32 // smoothed absolute deviation of the step from level
	peak   float32
	phase  uint8
}

func (s *stepCharging) Observe(cfg *ChargingConfig, ts int64, r ChargeReading) ChargeChange {
	p := r.PowerW
	if s.last == 0 {
		s.last, s.base = ts, float32(math.Max(p, 0))
		return ChargeNone
	}
	gap := ts - s.last
	s.last = ts
	if s.phase == phaseCandidate && gap > ms(cfg.MaxGap) {
		s.phase = phaseIdle
	}
	step := p - float64(s.base)
	switch s.phase {
	case phaseIdle:
		switch {
		case step >= cfg.StepMinW && step <= cfg.StepMaxW:
			s.phase, s.start, s.startP = phaseCandidate, ts, float32(p)
			s.level, s.peak, s.dev, s.low, s.big = float32(step), float32(step), 0, 0, 0
		case step > cfg.StepMaxW:
			// A big load (a heater, a cooker) is not a charger; once it
			// has run for ten minutes it is the new background, so that a
			// charger plugged in on top of it is seen. Creeping towards it
			// instead would pass through the charger band.
			if s.big == 0 {
				s.big = ts
			}
			if ts-s.big >= 10*60*1000 {
				s.base, s.big = float32(p), 0
			}
		case p < float64(s.base):
			// The background follows drops at once and small rises slowly,
			// so it tracks the floor of the load.
			s.base, s.big = float32(math.Max(p, 0)), 0
		default:
			s.base += float32(0.1 * (p - float64(s.base)))
			s.big = 0
		}
	case phaseCandidate, phaseCharging:
		if step < -cfg.StepMinW {
			// The background fell (the heater under the charger went off):
			// keep the step, lower the background.
			s.base = float32(math.Max(p-float64(s.level), 0))
			step = float64(s.level)
		}
	}
	switch s.phase {
	case phaseCandidate:
		switch {
		case step > cfg.StepMaxW*1.5:
			// Another load on top (a kettle, a heater): neither confirms
			// nor ends the candidate.
		case step < cfg.StepMinW*0.5:
			s.phase, s.base = phaseIdle, float32(math.Max(p, 0))
		default:
			s.track(step)
			if ts-s.start >= ms(cfg.ConfirmAfter) &&
				float64(s.level) >= cfg.StepMinW*0.8 && float64(s.level) <= cfg.StepMaxW*1.2 &&
				float64(s.dev) <= cfg.Stability*float64(s.level) {
				s.phase = phaseCharging
				return ChargeStarted
			}
		}
	case phaseCharging:
		if step < cfg.EndBelowW {
			if s.low == 0 {
				s.low = ts
			}
			if ts-s.low >= ms(cfg.EndAfter) {
				s.phase, s.base, s.low = phaseIdle, float32(math.Max(p, 0)), 0
				return ChargeEnded
			}
			return ChargeNone
		}
		s.low = 0
		if step <= cfg.StepMaxW*1.5 {
			s.track(step)
		}
	}
	return ChargeNone
}

func (s *stepCharging) track(step float64) {
	const a = 0.2
	s.dev += float32(a * (math.Abs(step-float64(s.level)) - float64(s.dev)))
	s.level += float32(a * (step - float64(s.level)))
	if float32(step) > s.peak {
		s.peak = float32(step)
	}
}

func (s *stepCharging) Session() ChargeSession {
	return ChargeSession{
		Start: s.start, BaseW: float64(s.base), StartW: float64(s.startP),
		StepW: float64(s.level), PeakW: float64(s.peak),
	}
}

func (s *stepCharging) MarshalBinary() ([]byte, error) {
	var e enc
	e.i64(s.last)
	e.i64(s.start)
	e.i64(s.low)
	e.i64(s.big)
	e.f32(s.base)
	e.f32(s.startP)
	e.f32(s.level)
	e.f32(s.dev)
	e.f32(s.peak)
	e.u8(s.phase)
	return e.b, nil
}

func (s *stepCharging) UnmarshalBinary(b []byte) error {
	d := dec{b: b}
	s.last = d.i64()
	s.start = d.i64()
	s.low = d.i64()
	s.big = d.i64()
	s.base = d.f32()
	s.startP = d.f32()
	s.level = d.f32()
	s.dev = d.f32()
	s.peak = d.f32()
	s.phase = d.u8()
	if d.err != nil || s.phase > phaseCharging {
		return errors.New("charging detector state is corrupt")
	}
	return nil
}

// Size returns the detector's size in bytes.
func (s *stepCharging) Size() int { return int(unsafe.Sizeof(*s)) }
