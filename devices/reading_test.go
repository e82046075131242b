package devices

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rd builds a reading object with ts = testNow and seq = 1 around fields.
func rd(fields string) string {
	if fields == "" {
		return fmt.Sprintf(`{"ts":%d,"seq":1}`, testNow)
	}
	return fmt.Sprintf(`{"ts":%d,"seq":1,%s}`, testNow, fields)
}

// hintWords are the imperative verbs with which error messages say how to
// fix the problem. Every rejection message must contain one.
var hintWords = []string{
	"send", "add", "use ", "remove", "check", "split", "write", "register",
	"leave", "shorten", "restart", "escape", "close", "synchronise",
	"multiply", "divide", "map ", "publish", "start", "separate",
}

func hasHint(msg string) bool {
	for _, w := range hintWords {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// checkError checks the invariants of every rejection: a reason from
// Reasons, a message that hints at the fix, and the wanted substrings.
func checkError(t *testing.T, what string, e *Error, want Reason, subs []string) {
	t.Helper()
	if e == nil {
		t.Fatalf("%s: no error, want %s", what, want)
	}
	if !slices.Contains(Reasons, e.Reason) {
		t.Errorf("%s: reason %q is not in Reasons", what, e.Reason)
	}
	if want != "" && e.Reason != want {
		t.Errorf("%s: reason %s, want %s (%s)", what, e.Reason, want, e.Msg)
	}
	if e.Msg == "" || e.Error() != e.Msg {
		t.Errorf("%s: empty message", what)
	}
	if !hasHint(e.Msg) {
		t.Errorf("%s: message %q does not say how to fix it", what, e.Msg)
	}
	for _, s := range subs {
		if !strings.Contains(e.Msg, s) {
			t.Errorf("%s: message %q does not contain %q", what, e.Msg, s)
		}
	}
}

type wantItem struct {
	idx    int
	reason Reason
	msg    []string
}

type teleCase struct {
	name    string
	kind    Kind   // 0 means KindMeter
	lim     Limits // zero means DefaultLimits
	now     int64  // 0 means testNow
	payload string
	n       int        // readings kept
	items   []wantItem // per-reading rejections
	err     Reason     // message-level rejection
	msg     []string   // substrings of the message-level error
}

var sentinelReading = Reading{TS: 42, Seq: 42}
var sentinelItem = ItemError{Index: -42}

func runTele(t *testing.T, c teleCase) []Reading {
	t.Helper()
	kind := c.kind
	if kind == KindUnknown {
		kind = KindMeter
	}
	lim := c.lim
	if lim == (Limits{}) {
		lim = DefaultLimits()
	}
	now := c.now
	if now == 0 {
		now = testNow
	}
	d := NewDecoder(lim)
	// dst and errs already hold an item: the decoder must append after it
	// and, on a message-level error, give them back as they were.
	rs, errs, err := d.DecodeTelemetry(kind, []byte(c.payload), now, []Reading{sentinelReading}, []ItemError{sentinelItem})
	if len(rs) == 0 || rs[0] != sentinelReading || len(errs) == 0 || errs[0] != sentinelItem {
		t.Fatalf("decoder dropped what dst/errs held before: %v %v", len(rs), errs)
	}
	rs, errs = rs[1:], errs[1:]
	if c.err != "" {
		checkError(t, "message", err, c.err, c.msg)
		if len(rs) != 0 || len(errs) != 0 {
			t.Errorf("message rejected but %d readings and %d item errors appended", len(rs), len(errs))
		}
		return nil
	}
	if err != nil {
		t.Fatalf("unexpected message error: %s: %s", err.Reason, err.Msg)
	}
	if len(rs) != c.n {
		t.Errorf("kept %d readings, want %d (errs %v)", len(rs), c.n, errs)
	}
	if len(errs) != len(c.items) {
		for _, e := range errs {
			t.Logf("item %d: %s: %s", e.Index, e.Err.Reason, e.Err.Msg)
		}
		t.Fatalf("%d item errors, want %d", len(errs), len(c.items))
	}
	for i, w := range c.items {
		if errs[i].Index != w.idx {
			t.Errorf("item error %d has index %d, want %d", i, errs[i].Index, w.idx)
		}
		checkError(t, fmt.Sprintf("item %d", w.idx), errs[i].Err, w.reason, w.msg)
	}
	return rs
}

const day = 24 * time.Hour

var teleCases = []teleCase{
	// Shapes.
	{name: "single", payload: rd(`"voltage_v":230`), n: 1},
	{name: "array of one", payload: "[" + rd(`"voltage_v":230`) + "]", n: 1},
	{name: "array", payload: "[" + rd(`"voltage_v":230`) + "," + rd(`"power_w":-5`) + "]", n: 2},
	{name: "white space", payload: " \t\r\n[ \n" + strings.ReplaceAll(rd(`"voltage_v" : 230`), ",", " ,\n ") + " ]\n", n: 1},
	{name: "empty array", payload: `[]`, err: ReasonMalformedJSON, msg: []string{"empty array"}},
	{name: "empty array with space", payload: ` [ ] `, err: ReasonMalformedJSON, msg: []string{"empty array"}},
	{name: "empty object", payload: `{}`, items: []wantItem{{0, ReasonMissingField, []string{"empty object", "ts", "seq"}}}},
	{name: "empty object in array", payload: `[{}, ` + rd(`"pf":1`) + `]`, n: 1, items: []wantItem{{0, ReasonMissingField, []string{"empty object"}}}},
	{name: "empty payload", payload: ``, err: ReasonMalformedJSON, msg: []string{"empty"}},
	{name: "only space", payload: " \n ", err: ReasonMalformedJSON, msg: []string{"empty"}},
	{name: "number payload", payload: `230`, err: ReasonMalformedJSON, msg: []string{"object or an array", "number"}},
	{name: "string payload", payload: `"hi"`, err: ReasonMalformedJSON, msg: []string{"string"}},
	{name: "null payload", payload: `null`, err: ReasonMalformedJSON, msg: []string{"null"}},
	{name: "array of numbers", payload: `[1,2]`, err: ReasonMalformedJSON, msg: []string{"each reading must be a JSON object", "number"}},
	{name: "nested array", payload: `[[` + rd(`"pf":1`) + `]]`, err: ReasonMalformedJSON, msg: []string{"array"}},
	{name: "unknown kind", kind: numKinds, payload: rd(`"pf":1`), err: ReasonUnknownDevice, msg: []string{"kind 6", "register"}},

	// Required keys.
	{name: "missing ts", payload: `{"seq":1,"voltage_v":230}`, items: []wantItem{{0, ReasonMissingField, []string{"no ts", "Unix milliseconds"}}}},
	{name: "missing seq", payload: fmt.Sprintf(`{"ts":%d,"voltage_v":230}`, testNow), items: []wantItem{{0, ReasonMissingField, []string{"no seq", "seq_reset"}}}},
	{name: "no fields", payload: rd(``), items: []wantItem{{0, ReasonNoFields, []string{"no measured field", "meter"}}}},
	{name: "seq_reset is not a field", payload: rd(`"seq_reset":true`), items: []wantItem{{0, ReasonNoFields, nil}}},

	// seq.
	{name: "seq 0", payload: fmt.Sprintf(`{"ts":%d,"seq":0,"pf":1}`, testNow), n: 1},
	{name: "seq max", payload: fmt.Sprintf(`{"ts":%d,"seq":9007199254740991,"pf":1}`, testNow), n: 1},
	{name: "seq 2^53", payload: fmt.Sprintf(`{"ts":%d,"seq":9007199254740992,"pf":1}`, testNow), items: []wantItem{{0, ReasonOutOfRange, []string{"seq", "9007199254740991"}}}},
	{name: "seq 2^53+1", payload: fmt.Sprintf(`{"ts":%d,"seq":9007199254740993,"pf":1}`, testNow), items: []wantItem{{0, ReasonOutOfRange, []string{"seq"}}}},
	{name: "seq negative", payload: fmt.Sprintf(`{"ts":%d,"seq":-1,"pf":1}`, testNow), items: []wantItem{{0, ReasonOutOfRange, []string{"seq -1"}}}},
	{name: "seq fraction", payload: fmt.Sprintf(`{"ts":%d,"seq":1.5,"pf":1}`, testNow), items: []wantItem{{0, ReasonWrongType, []string{"seq", "whole number", "1.5"}}}},
	{name: "seq exponent whole", payload: fmt.Sprintf(`{"ts":%d,"seq":1e3,"pf":1}`, testNow), n: 1},
	{name: "seq string", payload: fmt.Sprintf(`{"ts":%d,"seq":"1","pf":1}`, testNow), items: []wantItem{{0, ReasonWrongType, []string{"seq", "string", "without quotes"}}}},
	{name: "seq null", payload: fmt.Sprintf(`{"ts":%d,"seq":null,"pf":1}`, testNow), items: []wantItem{{0, ReasonWrongType, []string{"seq", "null"}}}},
	{name: "seq overflow", payload: fmt.Sprintf(`{"ts":%d,"seq":1e400,"pf":1}`, testNow), items: []wantItem{{0, ReasonNonFinite, []string{"seq", "overflows"}}}},
	{name: "seq duplicate", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"seq":2,"pf":1}`, testNow), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", `"seq"`}}}},
	{name: "seq_reset true", payload: rd(`"seq_reset":true,"pf":1`), n: 1},
	{name: "seq_reset false", payload: rd(`"seq_reset":false,"pf":1`), n: 1},
	{name: "seq_reset string", payload: rd(`"seq_reset":"yes","pf":1`), items: []wantItem{{0, ReasonWrongType, []string{"seq_reset", "boolean", "string"}}}},
	{name: "seq_reset number", payload: rd(`"seq_reset":1,"pf":1`), items: []wantItem{{0, ReasonWrongType, []string{"seq_reset", "number"}}}},
	{name: "seq_reset duplicate", payload: rd(`"seq_reset":true,"seq_reset":true,"pf":1`), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", "seq_reset"}}}},

	// ts and its window.
	{name: "ts now", payload: rd(`"pf":1`), n: 1},
	{name: "ts oldest", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow-(10*day).Milliseconds()), n: 1},
	{name: "ts too old", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow-(10*day).Milliseconds()-1), items: []wantItem{{0, ReasonTimestamp, []string{"10 days in the past", "2025-12-21T23:59:59Z", "clock"}}}},
	{name: "ts newest", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow+(5*time.Minute).Milliseconds()), n: 1},
	{name: "ts too new", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow+(5*time.Minute).Milliseconds()+1), items: []wantItem{{0, ReasonTimestamp, []string{"5 minutes in the future", "NTP"}}}},
	{name: "ts injected now", now: testNow + (20 * day).Milliseconds(), payload: rd(`"pf":1`), items: []wantItem{{0, ReasonTimestamp, []string{"in the past"}}}},
	{name: "ts custom window", lim: Limits{MaxPayload: 1 << 10, MaxReadings: 5, MaxPast: time.Hour, MaxFuture: time.Second}, payload: fmt.Sprintf(`[{"ts":%d,"seq":1,"pf":1},{"ts":%d,"seq":2,"pf":1},{"ts":%d,"seq":3,"pf":1},{"ts":%d,"seq":4,"pf":1}]`, testNow-3600000, testNow-3600001, testNow+1000, testNow+1001), n: 2,
		items: []wantItem{{1, ReasonTimestamp, []string{"1 hour in the past"}}, {3, ReasonTimestamp, []string{"1s in the future"}}}},
	{name: "ts in seconds", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow/1000), items: []wantItem{{0, ReasonTimestamp, []string{"Unix seconds", "multiply by 1000"}}}},
	{name: "ts in microseconds", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow*1000), items: []wantItem{{0, ReasonTimestamp, []string{"microseconds", "divide by 1000"}}}},
	{name: "ts in nanoseconds", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"pf":1}`, testNow*1000000), items: []wantItem{{0, ReasonTimestamp, []string{"not a Unix time in milliseconds"}}}},
	{name: "ts zero", payload: `{"ts":0,"seq":1,"pf":1}`, items: []wantItem{{0, ReasonTimestamp, []string{"ts 0"}}}},
	{name: "ts negative", payload: `{"ts":-5,"seq":1,"pf":1}`, items: []wantItem{{0, ReasonTimestamp, []string{"ts -5"}}}},
	{name: "ts 1970", payload: `{"ts":5000,"seq":1,"pf":1}`, items: []wantItem{{0, ReasonTimestamp, []string{"1970-01-01T00:00:05Z", "in the past"}}}},
	{name: "ts fraction", payload: `{"ts":1767225600000.5,"seq":1,"pf":1}`, items: []wantItem{{0, ReasonWrongType, []string{"ts", "whole number"}}}},
	{name: "ts exponent", payload: `{"ts":1.7672256e12,"seq":1,"pf":1}`, n: 1},
	{name: "ts string", payload: `{"ts":"2026-01-01T00:00:00Z","seq":1,"pf":1}`, items: []wantItem{{0, ReasonWrongType, []string{"ts", "string"}}}},
	{name: "ts overflow", payload: `{"ts":1e999,"seq":1,"pf":1}`, items: []wantItem{{0, ReasonNonFinite, []string{"ts"}}}},
	{name: "ts huge", payload: `{"ts":1e300,"seq":1,"pf":1}`, items: []wantItem{{0, ReasonTimestamp, []string{"not a Unix time"}}}},
	{name: "ts duplicate", payload: fmt.Sprintf(`{"ts":%d,"ts":%d,"seq":1,"pf":1}`, testNow, testNow), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", `"ts"`}}}},

	// Fields.
	{name: "unknown field", payload: rd(`"volts":230`), items: []wantItem{{0, ReasonUnknownField, []string{`"volts"`, "meter", "docs/protocol.md"}}}},
	{name: "field of another kind", payload: rd(`"smoke":true`), items: []wantItem{{0, ReasonUnknownField, []string{`"smoke"`, "not part of the meter vocabulary"}}}},
	{name: "unknown field with object value", payload: rd(`"x":{"a":[1,{"b":null}]},"pf":1`), items: []wantItem{{0, ReasonUnknownField, []string{`"x"`}}}},
	{name: "duplicate field", payload: rd(`"pf":1,"pf":0.5`), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", `"pf"`, "once"}}}},
	{name: "duplicate bad field", payload: rd(`"pf":7,"pf":0.5`), items: []wantItem{{0, ReasonOutOfRange, []string{"pf 7"}}}},
	{name: "escaped key", payload: rd(`"volt\u0061ge_v":230`), n: 1},
	{name: "first error wins", payload: rd(`"pf":2,"volts":1,"freq_hz":"50"`), items: []wantItem{{0, ReasonOutOfRange, []string{"pf 2"}}}},
	{name: "negative zero", payload: rd(`"power_w":-0`), n: 1},
	{name: "pile state", kind: KindPile, payload: rd(`"port":3,"state":"charging"`), n: 1},
	{name: "pile state escaped", kind: KindPile, payload: rd(`"state":"\u0066ull"`), n: 1},
	{name: "pile state case", kind: KindPile, payload: rd(`"state":"Charging"`), items: []wantItem{{0, ReasonOutOfRange, []string{`state "Charging"`, "idle, charging, full, fault"}}}},
	{name: "pile state number", kind: KindPile, payload: rd(`"state":1`), items: []wantItem{{0, ReasonWrongType, []string{"state", "string", "number"}}}},

	// Batches: a bad reading keeps its neighbours.
	{name: "bad middle", payload: "[" + rd(`"pf":1`) + "," + rd(`"pf":1.01`) + "," + rd(`"pf":-1`) + "]", n: 2, items: []wantItem{{1, ReasonOutOfRange, []string{"pf 1.01", "-1..1"}}}},
	{name: "bad ends", payload: "[" + rd(`"smoke":true`) + "," + rd(`"pf":1`) + "," + `{"seq":3,"pf":1}` + "]", n: 1,
		items: []wantItem{{0, ReasonUnknownField, nil}, {2, ReasonMissingField, []string{"no ts"}}}},
	{name: "all bad", payload: "[{},{},{}]", items: []wantItem{{0, ReasonMissingField, nil}, {1, ReasonMissingField, nil}, {2, ReasonMissingField, nil}}},
	{name: "syntax error rejects all", payload: "[" + rd(`"pf":1`) + "," + rd(`"pf":2`) + "," + rd(`"pf":01`) + "]", err: ReasonMalformedJSON, msg: []string{"leading zero", "pf"}},
	{name: "missing comma between readings", payload: "[" + rd(`"pf":1`) + " " + rd(`"pf":1`) + "]", err: ReasonMalformedJSON, msg: []string{"after reading 0", "expected , or ]"}},
	{name: "unclosed array", payload: "[" + rd(`"pf":1`), err: ReasonMalformedJSON, msg: []string{"end of input"}},

	// Limits.
	{name: "max readings", lim: Limits{MaxPayload: 1 << 16, MaxReadings: 3, MaxPast: day, MaxFuture: time.Minute}, payload: "[" + strings.Repeat(rd(`"pf":1`)+",", 2) + rd(`"pf":1`) + "]", n: 3},
	{name: "too many readings", lim: Limits{MaxPayload: 1 << 16, MaxReadings: 3, MaxPast: day, MaxFuture: time.Minute}, payload: "[" + strings.Repeat(rd(`"pf":1`)+",", 3) + rd(`"pf":1`) + "]", err: ReasonTooManyReadings, msg: []string{"more than 3 readings", "split"}},
	{name: "too many bad readings", lim: Limits{MaxPayload: 1 << 16, MaxReadings: 3, MaxPast: day, MaxFuture: time.Minute}, payload: "[{},{},{},{}]", err: ReasonTooManyReadings},
	{name: "500 readings", payload: "[" + strings.Repeat(`{"ts":1767225600000,"seq":1,"pf":1},`, 499) + `{"ts":1767225600000,"seq":1,"pf":1}]`, n: 500},
	{name: "501 readings", payload: "[" + strings.Repeat(`{"ts":1767225600000,"seq":1,"pf":1},`, 500) + `{"ts":1767225600000,"seq":1,"pf":1}]`, err: ReasonTooManyReadings, msg: []string{"500"}},
	{name: "payload at limit", payload: rd(`"pf":1`) + strings.Repeat(" ", 65536-len(rd(`"pf":1`))), n: 1},
	{name: "oversize", payload: rd(`"pf":1`) + strings.Repeat(" ", 65537-len(rd(`"pf":1`))), err: ReasonOversize, msg: []string{"65537 bytes", "65536", "fewer readings"}},

	// Strict JSON (RFC 8259).
	{name: "leading zero", payload: rd(`"voltage_v":0230`), err: ReasonMalformedJSON, msg: []string{"voltage_v", "leading zero"}},
	{name: "leading zero negative", payload: rd(`"power_w":-01`), err: ReasonMalformedJSON, msg: []string{"leading zero"}},
	{name: "zero point", payload: rd(`"pf":0.5`), n: 1},
	{name: "plus sign", payload: rd(`"pf":+1`), err: ReasonMalformedJSON, msg: []string{"pf", "not JSON"}},
	{name: "bare dot", payload: rd(`"pf":.5`), err: ReasonMalformedJSON, msg: []string{"pf"}},
	{name: "trailing dot", payload: rd(`"pf":1.`), err: ReasonMalformedJSON, msg: []string{"pf", "invalid number"}},
	{name: "bare exponent", payload: rd(`"pf":1e`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "exponent sign only", payload: rd(`"pf":1e+`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "hex", payload: rd(`"pf":0x1`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "number then letter", payload: rd(`"pf":1x`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "two dots", payload: rd(`"pf":0.1.2`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "minus only", payload: rd(`"pf":-`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "NaN", payload: rd(`"pf":NaN`), err: ReasonMalformedJSON, msg: []string{"pf", "NaN"}},
	{name: "Infinity", payload: rd(`"power_w":Infinity`), err: ReasonMalformedJSON, msg: []string{"power_w", "Infinity"}},
	{name: "minus Infinity", payload: rd(`"power_w":-Infinity`), err: ReasonMalformedJSON, msg: []string{"invalid number"}},
	{name: "True", payload: rd(`"seq_reset":True,"pf":1`), err: ReasonMalformedJSON, msg: []string{"seq_reset"}},
	{name: "truex", payload: rd(`"seq_reset":truex,"pf":1`), err: ReasonMalformedJSON, msg: []string{"true, false or null"}},
	{name: "nul", payload: rd(`"x":nul`), err: ReasonMalformedJSON, msg: []string{"true, false or null"}},
	{name: "trailing comma object", payload: rd(`"pf":1,`), err: ReasonMalformedJSON, msg: []string{"trailing comma"}},
	{name: "trailing comma array", payload: "[" + rd(`"pf":1`) + ",]", err: ReasonMalformedJSON, msg: []string{"trailing comma"}},
	{name: "trailing comma nested", payload: rd(`"x":[1,],"pf":1`), err: ReasonMalformedJSON, msg: []string{"trailing comma"}},
	{name: "trailing comma nested object", payload: rd(`"x":{"a":1,},"pf":1`), err: ReasonMalformedJSON, msg: []string{"trailing comma"}},
	{name: "leading comma", payload: `{,"pf":1}`, err: ReasonMalformedJSON, msg: []string{"double quotes"}},
	{name: "double comma", payload: rd(`"pf":1,,"power_w":1`), err: ReasonMalformedJSON, msg: []string{"double quotes"}},
	{name: "single quoted key", payload: rd(`'pf':1`), err: ReasonMalformedJSON, msg: []string{"double quotes"}},
	{name: "single quoted value", payload: rd(`"x":'a'`), err: ReasonMalformedJSON, msg: []string{"single quotes"}},
	{name: "bare key", payload: rd(`pf:1`), err: ReasonMalformedJSON, msg: []string{"double quotes"}},
	{name: "line comment", payload: "{\"ts\":1767225600000, // now\n\"seq\":1,\"pf\":1}", err: ReasonMalformedJSON, msg: []string{"double quotes"}},
	{name: "block comment", payload: rd(`"pf":1 /* unity */`), err: ReasonMalformedJSON, msg: []string{"expected , or }"}},
	{name: "comment after value", payload: rd(`"pf":1`) + "// end", err: ReasonMalformedJSON, msg: []string{"unexpected data after the JSON value"}},
	{name: "missing colon", payload: rd(`"pf" 1`), err: ReasonMalformedJSON, msg: []string{`after key "pf"`, "expected :"}},
	{name: "missing comma", payload: rd(`"pf":1 "power_w":2`), err: ReasonMalformedJSON, msg: []string{"expected , or }"}},
	{name: "unclosed object", payload: rd(`"pf":1`)[:len(rd(`"pf":1`))-1], err: ReasonMalformedJSON, msg: []string{"end of input"}},
	{name: "unterminated string", payload: `{"ts":1767225600000,"seq":1,"pf`, err: ReasonMalformedJSON, msg: []string{"unterminated string"}},
	{name: "control char in key", payload: rd("\"p\tf\":1"), err: ReasonMalformedJSON, msg: []string{"control character"}},
	{name: "newline in string", payload: rd("\"x\":\"a\nb\""), err: ReasonMalformedJSON, msg: []string{"control character"}},
	{name: "escaped control char", payload: rd(`"x\u0000":1,"pf":1`), items: []wantItem{{0, ReasonUnknownField, []string{`"x\x00"`}}}},
	{name: "bad escape", payload: rd(`"x":"\q"`), err: ReasonMalformedJSON, msg: []string{"invalid escape"}},
	{name: "short unicode escape", payload: rd(`"x":"\u12"`), err: ReasonMalformedJSON, msg: []string{"four hex digits"}},
	{name: "non-hex unicode escape", payload: rd(`"x":"\u12g4"`), err: ReasonMalformedJSON, msg: []string{"four hex digits"}},
	{name: "surrogate pair", payload: rd(`"x\ud83d\ude00":1`), items: []wantItem{{0, ReasonUnknownField, []string{"😀"}}}},
	{name: "lone high surrogate", payload: rd(`"x":"\ud83d"`), err: ReasonMalformedJSON, msg: []string{"surrogate"}},
	{name: "high surrogate then letter", payload: rd(`"x":"\ud83dA"`), err: ReasonMalformedJSON, msg: []string{"surrogate"}},
	{name: "high surrogate then non-surrogate", payload: rd(`"x":"\ud83d\u0041"`), err: ReasonMalformedJSON, msg: []string{"surrogate"}},
	{name: "two high surrogates", payload: rd(`"x":"\ud83d\ud83d"`), err: ReasonMalformedJSON, msg: []string{"surrogate"}},
	{name: "lone low surrogate", payload: rd(`"x":"\ude00"`), err: ReasonMalformedJSON, msg: []string{"surrogate"}},
	{name: "invalid UTF-8 key", payload: rd("\"p\xfff\":1"), err: ReasonMalformedJSON, msg: []string{"UTF-8"}},
	{name: "invalid UTF-8 value", payload: rd("\"x\":\"\xc3\x28\",\"pf\":1"), err: ReasonMalformedJSON, msg: []string{"UTF-8"}},
	{name: "invalid UTF-8 after escape", payload: rd("\"x\":\"\\n\xed\xa0\x80\",\"pf\":1"), err: ReasonMalformedJSON, msg: []string{"UTF-8"}},
	{name: "overlong UTF-8", payload: rd("\"x\":\"\xc0\xaf\",\"pf\":1"), err: ReasonMalformedJSON, msg: []string{"UTF-8"}},
	{name: "valid UTF-8", payload: rd(`"x":"温度","pf":1`), items: []wantItem{{0, ReasonUnknownField, nil}}},
	{name: "BOM", payload: "\ufeff" + rd(`"pf":1`), err: ReasonMalformedJSON, msg: []string{"invalid JSON"}},
	{name: "trailing garbage", payload: rd(`"pf":1`) + "x", err: ReasonMalformedJSON, msg: []string{"unexpected data after the JSON value"}},
	{name: "two objects", payload: rd(`"pf":1`) + rd(`"pf":1`), err: ReasonMalformedJSON, msg: []string{"unexpected data"}},
	{name: "trailing NUL", payload: rd(`"pf":1`) + "\x00", err: ReasonMalformedJSON, msg: []string{"unexpected data"}},
	{name: "trailing bracket", payload: "[" + rd(`"pf":1`) + "]]", err: ReasonMalformedJSON, msg: []string{"unexpected data"}},
	{name: "form feed is not white space", payload: "\f" + rd(`"pf":1`), err: ReasonMalformedJSON},
	{name: "deep unknown value", payload: rd(`"x":` + strings.Repeat("[", 17) + strings.Repeat("]", 17)), err: ReasonMalformedJSON, msg: []string{"nesting too deep"}},
	{name: "allowed nesting", payload: rd(`"x":` + strings.Repeat("[", 16) + strings.Repeat("]", 16) + `,"pf":1`), items: []wantItem{{0, ReasonUnknownField, nil}}},
}

func TestDecodeTelemetryTable(t *testing.T) {
	for _, c := range teleCases {
		t.Run(c.name, func(t *testing.T) { runTele(t, c) })
	}
}

// TestDecodeTelemetryValues checks what a valid reading decodes to.
func TestDecodeTelemetryValues(t *testing.T) {
	rs := runTele(t, teleCase{kind: KindPile, n: 2, payload: fmt.Sprintf(`[
		{"ts":%d,"seq":41,"port":3,"state":"charging","voltage_v":229.5,"current_a":2.25,"power_w":516.4,"pf":0.99,"energy_kwh":1.25,"temp_c":-3.5,"fault":false},
		{"ts":%d,"seq":0,"seq_reset":true,"port":64,"state":"fault","fault":true}]`, testNow-1000, testNow)})
	want0 := Reading{TS: testNow - 1000, Seq: 41}
	want0.Put(FieldPort, 3)
	want0.Put(FieldState, float64(PileCharging))
	want0.Put(FieldVoltage, 229.5)
	want0.Put(FieldCurrent, 2.25)
	want0.Put(FieldPower, 516.4)
	want0.Put(FieldPF, 0.99)
	want0.Put(FieldEnergy, 1.25)
	want0.Put(FieldTemp, -3.5)
	want0.PutBool(FieldFault, false)
	want1 := Reading{TS: testNow, Seq: 0, SeqReset: true}
	want1.Put(FieldPort, 64)
	want1.Put(FieldState, float64(PileFault))
	want1.PutBool(FieldFault, true)
	if rs[0] != want0 {
		t.Errorf("reading 0:\n got %+v\nwant %+v", rs[0], want0)
	}
	if rs[1] != want1 {
		t.Errorf("reading 1:\n got %+v\nwant %+v", rs[1], want1)
	}
	if v, ok := rs[0].Get(FieldFault); !ok || v != 0 {
		t.Errorf("fault = %v, %v; want present and false", v, ok)
	}
	if _, ok := rs[1].Get(FieldVoltage); ok {
		t.Error("absent voltage reads as present")
	}
	if got := rs[1].Time(); !got.Equal(time.UnixMilli(testNow)) {
		t.Errorf("Time() = %v", got)
	}
	neg := runTele(t, teleCase{payload: rd(`"power_w":-0`), n: 1})
	if v, _ := neg[0].Get(FieldPower); math.Signbit(v) {
		t.Error("-0 is kept as negative zero")
	}
}

// fmtNum writes v as a JSON number that parses back to exactly v.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// TestEveryField walks every field of every kind: values at both ends of the
// range are accepted and decode exactly; values just outside, of the wrong
// JSON type, or fields outside the kind's vocabulary are rejected with a
// message that names the field.
func TestEveryField(t *testing.T) {
	for _, kind := range Kinds() {
		for f := Field(0); f < NumFields; f++ {
			sp := f.Spec()
			t.Run(kind.String()+"/"+sp.Name, func(t *testing.T) {
				if !kind.Vocabulary().Has(f) {
					runTele(t, teleCase{kind: kind, payload: rd(fmt.Sprintf(`"%s":1`, sp.Name)),
						items: []wantItem{{0, ReasonUnknownField, []string{sp.Name, kind.String()}}}})
					return
				}
				type val struct {
					json string
					want float64
				}
				var good []val
				var bad []wantItem // idx is unused; json in msg[0]
				var badJSON []string
				addBad := func(json string, r Reason, subs ...string) {
					badJSON = append(badJSON, json)
					bad = append(bad, wantItem{reason: r, msg: append([]string{sp.Name}, subs...)})
				}
				switch sp.Type {
				case TypeFloat, TypeInt:
					mid := math.Floor((sp.Min + sp.Max) / 2)
					good = append(good, val{fmtNum(sp.Min), sp.Min}, val{fmtNum(sp.Max), sp.Max}, val{fmtNum(mid), mid})
					below, above := math.Nextafter(sp.Min, math.Inf(-1)), math.Nextafter(sp.Max, math.Inf(1))
					if sp.Type == TypeInt {
						below, above = sp.Min-1, sp.Max+1
						addBad(fmtNum(sp.Min+0.5), ReasonWrongType, "whole number")
						addBad(`true`, ReasonWrongType, "integer", "boolean")
					} else {
						addBad(`true`, ReasonWrongType, "number", "boolean")
					}
					addBad(fmtNum(below), ReasonOutOfRange, "outside the physical range", fmtNum(sp.Min), fmtNum(sp.Max), sp.Unit)
					addBad(fmtNum(above), ReasonOutOfRange, "outside the physical range", fmtNum(sp.Max))
					addBad(`1e999`, ReasonNonFinite, "overflows")
					addBad(`-1e999`, ReasonNonFinite, "overflows")
					addBad(`"1"`, ReasonWrongType, "string", "without quotes")
				case TypeBool:
					good = append(good, val{"true", 1}, val{"false", 0})
					addBad(`1`, ReasonWrongType, "boolean", "number", "true or false")
					addBad(`"true"`, ReasonWrongType, "boolean", "string")
				case TypeState:
					for st := PileIdle; st < numPileStates; st++ {
						good = append(good, val{`"` + st.String() + `"`, float64(st)})
					}
					addBad(`"unknown"`, ReasonOutOfRange, "idle, charging, full, fault")
					addBad(`"charging "`, ReasonOutOfRange)
					addBad(`""`, ReasonOutOfRange)
					addBad(`2`, ReasonWrongType, "string", "number")
				}
				addBad(`null`, ReasonWrongType, "null")
				addBad(`[1]`, ReasonWrongType, "array")
				addBad(`{"v":1}`, ReasonWrongType, "object")

				// All good values in one batch, all bad ones in another with a
				// good neighbour after each.
				var b strings.Builder
				b.WriteByte('[')
				for i, g := range good {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(rd(fmt.Sprintf(`"%s":%s`, sp.Name, g.json)))
				}
				b.WriteByte(']')
				rs := runTele(t, teleCase{kind: kind, payload: b.String(), n: len(good)})
				for i, g := range good {
					if v, ok := rs[i].Get(f); !ok || v != g.want || rs[i].Set != FieldSet(0).With(f) {
						t.Errorf("%s: got %v %v (set %b), want %v", g.json, v, ok, rs[i].Set, g.want)
					}
				}
				b.Reset()
				b.WriteByte('[')
				var items []wantItem
				for i, j := range badJSON {
					b.WriteString(rd(fmt.Sprintf(`"%s":%s`, sp.Name, j)))
					b.WriteByte(',')
					b.WriteString(rd(fmt.Sprintf(`"%s":%s`, sp.Name, good[0].json)))
					if i < len(badJSON)-1 {
						b.WriteByte(',')
					}
					w := bad[i]
					w.idx = 2 * i
					items = append(items, w)
				}
				b.WriteByte(']')
				runTele(t, teleCase{kind: kind, payload: b.String(), n: len(badJSON), items: items})
			})
		}
	}
}

func TestCheckValue(t *testing.T) {
	cases := []struct {
		f    Field
		v    float64
		want Reason
	}{
		{FieldVoltage, 230, ""},
		{FieldVoltage, -1, ReasonOutOfRange},
		{FieldVoltage, math.NaN(), ReasonNonFinite},
		{FieldVoltage, math.Inf(1), ReasonNonFinite},
		{FieldPort, 2.5, ReasonWrongType},
		{FieldSmoke, 0.5, ReasonWrongType},
		{FieldSmoke, 2, ReasonOutOfRange},
		{FieldState, 1, ""},
		{FieldState, 4, ReasonOutOfRange},
		{NumFields, 1, ReasonUnknownField},
	}
	for _, c := range cases {
		r, ok := CheckValue(c.f, c.v)
		if r != c.want || ok != (c.want == "") {
			t.Errorf("CheckValue(%v, %v) = %q, %v; want %q", c.f, c.v, r, ok, c.want)
		}
	}
}

func TestKindsAndFields(t *testing.T) {
	for _, k := range Kinds() {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
		txt, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Kind
		if err := back.UnmarshalText(txt); err != nil || back != k {
			t.Errorf("text round trip of %v: %v %v", k, back, err)
		}
		if k.Vocabulary() == 0 || len(k.Events()) == 0 {
			t.Errorf("%v has no fields or no events", k)
		}
	}
	if _, err := ParseKind("Meter"); err == nil {
		t.Error("ParseKind accepts Meter")
	}
	if _, err := KindUnknown.MarshalText(); err == nil {
		t.Error("KindUnknown marshals")
	}
	if Kind(9).String() != "kind(9)" || Kind(9).Vocabulary() != 0 || Kind(9).Events() != nil {
		t.Error("invalid kind is not handled")
	}
	seen := map[string]bool{}
	for f := Field(0); f < NumFields; f++ {
		sp := f.Spec()
		if seen[sp.Name] || !ValidID(sp.Name) || sp.Min > sp.Max || sp.Doc == "" || f.String() != sp.Name {
			t.Errorf("bad spec %+v", sp)
		}
		seen[sp.Name] = true
		if g, ok := FieldByName(sp.Name); !ok || g != f {
			t.Errorf("FieldByName(%q) = %v, %v", sp.Name, g, ok)
		}
		if _, ok := FieldByName(sp.Name + "x"); ok {
			t.Errorf("FieldByName(%q) found", sp.Name+"x")
		}
		if _, ok := FieldByName(sp.Name[:len(sp.Name)-1]); ok {
			t.Errorf("FieldByName(%q) found", sp.Name[:len(sp.Name)-1])
		}
	}
	for _, n := range []string{"", "ts", "seq", "x", "VOLTAGE_V", strings.Repeat("a", 300)} {
		if _, ok := FieldByName(n); ok {
			t.Errorf("FieldByName(%q) found", n)
		}
	}
	if got := FieldSet(0).With(FieldPF).With(FieldVoltage).Fields(); !slices.Equal(got, []Field{FieldVoltage, FieldPF}) {
		t.Errorf("Fields() = %v", got)
	}
	if NumFields > 64 {
		t.Error("FieldSet is a uint64")
	}
	for s := PileIdle; s < numPileStates; s++ {
		if g, ok := ParsePileState(s.String()); !ok || g != s {
			t.Errorf("ParsePileState(%q)", s)
		}
	}
	if _, ok := ParsePileState("Idle"); ok || PileState(9).String() != "?" {
		t.Error("pile state parsing")
	}
	if Field(200).String() != "field(200)" {
		t.Error(Field(200).String())
	}
}

// TestDecodeTelemetryAllocs pins the zero-allocation hot path.
func TestDecodeTelemetryAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	d := NewDecoder(DefaultLimits())
	batch := benchBatch()
	pile := []byte(rd(`"port":2,"state":"charging","voltage_v":230,"current_a":1.5,"fault":false,"x\u0041":1`))
	dst := make([]Reading, 0, 32)
	errs := make([]ItemError, 0, 4)
	for _, c := range []struct {
		name    string
		kind    Kind
		payload []byte
		n       int
	}{
		{"single", KindMeter, benchMeter, 1},
		{"batch32", KindMeter, batch, 32},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			rs, es, err := d.DecodeTelemetry(c.kind, c.payload, testNow, dst[:0], errs[:0])
			if err != nil || len(es) != 0 || len(rs) != c.n {
				t.Fatal(err, es)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per decode, want 0", c.name, allocs)
		}
	}
	// A pile reading with an escaped unknown key allocates only its error.
	_, es, _ := d.DecodeTelemetry(KindPile, pile, testNow, dst[:0], errs[:0])
	if len(es) != 1 || es[0].Err.Reason != ReasonUnknownField {
		t.Fatal(es)
	}
}

// TestNumberParsing checks the scanner's fast number path against
// strconv.ParseFloat, bit for bit.
func TestNumberParsing(t *testing.T) {
	lits := []string{
		"0", "-0", "1", "-1", "0.5", "1e0", "1E+2", "1e-2", "123456789012345678", "1234567890123456789",
		"12345678901234567890", "9007199254740992", "9007199254740993", "9007199254740991.5",
		"0.1", "0.2", "0.3", "2.2250738585072014e-308", "4.9e-324", "1e-400", "1.7976931348623157e308",
		"0.000000000000000000001", "0.0000000000000000000000000000001", "1e22", "1e23", "123.456e-20",
		"3.141592653589793238462643383279", "229.8", "5.12", "12345.67", "50.01", "-500000", "1e15",
		"100000000000000000000000", "0.00000000000000000000000000000000000000000000001e40", "1e-22",
		"9.999999999999999e22", "4503599627370497.5", "0e100", "-0.0e-0",
	}
	r := newRand(1)
	for range 20000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		nInt := 1 + r.IntN(20)
		b.WriteByte(byte('1' + r.IntN(9)))
		for range nInt - 1 {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range 1 + r.IntN(20) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			b.WriteString([]string{"e", "E", "e+", "e-"}[r.IntN(4)])
			b.WriteString(strconv.Itoa(r.IntN(40)))
		}
		lits = append(lits, b.String())
	}
	var s scanner
	for _, lit := range lits {
		s.reset([]byte(lit))
		got, err := s.number()
		want, werr := strconv.ParseFloat(lit, 64)
		if werr != nil && !math.IsInf(want, 0) && want != 0 {
			t.Fatalf("strconv rejects %q: %v", lit, werr)
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("number(%q) = %v (%v), want %v", lit, got, err, want)
		}
	}
}
