package devices

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fuzzKind maps a fuzzed byte onto a kind, now and then an invalid one.
func fuzzKind(k uint8) Kind { return Kind(k % (uint8(numKinds) + 1)) }

// checkFuzzError checks the invariants of any rejection.
func checkFuzzError(t *testing.T, e *Error) {
	t.Helper()
	if e == nil {
		t.Fatal("nil *Error")
	}
	if !slices.Contains(Reasons, e.Reason) {
		t.Fatalf("reason %q not in Reasons (%s)", e.Reason, e.Msg)
	}
	if e.Msg == "" {
		t.Fatalf("empty message for %s", e.Reason)
	}
	if len(e.Msg) > 1200 {
		t.Fatalf("message of %d bytes: untrusted text is not shortened", len(e.Msg))
	}
}

// checkSyntaxAgrees fails when the decoder calls valid JSON malformed for a
// reason other than the contract's deliberate extra strictness.
func checkSyntaxAgrees(t *testing.T, payload []byte, e *Error) {
	t.Helper()
	if !e.syntax || !json.Valid(payload) {
		return
	}
	for _, why := range []string{"surrogate", "nesting too deep", "UTF-8", "must be a JSON object", "payload is empty"} {
		if strings.Contains(e.Msg, why) {
			return
		}
	}
	t.Fatalf("valid JSON %q rejected: %s", payload, e.Msg)
}

// checkItems checks item errors: valid, in order, one per rejected element.
func checkItems(t *testing.T, errs []ItemError) {
	t.Helper()
	for i, ie := range errs {
		checkFuzzError(t, ie.Err)
		if ie.Err.syntax {
			t.Fatalf("item %d carries a syntax error: %s", ie.Index, ie.Err.Msg)
		}
		if i > 0 && ie.Index <= errs[i-1].Index {
			t.Fatalf("item indexes not increasing: %v", errs)
		}
	}
}

func FuzzDecodeTelemetry(f *testing.F) {
	f.Add(uint8(KindMeter), benchMeter)
	f.Add(uint8(KindMeter), benchBatch())
	f.Add(uint8(KindPile), []byte(`[{"ts":1767225600000,"seq":1,"port":1,"state":"idle"},{"ts":1767225600000,"seq":2,"seq_reset":true,"state":"fault","fault":true}]`))
	f.Add(uint8(KindSmoke), []byte(`{"ts":1767225600000,"seq":9,"smoke":false,"battery_pct":87,"battery_low":false,"tamper":false,"fault":false,"rssi_dbm":-71,"link_quality":180,"temp_c":22.5}`))
	f.Add(uint8(KindMonitor), []byte(`{"ts":1767225600000,"seq":3,"leak_ma":12.5,"temp1_c":30,"temp2_c":31,"temp3_c":-40,"temp4_c":200}`))
	f.Add(uint8(KindPlug), []byte(`{"ts":1767225600000,"seq":3,"relay_on":true,"power_w":-0,"volt\u0061ge_v":1e2}`))
	f.Add(uint8(KindMeter), []byte(`[{},{"ts":1,"seq":-1},{"x":[{"y":null}],"pf":1e400}]`))
	f.Add(uint8(KindMeter), []byte(`{"ts":1767225600000,"seq":1,"x":"\ud83d\ude00\u0000"}`))
	f.Fuzz(func(t *testing.T, k uint8, payload []byte) {
		kind := fuzzKind(k)
		d := NewDecoder(DefaultLimits())
		rs, errs, err := d.DecodeTelemetry(kind, payload, testNow, nil, nil)
		if err != nil {
			checkFuzzError(t, err)
			checkSyntaxAgrees(t, payload, err)
			if len(rs) != 0 || len(errs) != 0 {
				t.Fatalf("message rejected (%s) but %d readings and %d item errors returned", err.Msg, len(rs), len(errs))
			}
			return
		}
		checkItems(t, errs)
		// Whatever the decoder takes is JSON by encoding/json's standards.
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		for _, r := range rs {
			if r.Set == 0 || r.Set&^kind.Vocabulary() != 0 {
				t.Fatalf("reading has fields %b outside the %s vocabulary %b", r.Set, kind, kind.Vocabulary())
			}
			if r.Seq > maxSafeInt || d.checkTS(r.TS, testNow) != nil {
				t.Fatalf("reading with seq %d ts %d accepted", r.Seq, r.TS)
			}
			for f := Field(0); f < NumFields; f++ {
				v, ok := r.Get(f)
				if !ok {
					if v != 0 {
						t.Fatalf("absent field %s holds %v", f, v)
					}
					continue
				}
				if reason, ok := CheckValue(f, v); !ok {
					t.Fatalf("accepted %s = %v: %s", f, v, reason)
				}
				if v == 0 && math.Signbit(v) {
					t.Fatalf("%s is negative zero", f)
				}
			}
		}
		// Readings agree with encoding/json's view of the same payload.
		compareWithStdlib(t, kind, payload, rs, errs)
		if len(rs) == 0 {
			return
		}
		// Accepted readings re-encode and decode to the same values.
		enc := AppendTelemetry(nil, rs)
		back, berrs, berr := d.DecodeTelemetry(kind, enc, testNow, nil, nil)
		if berr != nil || len(berrs) != 0 {
			t.Fatalf("re-encoded readings rejected: %v %v\n%s", berr, berrs, enc)
		}
		if !slices.Equal(back, rs) {
			t.Fatalf("round trip changed readings:\n%+v\n%+v", rs, back)
		}
	})
}

// compareWithStdlib decodes payload with encoding/json and checks that each
// kept reading holds the same numbers, booleans and states.
func compareWithStdlib(t *testing.T, kind Kind, payload []byte, rs []Reading, errs []ItemError) {
	t.Helper()
	var objs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("[")) {
		if err := dec.Decode(&objs); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
	} else {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		objs = []map[string]any{o}
	}
	if len(objs) != len(rs)+len(errs) {
		t.Fatalf("%d objects but %d readings and %d item errors", len(objs), len(rs), len(errs))
	}
	j := 0
	for i, o := range objs {
		if len(errs) > 0 && errs[0].Index == i {
			errs = errs[1:]
			continue
		}
		r := rs[j]
		j++
		for key, val := range o {
			var want float64
			switch key {
			case "ts", "seq":
				n, _ := val.(json.Number).Float64()
				if (key == "ts" && float64(r.TS) != n) || (key == "seq" && float64(r.Seq) != n) {
					t.Fatalf("%s: %v vs %v %v", key, n, r.TS, r.Seq)
				}
				continue
			case "seq_reset":
				if val.(bool) != r.SeqReset {
					t.Fatalf("seq_reset")
				}
				continue
			}
			f, ok := FieldByName(key)
			if !ok {
				t.Fatalf("kept a reading with unknown key %q", key)
			}
			switch v := val.(type) {
			case json.Number:
				want, _ = v.Float64()
				if want == 0 {
					want = 0
				}
			case bool:
				if v {
					want = 1
				}
			case string:
				st, ok := ParsePileState(v)
				if !ok {
					t.Fatalf("kept state %q", v)
				}
				want = float64(st)
			default:
				t.Fatalf("kept %s of type %T", key, val)
			}
			if got, _ := r.Get(f); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("%s = %v, encoding/json says %v", key, got, want)
			}
		}
	}
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add(uint8(KindSmoke), []byte(`{"ts":1767225600000,"seq":1,"type":"smoke_alarm"}`))
	f.Add(uint8(KindPile), []byte(`[{"ts":1767225600000,"seq":2,"type":"charge_stop","port":2,"code":12,"detail":"\u6ee1"},{"ts":1767225600000,"seq":3,"type":"nope"}]`))
	f.Add(uint8(KindMonitor), []byte(`{"ts":1767225600000,"seq":1,"type":"arc_fault","code":"-1.5e3","detail":"\ud83d\udd25 \"L2\""}`))
	f.Add(uint8(KindPlug), []byte(`[{},{"type":1},{"ts":"x","seq":1.5,"port":99,"extra":[[[]]]}]`))
	f.Fuzz(func(t *testing.T, k uint8, payload []byte) {
		kind := fuzzKind(k)
		d := NewDecoder(DefaultLimits())
		evs, errs, err := d.DecodeEvents(kind, payload, testNow, nil, nil)
		if err != nil {
			checkFuzzError(t, err)
			checkSyntaxAgrees(t, payload, err)
			if len(evs) != 0 || len(errs) != 0 {
				t.Fatalf("message rejected but %d events and %d item errors returned", len(evs), len(errs))
			}
			return
		}
		checkItems(t, errs)
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		for _, e := range evs {
			if !kind.Allows(e.Type) || len(e.Code) > MaxDetail || len(e.Detail) > MaxDetail || e.Port < 0 || e.Port > 64 || e.Seq > maxSafeInt {
				t.Fatalf("accepted %+v", e)
			}
			// Strings agree with encoding/json where it sees strings.
			back := AppendEvent(nil, &e)
			got, gerrs, gerr := d.DecodeEvents(kind, back, testNow, nil, nil)
			if gerr != nil || len(gerrs) != 0 || len(got) != 1 || got[0] != e {
				t.Fatalf("round trip of %+v: %v %v %+v\n%s", e, gerr, gerrs, got, back)
			}
		}
		if len(evs) == 1 && len(errs) == 0 && !bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("[")) {
			var std struct {
				Code   any `json:"code"`
				Detail any `json:"detail"`
			}
			if err := json.Unmarshal(payload, &std); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if s, ok := std.Detail.(string); ok && s != evs[0].Detail {
				t.Fatalf("detail %q, encoding/json says %q", evs[0].Detail, s)
			}
			if s, ok := std.Code.(string); ok && s != evs[0].Code {
				t.Fatalf("code %q, encoding/json says %q", evs[0].Code, s)
			}
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add(LastWill)
	f.Add([]byte(`{"online":true,"ts":1767225600000,"uptime_s":5,"queue_depth":0,"queue_age_s":0,"poll_errors":1,"clock":"synced","version":"1.0"}`))
	f.Add([]byte(`{"online":true,"ts":1767225600,"clock":"unsynced"}`))
	f.Add([]byte(`{"online":"true","x":{"y":[1,2,{"z":null}]}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := NewDecoder(DefaultLimits())
		st, err := d.DecodeStatus(payload, testNow)
		if err != nil {
			checkFuzzError(t, err)
			checkSyntaxAgrees(t, payload, err)
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		if st.Online && st.TS == 0 {
			t.Fatal("online status without ts")
		}
		back := AppendStatus(nil, st)
		got, gerr := d.DecodeStatus(back, testNow)
		if gerr != nil || !statusEqual(got, st) {
			t.Fatalf("round trip: %v\n%s\n%s", gerr, payload, back)
		}
	})
}

var topicRE = regexp.MustCompile(`^cw/v1/([a-z0-9][a-z0-9._-]{0,63})/([a-z0-9][a-z0-9._-]{0,63})/(telemetry|event|status|cmd)$`)

func FuzzParseTopic(f *testing.F) {
	for _, s := range []string{"cw/v1/gw/dev/telemetry", "cw/v1/a/b/cmd", "cw/v1/gw/dev/x/status", "cw/v1/GW/dev/event", "cw/v1//x/status", "cw/v2/a/b/event", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tp, err := ParseTopic(name)
		m := topicRE.FindStringSubmatch(name)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Reason != ReasonBadTopic || e.Msg == "" || len(e.Msg) > 600 {
				t.Fatalf("ParseTopic(%q) error %#v", name, err)
			}
			if m != nil {
				t.Fatalf("ParseTopic(%q) rejects a valid topic: %v", name, err)
			}
			return
		}
		if m == nil {
			t.Fatalf("ParseTopic(%q) accepts an invalid topic: %+v", name, tp)
		}
		if tp.Gateway != m[1] || tp.Device != m[2] || tp.Channel.String() != m[3] || TopicFor(tp.Gateway, tp.Device, tp.Channel) != name {
			t.Fatalf("ParseTopic(%q) = %+v", name, tp)
		}
		if !ValidID(tp.Gateway) || !ValidID(tp.Device) {
			t.Fatalf("invalid ids in %+v", tp)
		}
	})
}

// TestFuzzCorpusFormat keeps the committed seed files loadable.
func TestFuzzCorpusFormat(t *testing.T) {
	for _, name := range []string{"FuzzDecodeTelemetry", "FuzzDecodeEvents", "FuzzDecodeStatus", "FuzzParseTopic"} {
		files, err := os.ReadDir("testdata/fuzz/" + name)
		if err != nil || len(files) == 0 {
			t.Errorf("%s: no seed corpus (%v)", name, err)
			continue
		}
		for _, fn := range files {
			b, err := os.ReadFile("testdata/fuzz/" + name + "/" + fn.Name())
			if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n") {
				t.Errorf("%s/%s: not a fuzz corpus file: %v", name, fn, err)
			}
		}
	}
}
