package detect

import (
	"errors"
	"fmt"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

// Threshold is a level rule with hysteresis: the condition starts at the
// first reading at or beyond Raise, fires once it has held for For (0:
// at once), and clears after readings at or within Clear for ClearFor. A
// reading between Clear and Raise keeps whatever state the rule is in, so a
// value hovering at the threshold neither fires and clears nor restarts the
// for-duration.
type Threshold struct {
	Raise    float64       `yaml:"raise"`
	Clear    float64       `yaml:"clear"`
	For      time.Duration `yaml:"for"`
	ClearFor time.Duration `yaml:"clear_for"`
}

// OverloadConfig is the inverse-time overload rule. With m the current as a
// multiple of the rated current, the condition starts at the first reading
// with m above Pickup; it fires when the integral of dt / T(m) reaches 1,
// where T(m) = K / (m² − Pickup²) capped at MaxDelay, and at the first
// reading with m >= Instant. While m is at or under Pickup the integral
// runs down to 0 over Reset. Once firing, it clears after readings at or
// under Clear x rated for ClearFor. docs/alerting.md tabulates the alarm
// times against the breaker's trip times.
type OverloadConfig struct {
	Enabled       bool          `yaml:"enabled"`
	RatedCurrentA float64       `yaml:"rated_current_a"` // used when the registry gives none; 0 disables the rule for such devices
	Pickup        float64       `yaml:"pickup"`          // multiple of rated
	K             float64       `yaml:"k_seconds"`
	MaxDelay      time.Duration `yaml:"max_delay"`
	Instant       float64       `yaml:"instant"` // multiple of rated that fires on the first reading
	Reset         time.Duration `yaml:"reset"`
	Clear         float64       `yaml:"clear"` // multiple of rated
	ClearFor      time.Duration `yaml:"clear_for"`
	MaxGap        time.Duration `yaml:"max_gap"` // longest gap between readings credited to the integral
}

// ChargingConfig configures the indoor-charging detector (first version):
// a persistent step of StepMinW-StepMaxW over the background load, held
// ConfirmAfter without falling back, stable within Stability (mean absolute
// deviation over mean), ends when the step stays under EndBelowW for
// EndAfter.
type ChargingConfig struct {
	Enabled      bool          `yaml:"enabled"`
	StepMinW     float64       `yaml:"step_min_w"`
	StepMaxW     float64       `yaml:"step_max_w"`
	ConfirmAfter time.Duration `yaml:"confirm_after"`
	Stability    float64       `yaml:"stability"`
	EndBelowW    float64       `yaml:"end_below_w"`
	EndAfter     time.Duration `yaml:"end_after"`
	MaxGap       time.Duration `yaml:"max_gap"` // a candidate is dropped across a longer gap in readings
}

// SessionConfig configures the charging-pile session rules.
type SessionConfig struct {
	LongAfter     time.Duration `yaml:"long_after"`     // long_session fires after this long charging
	NoTaperAfter  time.Duration `yaml:"no_taper_after"` // no_taper fires after this long without a taper
	TaperFraction float64       `yaml:"taper_fraction"` // tapered once power falls to this fraction of the session's peak
}

// Config holds every detector threshold for one device. The engine resolves
// one Config per device kind, then applies the overrides for a device, unit
// or building; many devices share one *Config.
type Config struct {
	Charging        ChargingConfig `yaml:"indoor_charging"`
	Overload        OverloadConfig `yaml:"overload"`
	PortOverload    Threshold      `yaml:"port_overload"` // W per pile port
	ResidualCurrent Threshold      `yaml:"residual_current"`
	OverTemperature Threshold      `yaml:"over_temperature"`
	PortOverTemp    Threshold      `yaml:"port_over_temperature"`
	OverVoltage     Threshold      `yaml:"over_voltage"`
	UnderVoltage    Threshold      `yaml:"under_voltage"` // Raise and Clear are upper bounds
	PhaseLossV      float64        `yaml:"phase_loss_v"`  // a phase under this while another is over 150 V is lost
	Session         SessionConfig  `yaml:"session"`
	LowBatteryPct   float64        `yaml:"low_battery_pct"`
	// EventQuiet is how long after a device's last arc_fault, phase_loss,
	// over/under_voltage, over_temperature or overload event its alert
	// clears, judged by the device's later readings.
	EventQuiet time.Duration `yaml:"event_quiet"`
}

// Defaults returns the default thresholds for a device kind, from
// ../shared/domain.md (sources in docs/alerting.md).
func Defaults(k devices.Kind) Config {
	c := Config{
		Charging: ChargingConfig{
			Enabled:  k == devices.KindMeter || k == devices.KindPlug,
			StepMinW: 60, StepMaxW: 300, ConfirmAfter: 30 * time.Minute, Stability: 0.15,
			EndBelowW: 20, EndAfter: 10 * time.Minute, MaxGap: 20 * time.Minute,
		},
		Overload: OverloadConfig{
			Enabled: k == devices.KindMeter || k == devices.KindMonitor || k == devices.KindPlug,
			Pickup:  1.10, K: 40, MaxDelay: 15 * time.Minute, Instant: 2.0,
			Reset: 5 * time.Minute, Clear: 1.0, ClearFor: 2 * time.Minute, MaxGap: 5 * time.Minute,
		},
		PortOverload:    Threshold{Raise: 2000, Clear: 1800, For: 0, ClearFor: time.Minute},
		ResidualCurrent: Threshold{Raise: 300, Clear: 270, For: 0, ClearFor: time.Minute},
		OverTemperature: Threshold{Raise: 80, Clear: 72, For: 20 * time.Second, ClearFor: time.Minute},
		PortOverTemp:    Threshold{Raise: 80, Clear: 72, For: 30 * time.Second, ClearFor: time.Minute},
		OverVoltage:     Threshold{Raise: 270, Clear: 260, For: 30 * time.Second, ClearFor: time.Minute},
		UnderVoltage:    Threshold{Raise: 100, Clear: 110, For: 30 * time.Second, ClearFor: time.Minute},
		PhaseLossV:      50,
		Session:         SessionConfig{LongAfter: 8 * time.Hour, NoTaperAfter: 7*time.Hour + 30*time.Minute, TaperFraction: 0.5},
		LowBatteryPct:   20,
		EventQuiet:      10 * time.Minute,
	}
	if k == devices.KindPlug {
		c.Overload.RatedCurrentA = 10 // GB 2099 household plugs and sockets: 10 A
	}
	if k != devices.KindPile {
		// Mains supply at a meter, monitor or plug: GB/T 12325 allows
		// 220 V +7%/-10% in normal operation; alarm at ±15% (253 V /
		// 187 V). Piles keep their own protocol's 270 V / 100 V (AP3000).
		c.OverVoltage = Threshold{Raise: 253, Clear: 245, For: 30 * time.Second, ClearFor: time.Minute}
		c.UnderVoltage = Threshold{Raise: 187, Clear: 195, For: 30 * time.Second, ClearFor: time.Minute}
	}
	return c
}

// Validate checks the configuration and returns every problem, each naming
// its key under prefix (for example `devices.meter` or `overrides[2]`).
func (c *Config) Validate(prefix string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", prefix, key, fmt.Sprintf(format, args...)))
	}
	th := func(key string, t Threshold, up bool) {
		switch {
		case up && t.Clear > t.Raise:
			bad(key+".clear", "%g must not be above raise %g (it is the hysteresis band's lower edge)", t.Clear, t.Raise)
		case !up && t.Clear < t.Raise:
			bad(key+".clear", "%g must not be below raise %g for an under-threshold", t.Clear, t.Raise)
		}
		if t.For < 0 {
			bad(key+".for", "cannot be negative")
		}
		if t.ClearFor < 0 {
			bad(key+".clear_for", "cannot be negative")
		}
	}
	th("port_overload", c.PortOverload, true)
	th("residual_current", c.ResidualCurrent, true)
	th("over_temperature", c.OverTemperature, true)
	th("port_over_temperature", c.PortOverTemp, true)
	th("over_voltage", c.OverVoltage, true)
	th("under_voltage", c.UnderVoltage, false)
	o := c.Overload
	if o.Enabled {
		if o.Pickup < 1 {
			bad("overload.pickup", "%g must be at least 1 (a multiple of the rated current)", o.Pickup)
		}
		if o.Instant <= o.Pickup {
			bad("overload.instant", "%g must be above pickup %g", o.Instant, o.Pickup)
		}
		if o.Clear > o.Pickup || o.Clear <= 0 {
			bad("overload.clear", "%g must be in (0, pickup %g]", o.Clear, o.Pickup)
		}
		if o.K <= 0 {
			bad("overload.k_seconds", "must be positive")
		}
		if o.MaxDelay <= 0 || o.Reset <= 0 || o.MaxGap <= 0 {
			bad("overload", "max_delay, reset and max_gap must be positive")
		}
		if o.RatedCurrentA < 0 {
			bad("overload.rated_current_a", "cannot be negative")
		}
	}
	ch := c.Charging
	if ch.Enabled {
		if ch.StepMinW <= 0 || ch.StepMaxW <= ch.StepMinW {
			bad("indoor_charging.step_max_w", "need 0 < step_min_w (%g) < step_max_w (%g)", ch.StepMinW, ch.StepMaxW)
		}
		if ch.EndBelowW <= 0 || ch.EndBelowW >= ch.StepMinW {
			bad("indoor_charging.end_below_w", "%g must be in (0, step_min_w %g)", ch.EndBelowW, ch.StepMinW)
		}
		if ch.ConfirmAfter <= 0 || ch.EndAfter <= 0 || ch.MaxGap <= 0 {
			bad("indoor_charging", "confirm_after, end_after and max_gap must be positive")
		}
		if ch.Stability <= 0 {
			bad("indoor_charging.stability", "must be positive")
		}
	}
	if c.Session.LongAfter <= 0 || c.Session.NoTaperAfter <= 0 {
		bad("session", "long_after and no_taper_after must be positive")
	}
	if f := c.Session.TaperFraction; f <= 0 || f >= 1 {
		bad("session.taper_fraction", "%g must be in (0, 1)", f)
	}
	if c.EventQuiet <= 0 {
		bad("event_quiet", "must be positive")
	}
	if c.LowBatteryPct < 0 || c.LowBatteryPct > 100 {
		bad("low_battery_pct", "%g must be in 0..100", c.LowBatteryPct)
	}
	return errors.Join(errs...)
}
