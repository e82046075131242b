// Package scenario reads and validates cw-sim scenario files: which city to
// simulate (a registry site file, or one generated from a few numbers), over
// which span and on which clock, with which habits and hazard rates, and
// where the traffic goes.
//
// Decoding is strict: unknown keys, wrong types and values out of range are
// errors, and every problem is reported at once as "FILE:LINE: KEY:
// message" (the registry's site-file format), sorted by line.
// docs/simulators.md has a commented example; Example returns it.
package scenario

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chargewatch/chargewatch/simulators/household"
)

// Clock is how simulated time relates to the wall clock.
type Clock uint8

// Clocks.
const (
	// Live runs in real time from now (with demo: from a short replayed
	// history before now), for as long as the span says or until stopped.
	Live Clock = iota
	// Backfill simulates a past span ending now, as fast as it can, so
	// every timestamp lies inside the ingest window.
	Backfill
	// Files simulates any span from a given start, as fast as it can, with
	// no limit on its length; for file outputs and offline evaluation.
	Files
)

var clockNames = []string{"live", "backfill", "files"}

func (c Clock) String() string { return clockNames[c] }

// ParseClock parses live, backfill or files.
func ParseClock(s string) (Clock, bool) {
	for i, n := range clockNames {
		if n == s {
			return Clock(i), true
		}
	}
	return 0, false
}

// MaxBackfill is the longest backfill span: a day less than the ingest
// window of 10 days, so the oldest reading is still accepted after a long
// publish.
const MaxBackfill = 9 * 24 * time.Hour

// DemoHistory is how much history a live demo replays before now, so that
// an indoor charging session is already well under way when it starts.
const DemoHistory = 2 * time.Hour

// Scenario is a validated scenario file.
type Scenario struct {
	File  string        // where it was read from; relative paths in it are relative to its folder
	Seed  uint64        // same seed, same traffic
	Clock Clock         // live, backfill or files
	Span  time.Duration // simulated time; 0 with the live clock runs until stopped
	Start time.Time     // first instant (files clock only)
	Demo  bool          // script an episode of each kind into the first minutes (live clock)

	Site     string    // registry site file to simulate, resolved against File's folder
	Generate *Generate // or a city to generate

	Intervals  Intervals
	Households Households
	EBikes     EBikes
	Hazards    Hazards
	MQTT       MQTT
	Output     Output
}

// Generate describes a city to generate.
type Generate struct {
	Districts            int
	StreetsPerDistrict   int
	CommunitiesPerStreet int
	Buildings            int // in total, spread over the communities
	UnitsPerBuilding     int
	UnitsPerFloor        int
	Shops                float64 // share of ground-floor units that are shops
	Workshops            float64 // share of ground-floor units that are workshops or storerooms
	MixedUse             float64 // share of shops and workshops where people live
	ChargingRooms        int     // designated charging rooms per community
	PilesPerRoom         int
	PortsPerPile         int
	SmokeDetectors       float64 // share of units with a smoke detector
	NBIoT                float64 // share of detectors that connect by themselves (NB-IoT)
	Monitors             bool    // an electrical-fire monitor at every building's main panel
	Plugs                float64 // share of residential units with a metering smart plug
	RatedA               float64 // breaker rating of a flat
	Lat, Lon             float64 // centre of the city
}

// Intervals are the reading intervals of a generated city's devices.
type Intervals struct {
	Meter, Monitor, Pile, Smoke, Plug time.Duration
}

// Households tunes the household load model.
type Households struct {
	Season household.Season
}

// EBikes sets the charging habits.
type EBikes struct {
	IndoorUnits     float64 // share of homes (and mixed-use units) where an e-bike is charged indoors
	SessionsPerWeek float64 // charges per week in such a home
	Lithium         float64 // weights of the charger families
	LeadAcid        float64
	HighPower       float64
	TwoBikes        float64 // share of charging homes with two bikes, often charged together
	LeftPlugged     float64 // share of charges left on the charger hours after full
	NightStart      float64 // share of charges plugged in after midnight
	TopUp           float64 // share of home charges begun with the pack already 70-90% full
	PileSessions    float64 // sessions per pile port per day in charging rooms
}

// Hazards are the expected numbers of episodes per thing and day.
type Hazards struct {
	Overload       float64 // per unit-day
	Leakage        float64 // per monitor-day
	CableOverTemp  float64 // per monitor-day
	OverVoltage    float64 // per building-day
	UnderVoltage   float64 // per building-day
	SmokeAlarm     float64 // per detector-day
	SmokeTest      float64 // per detector-day
	Tamper         float64 // per detector-day
	LowBattery     float64 // per detector-day
	DeviceOffline  float64 // per device-day
	GatewayOffline float64 // per gateway-day
	PowerCut       float64 // per street-day
	PileFault      float64 // per port-day
	PortOverTemp   float64 // per port-day
}

// MQTT sets how traffic is published.
type MQTT struct {
	QoS         byte          // 0 or 1
	Batch       int           // readings per telemetry message (a gateway's batch of one device)
	InFlight    int           // messages sent and not yet acknowledged, per run
	StatusEvery time.Duration // how often a gateway refreshes its retained status
}

// Output says where traffic and truth are written besides MQTT.
type Output struct {
	Dir    string // readings and events as files ("" for none)
	Format string // csv or jsonl
	Truth  string // ground-truth JSONL file ("" for none)
}

// Default returns the scenario that every file starts from: a small city
// generated with seed 1, backfilled over a day.
func Default() *Scenario {
	return &Scenario{
		Seed:  1,
		Clock: Backfill,
		Span:  24 * time.Hour,
		Intervals: Intervals{
			Meter: time.Minute, Monitor: time.Minute, Pile: 5 * time.Minute,
			Smoke: 24 * time.Hour, Plug: time.Minute,
		},
		EBikes: EBikes{
			IndoorUnits: 0.08, SessionsPerWeek: 4,
			Lithium: 0.55, LeadAcid: 0.3, HighPower: 0.15,
			TwoBikes: 0.15, LeftPlugged: 0.4, NightStart: 0.15, TopUp: 0.15, PileSessions: 1.2,
		},
		Hazards: Hazards{
			Overload: 0.002, Leakage: 0.01, CableOverTemp: 0.005,
			OverVoltage: 0.003, UnderVoltage: 0.005,
			SmokeAlarm: 0.0005, SmokeTest: 0.03, Tamper: 0.0005, LowBattery: 0.001,
			DeviceOffline: 0.001, GatewayOffline: 0.002, PowerCut: 0.005,
			PileFault: 0.005, PortOverTemp: 0.002,
		},
		MQTT:   MQTT{QoS: 1, Batch: 1, InFlight: 1000, StatusEvery: 10 * time.Minute},
		Output: Output{Format: "csv"},
	}
}

// DefaultGenerate is the city generated when a scenario gives neither site
// nor generate, and the defaults of every generate key.
func DefaultGenerate() Generate {
	return Generate{
		Districts: 1, StreetsPerDistrict: 2, CommunitiesPerStreet: 2,
		Buildings: 20, UnitsPerBuilding: 10, UnitsPerFloor: 2,
		Shops: 0.3, Workshops: 0.1, MixedUse: 0.3,
		ChargingRooms: 1, PilesPerRoom: 2, PortsPerPile: 10,
		SmokeDetectors: 1, NBIoT: 0.1, Monitors: true, Plugs: 0.05, RatedA: 32,
		Lat: 30.2741, Lon: 120.1551, // Hangzhou
	}
}

// ForSite returns the default scenario for a registry site file: the live
// clock, as `cw-sim run --site FILE` uses.
func ForSite(path string) *Scenario {
	s := Default()
	s.Clock = Live
	s.Span = 0
	s.Site = path
	return s
}

// Load reads and validates the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(path, data)
}

// Window returns the simulated span [from, to) for a run started at now.
// A live run without a span returns the zero time as to.
func (s *Scenario) Window(now time.Time) (from, to time.Time) {
	switch s.Clock {
	case Backfill:
		return now.Add(-s.Span), now
	case Files:
		return s.Start, s.Start.Add(s.Span)
	}
	from = now
	if s.Demo {
		from = now.Add(-DemoHistory)
	}
	if s.Span == 0 {
		return from, time.Time{}
	}
	return from, now.Add(s.Span)
}

// resolve makes p relative to the scenario file's folder.
func (s *Scenario) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || s.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(s.File), p)
}

//go:embed example.yaml
var example []byte

// Example returns the commented example scenario (every key with its
// default), which `cw-sim example` prints.
func Example() []byte { return slices.Clone(example) }

// Check validates the rules that tie keys together, for a scenario changed
// after parsing (command-line flags override its values).
func (s *Scenario) Check() error {
	var errs []error
	switch s.Clock {
	case Backfill:
		if s.Span <= 0 || s.Span > MaxBackfill {
			errs = append(errs, fmt.Errorf("a backfill span must be more than 0 and at most %s (the ingest window is 10 days), got %s", fmtDur(MaxBackfill), s.Span))
		}
	case Files:
		if s.Start.IsZero() {
			errs = append(errs, errors.New("the files clock needs a start: set start: in the scenario"))
		}
		if s.Span <= 0 {
			errs = append(errs, errors.New("the files clock needs a span greater than 0"))
		}
	}
	if s.Demo && s.Clock != Live {
		errs = append(errs, errors.New("demo needs the live clock"))
	}
	if s.MQTT.QoS > 1 {
		errs = append(errs, fmt.Errorf("qos %d: use 0 or 1", s.MQTT.QoS))
	}
	if s.MQTT.Batch < 1 || s.MQTT.Batch > 500 {
		errs = append(errs, fmt.Errorf("batch %d: use 1 to 500 readings a message", s.MQTT.Batch))
	}
	if s.Output.Format != "csv" && s.Output.Format != "jsonl" {
		errs = append(errs, fmt.Errorf("format %q: use csv or jsonl", s.Output.Format))
	}
	return errors.Join(errs...)
}
