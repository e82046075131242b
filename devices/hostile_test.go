package devices

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestHostileInput feeds every decoder input built to hurt it: each must end
// quickly in a clear rejection, never a panic, a hang or deep recursion.
func TestHostileInput(t *testing.T) {
	now := `"ts":1767225600000,"seq":1`
	digits400 := "1" + strings.Repeat("0", 399)
	digits300 := "1" + strings.Repeat("0", 299)
	longKey := strings.Repeat("k", 60000)
	cases := []struct {
		name    string
		payload string
		reason  Reason
		msg     []string
		item    bool // rejected as an item, not the whole message
	}{
		{"10000 brackets", strings.Repeat("[", 10000), ReasonMalformedJSON, []string{"each reading must be a JSON object", "array"}, false},
		{"10000 brackets closed", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), ReasonMalformedJSON, []string{"array"}, false},
		{"10000 brackets in a value", `{` + now + `,"x":` + strings.Repeat("[", 10000), ReasonMalformedJSON, []string{"nesting too deep"}, false},
		{"10000 objects in a value", `{` + now + `,"x":` + strings.Repeat(`{"a":`, 10000), ReasonMalformedJSON, []string{"nesting too deep"}, false},
		{"10000 brackets as a field", `{` + now + `,"pf":` + strings.Repeat("[", 10000), ReasonMalformedJSON, []string{"pf", "nesting too deep"}, false},
		{"1e400", `{` + now + `,"power_w":1e400}`, ReasonNonFinite, []string{"power_w", "overflows"}, true},
		{"-1e400", `{` + now + `,"power_w":-1e400}`, ReasonNonFinite, []string{"power_w"}, true},
		{"1e-400 is zero", `{` + now + `,"power_w":1e-400,"pf":2}`, ReasonOutOfRange, []string{"pf 2"}, true},
		{"exponent of 10000 digits", `{` + now + `,"power_w":1e` + strings.Repeat("9", 10000) + `}`, ReasonNonFinite, []string{"power_w"}, true},
		{"400-digit integer", `{` + now + `,"energy_kwh":` + digits400 + `}`, ReasonNonFinite, []string{"energy_kwh"}, true},
		{"300-digit integer", `{` + now + `,"energy_kwh":` + digits300 + `}`, ReasonOutOfRange, []string{"energy_kwh 1e+299", "0..1e+09"}, true},
		{"400-digit fraction", `{` + now + `,"pf":0.` + strings.Repeat("3", 400) + `}`, "", nil, true},
		{"60000-digit integer", `{` + now + `,"energy_kwh":` + "1" + strings.Repeat("0", 60000) + `}`, ReasonNonFinite, []string{"energy_kwh"}, true},
		{"400-digit seq", `{"ts":1767225600000,"seq":` + digits400 + `,"pf":1}`, ReasonNonFinite, []string{"seq"}, true},
		{"300-digit ts", `{"ts":` + digits300 + `,"seq":1,"pf":1}`, ReasonTimestamp, []string{"ts 1e+299"}, true},
		{"invalid UTF-8 key", "{" + now + ",\"\xff\xfe\":1}", ReasonMalformedJSON, []string{"UTF-8"}, false},
		{"invalid UTF-8 escaped key", "{" + now + ",\"\\n\xc0\":1}", ReasonMalformedJSON, []string{"UTF-8"}, false},
		{"invalid UTF-8 string", "{" + now + ",\"x\":\"\xe2\x82\"}", ReasonMalformedJSON, []string{"UTF-8"}, false},
		{"UTF-16 surrogate as UTF-8", "{" + now + ",\"x\":\"\xed\xa0\x80\"}", ReasonMalformedJSON, []string{"UTF-8"}, false},
		{"invalid UTF-8 state", "{" + now + ",\"state\":\"\xff\"}", ReasonMalformedJSON, []string{"UTF-8"}, false},
		{"NUL escape in key", `{` + now + `,"\u0000":1}`, ReasonUnknownField, []string{`"\x00"`}, true},
		{"NUL escape in known key", `{` + now + `,"pf\u0000":1}`, ReasonUnknownField, []string{`"pf\x00"`}, true},
		{"raw NUL in key", "{" + now + ",\"\x00\":1}", ReasonMalformedJSON, []string{"control character"}, false},
		{"very long key", `{` + now + `,"` + longKey + `":1}`, ReasonUnknownField, []string{`kkkk"...`}, true},
		{"very long escaped key", `{` + now + `,"` + strings.Repeat(`\u0001`, 10000) + `":1}`, ReasonUnknownField, []string{`\x01\x01`}, true},
		{"very long state", `{` + now + `,"state":"` + longKey + `"}`, ReasonUnknownField, nil, true}, // meter: state is not in its vocabulary
		{"many unknown keys", `{` + now + strings.Repeat(`,"x":1`, 9000) + `}`, ReasonUnknownField, []string{`"x"`}, true},
		{"many duplicate fields", `{` + now + strings.Repeat(`,"pf":1`, 9000) + `}`, ReasonMalformedJSON, []string{"duplicate", `"pf"`}, true},
		{"unterminated long string", `{` + now + `,"x":"` + longKey, ReasonMalformedJSON, []string{"unterminated"}, false},
		{"only whitespace", strings.Repeat(" ", 65536), ReasonMalformedJSON, []string{"empty"}, false},
		{"NUL bytes", strings.Repeat("\x00", 1000), ReasonMalformedJSON, []string{"invalid JSON"}, false},
		{"500 empty objects", "[" + strings.Repeat("{},", 499) + "{}]", ReasonMissingField, nil, true},
		{"10000 empty objects", "[" + strings.Repeat("{},", 9999) + "{}]", ReasonTooManyReadings, []string{"500"}, false},
	}
	d := NewDecoder(DefaultLimits())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			rs, errs, err := d.DecodeTelemetry(KindMeter, []byte(c.payload), testNow, nil, nil)
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v", took)
			}
			if c.item {
				if err != nil {
					t.Fatalf("message rejected: %s", err.Msg)
				}
				if c.reason == "" {
					if len(rs) != 1 || len(errs) != 0 {
						t.Fatalf("want the reading kept: %v", errs)
					}
					return
				}
				if len(errs) == 0 {
					t.Fatalf("accepted: %+v", rs)
				}
				for _, ie := range errs {
					checkError(t, "item", ie.Err, c.reason, c.msg)
					if len(ie.Err.Msg) > 400 {
						t.Errorf("message of %d bytes", len(ie.Err.Msg))
					}
				}
				return
			}
			checkError(t, "message", err, c.reason, c.msg)
			if len(err.Msg) > 400 {
				t.Errorf("message of %d bytes", len(err.Msg))
			}
		})
	}
}

// TestHostileOversize checks that a 10 MB payload is turned away by its
// size alone, before the scanner looks at a single byte.
func TestHostileOversize(t *testing.T) {
	big := bytes.Repeat([]byte("["), 10<<20)
	d := NewDecoder(DefaultLimits())
	_, _, err := d.DecodeTelemetry(KindMeter, big, testNow, nil, nil)
	checkError(t, "telemetry", err, ReasonOversize, []string{"10485760 bytes", "65536"})
	_, _, err = d.DecodeEvents(KindSmoke, big, testNow, nil, nil)
	checkError(t, "events", err, ReasonOversize, nil)
	_, err = d.DecodeStatus(big, testNow)
	checkError(t, "status", err, ReasonOversize, nil)
	if d.s.b != nil || d.s.pos != 0 {
		t.Error("the scanner looked at an oversize payload")
	}
}

// TestHostileEventsAndStatus runs the nesting and encoding attacks against
// the event and status decoders.
func TestHostileEventsAndStatus(t *testing.T) {
	d := NewDecoder(DefaultLimits())
	for _, p := range []string{
		strings.Repeat("[", 10000),
		strings.Repeat("{", 10000),
		`{"ts":1767225600000,"seq":1,"type":"fault","detail":` + strings.Repeat("[", 10000),
		`{"ts":1767225600000,"seq":1,"type":"fault","detail":"` + strings.Repeat("x", 60000) + `"}`,
		"{\"ts\":1767225600000,\"seq\":1,\"type\":\"fault\",\"detail\":\"\xff\"}",
		`{"ts":1767225600000,"seq":1,"type":"fault","code":` + strings.Repeat("9", 60000) + `}`,
		`{"ts":1767225600000,"seq":1,"type":"` + strings.Repeat("x", 60000) + `"}`,
	} {
		evs, errs, err := d.DecodeEvents(KindSmoke, []byte(p), testNow, nil, nil)
		if len(evs) != 0 {
			t.Errorf("accepted %.40q", p)
		}
		if err == nil && len(errs) == 0 {
			t.Errorf("no error for %.40q", p)
		}
		if err != nil && len(err.Msg) > 400 {
			t.Errorf("message of %d bytes", len(err.Msg))
		}
		for _, ie := range errs {
			if len(ie.Err.Msg) > 400 {
				t.Errorf("message of %d bytes: %.100s", len(ie.Err.Msg), ie.Err.Msg)
			}
		}
		_, serr := d.DecodeStatus([]byte(p), testNow)
		if serr == nil || len(serr.Msg) > 400 {
			t.Errorf("status of %.40q: %v", p, serr)
		}
	}
}
