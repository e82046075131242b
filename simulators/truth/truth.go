// Package truth is the simulators' ground truth: one labelled record per
// injected episode (indoor charging, overload, leakage, ...), written as
// JSON Lines so that evaluation can match alerts to episodes.
//
// A record names the episode's kind, where it happened (device, unit,
// building, street, gateway, pile port) and when (start and end, both as
// Unix ms and as Shanghai time), plus kind-specific details such as the
// plateau power of a charger. An episode that touches several devices (a
// building's over-voltage, a street's power cut) has one record per device
// with the same episode id. The last record of a run has kind "run" and
// gives the simulated span, so that evaluation knows which episodes it
// could have seen.
package truth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Kind is the kind of an episode.
type Kind string

// Episode kinds. The place an alert about each should name is given in
// brackets: the unit for charging, the device for electrical hazards.
const (
	IndoorCharging  Kind = "indoor_charging"        // an e-bike charged in a home, shop or workshop [unit; device = its meter or plug]
	Overload        Kind = "overload"               // current above 1.13 × the breaker rating [device]
	Leakage         Kind = "leakage"                // residual current ramping past 300 mA [device: monitor]
	CableOverTemp   Kind = "cable_over_temperature" // a terminal or cable heating past 80 °C [device: monitor; detail channel]
	OverVoltage     Kind = "over_voltage"           // supply above 253 V (+15%) [device]
	UnderVoltage    Kind = "under_voltage"          // supply below 187 V (-15%) [device]
	Smoke           Kind = "smoke"                  // a smoke alarm [device]
	SmokeTest       Kind = "smoke_test"             // a test press: not a fire [device]
	Tamper          Kind = "tamper"                 // detector removed from its base [device]
	LowBattery      Kind = "low_battery"            // detector battery low [device]
	PileCharging    Kind = "pile_charging"          // a legitimate session on a charging pile [device, port]
	OverlongSession Kind = "overlong_session"       // a pile session longer than 8 h [device, port]
	PortOverTemp    Kind = "port_over_temperature"  // a pile port above 80 °C [device, port]
	PileFault       Kind = "pile_fault"             // a pile port fault [device, port]
	DeviceOffline   Kind = "device_offline"         // a device silent (wiring, dead battery, reboot) [device]
	GatewayOffline  Kind = "gateway_offline"        // a gateway cut off from the broker; it replays on return [gateway]
	PowerCut        Kind = "power_cut"              // a street without power: meters, monitors and gateways dark [device]
	MixedUse        Kind = "mixed_use"              // people living in a shop or workshop ("three-in-one") [unit]
	Run             Kind = "run"                    // the simulated span of the run (last record)
)

// Kinds lists every episode kind, for summaries.
func Kinds() []Kind {
	return []Kind{IndoorCharging, Overload, Leakage, CableOverTemp, OverVoltage, UnderVoltage, Smoke,
		SmokeTest, Tamper, LowBattery, PileCharging, OverlongSession, PortOverTemp, PileFault,
		DeviceOffline, GatewayOffline, PowerCut, MixedUse}
}

// Record is one labelled episode.
type Record struct {
	Kind     Kind   `json:"kind"`
	Episode  string `json:"episode"` // shared by the records of one episode
	Device   string `json:"device,omitempty"`
	Gateway  string `json:"gateway,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Building string `json:"building,omitempty"`
	Street   string `json:"street,omitempty"`
	Port     int    `json:"port,omitempty"`
	StartMS  int64  `json:"start_ms"`
	EndMS    int64  `json:"end_ms"`
	Start    string `json:"start"` // RFC 3339, Shanghai time
	End      string `json:"end"`
	// Details are kind-specific: charger type and plateau_w, peak_a and
	// rated_a, peak_ma, peak_c, channel, volts, cause, ...
	Details map[string]any `json:"details,omitempty"`
}

// Duration returns the episode's length in ms.
func (r *Record) Duration() int64 { return r.EndMS - r.StartMS }

// Overlaps reports whether the episode overlaps [from, to) (Unix ms).
func (r *Record) Overlaps(from, to int64) bool { return r.StartMS < to && r.EndMS > from }

// Stamp fills Start and End from StartMS and EndMS.
func (r *Record) Stamp() {
	r.Start, r.End = simtime.Format(r.StartMS), simtime.Format(r.EndMS)
}

// Writer writes records as JSON Lines and counts them by kind.
type Writer struct {
	w      *bufio.Writer
	counts map[Kind]int
	err    error
}

// NewWriter returns a writer to w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriter(w), counts: map[Kind]int{}}
}

// Write writes one record (filling Start and End).
func (w *Writer) Write(r *Record) error {
	if w.err != nil {
		return w.err
	}
	r.Stamp()
	b, err := json.Marshal(r) // map keys are sorted: deterministic
	if err != nil {
		w.err = fmt.Errorf("encode truth record %s %s: %w", r.Kind, r.Episode, err)
		return w.err
	}
	b = append(b, '\n')
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("write truth: %w", err)
		return w.err
	}
	w.counts[r.Kind]++
	return nil
}

// Flush flushes buffered records.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write truth: %w", err)
	}
	return w.err
}

// Counts returns the number of records written per kind (Run excluded),
// kinds in Kinds order.
func (w *Writer) Counts() []KindCount {
	return countsOf(w.counts)
}

// KindCount is a count of records of one kind.
type KindCount struct {
	Kind  Kind
	Count int
}

func countsOf(m map[Kind]int) []KindCount {
	var out []KindCount
	for _, k := range Kinds() {
		if m[k] > 0 {
			out = append(out, KindCount{k, m[k]})
		}
	}
	return out
}

// Read reads a JSON Lines truth file.
func Read(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return out, fmt.Errorf("truth line %d: %w", line, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

// Episodes merges the records of one kind per place into episodes: records
// with the same episode id become one, and for the kinds whose place is a
// unit (indoor charging, mixed use), overlapping records in the same unit
// become one (two bikes charging at once is one hazard). The result is
// sorted by start. This is the set evaluation should match alerts against.
func Episodes(recs []Record, kind Kind) []Record {
	var sel []Record
	for _, r := range recs {
		if r.Kind == kind {
			sel = append(sel, r)
		}
	}
	slices.SortStableFunc(sel, func(a, b Record) int {
		if c := cmpStr(placeOf(&a), placeOf(&b)); c != 0 {
			return c
		}
		return cmpInt(a.StartMS, b.StartMS)
	})
	var out []Record
	for _, r := range sel {
		if n := len(out); n > 0 && placeOf(&out[n-1]) == placeOf(&r) && r.StartMS <= out[n-1].EndMS {
			out[n-1].EndMS = max(out[n-1].EndMS, r.EndMS)
			out[n-1].Stamp()
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Record) int { return cmpInt(a.StartMS, b.StartMS) })
	return out
}

// placeOf is where an alert about the record is raised.
func placeOf(r *Record) string {
	switch r.Kind {
	case IndoorCharging, MixedUse:
		return "unit/" + r.Unit
	case GatewayOffline:
		return "gateway/" + r.Gateway
	}
	if r.Port != 0 {
		return fmt.Sprintf("device/%s/%d", r.Device, r.Port)
	}
	return "device/" + r.Device
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
