package devices

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ev builds an event object with ts = testNow and seq = 1 around rest.
func ev(rest string) string {
	return fmt.Sprintf(`{"ts":%d,"seq":1,%s}`, testNow, rest)
}

type eventCase struct {
	name    string
	kind    Kind // 0 means KindSmoke
	lim     Limits
	payload string
	want    []Event // events kept
	items   []wantItem
	err     Reason
	msg     []string
}

var sentinelEvent = Event{TS: 42, Detail: "sentinel"}

func runEvents(t *testing.T, c eventCase) []Event {
	t.Helper()
	kind := c.kind
	if kind == KindUnknown {
		kind = KindSmoke
	}
	lim := c.lim
	if lim == (Limits{}) {
		lim = DefaultLimits()
	}
	d := NewDecoder(lim)
	evs, errs, err := d.DecodeEvents(kind, []byte(c.payload), testNow, []Event{sentinelEvent}, []ItemError{sentinelItem})
	if len(evs) == 0 || evs[0] != sentinelEvent || len(errs) == 0 || errs[0] != sentinelItem {
		t.Fatalf("decoder dropped what dst/errs held before")
	}
	evs, errs = evs[1:], errs[1:]
	if c.err != "" {
		checkError(t, "message", err, c.err, c.msg)
		if len(evs) != 0 || len(errs) != 0 {
			t.Errorf("message rejected but %d events and %d item errors appended", len(evs), len(errs))
		}
		return nil
	}
	if err != nil {
		t.Fatalf("unexpected message error: %s: %s", err.Reason, err.Msg)
	}
	if c.want != nil {
		if len(evs) != len(c.want) {
			t.Fatalf("kept %d events, want %d (%v)", len(evs), len(c.want), errs)
		}
		for i := range evs {
			if evs[i] != c.want[i] {
				t.Errorf("event %d:\n got %+v\nwant %+v", i, evs[i], c.want[i])
			}
		}
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
	return evs
}

var evCases = []eventCase{
	{name: "smoke alarm", payload: ev(`"type":"smoke_alarm"`), want: []Event{{TS: testNow, Seq: 1, Type: EventSmokeAlarm}}},
	{name: "all keys", kind: KindPile, payload: ev(`"type":"charge_stop","port":3,"code":"E12","detail":"full \"stop\" 充满"`),
		want: []Event{{TS: testNow, Seq: 1, Type: EventChargeStop, Port: 3, Code: "E12", Detail: `full "stop" 充满`}}},
	{name: "code as number", kind: KindPile, payload: ev(`"type":"fault","code":12`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Code: "12"}}},
	{name: "code as negative float", kind: KindPile, payload: ev(`"type":"fault","code":-1.50e3`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Code: "-1.50e3"}}},
	{name: "code as string", kind: KindPile, payload: ev(`"type":"fault","code":"0x1F"`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Code: "0x1F"}}},
	{name: "code bad number", kind: KindPile, payload: ev(`"type":"fault","code":012`), err: ReasonMalformedJSON, msg: []string{"code", "leading zero"}},
	{name: "code boolean", kind: KindPile, payload: ev(`"type":"fault","code":true`), items: []wantItem{{0, ReasonWrongType, []string{"code", "boolean", "string"}}}},
	{name: "code null", kind: KindPile, payload: ev(`"type":"fault","code":null`), items: []wantItem{{0, ReasonWrongType, []string{"code", "null"}}}},
	{name: "empty code", kind: KindPile, payload: ev(`"type":"fault","code":""`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault}}},
	{name: "detail 512 bytes", payload: ev(`"type":"fault","detail":"` + strings.Repeat("温", 170) + `ab"`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Detail: strings.Repeat("温", 170) + "ab"}}},
	{name: "detail 513 bytes", payload: ev(`"type":"fault","detail":"` + strings.Repeat("温", 171) + `"`), items: []wantItem{{0, ReasonOutOfRange, []string{"detail", "513 bytes", "512", "shorten"}}}},
	{name: "detail escapes count decoded", payload: ev(`"type":"fault","detail":"` + strings.Repeat(`\n`, 512) + `"`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Detail: strings.Repeat("\n", 512)}}},
	{name: "code 513 bytes", payload: ev(`"type":"fault","code":"` + strings.Repeat("x", 513) + `"`), items: []wantItem{{0, ReasonOutOfRange, []string{"code", "513"}}}},
	{name: "detail number", payload: ev(`"type":"fault","detail":5`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Detail: "5"}}},
	{name: "detail object", payload: ev(`"type":"fault","detail":{"a":1}`), items: []wantItem{{0, ReasonWrongType, []string{"detail", "object"}}}},
	{name: "detail surrogate pair", payload: ev(`"type":"fault","detail":"\ud83d\udd25"`), want: []Event{{TS: testNow, Seq: 1, Type: EventFault, Detail: "🔥"}}},
	{name: "detail lone surrogate", payload: ev(`"type":"fault","detail":"\ud83d"`), err: ReasonMalformedJSON, msg: []string{"detail", "surrogate"}},
	{name: "detail invalid UTF-8", payload: ev("\"type\":\"fault\",\"detail\":\"\xff\""), err: ReasonMalformedJSON, msg: []string{"detail", "UTF-8"}},
	{name: "port", kind: KindPile, payload: ev(`"type":"charge_start","port":64`), want: []Event{{TS: testNow, Seq: 1, Type: EventChargeStart, Port: 64}}},
	{name: "port 0", kind: KindPile, payload: ev(`"type":"charge_start","port":0`), items: []wantItem{{0, ReasonOutOfRange, []string{"port 0", "1..64"}}}},
	{name: "port 65", kind: KindPile, payload: ev(`"type":"charge_start","port":65`), items: []wantItem{{0, ReasonOutOfRange, []string{"port 65"}}}},
	{name: "port fraction", kind: KindPile, payload: ev(`"type":"charge_start","port":1.5`), items: []wantItem{{0, ReasonWrongType, []string{"port", "whole number"}}}},
	{name: "port string", kind: KindPile, payload: ev(`"type":"charge_start","port":"1"`), items: []wantItem{{0, ReasonWrongType, []string{"port", "string"}}}},
	{name: "unknown type", payload: ev(`"type":"smoke"`), items: []wantItem{{0, ReasonBadEvent, []string{`"smoke"`, "smoke_alarm", "self_test"}}}},
	{name: "type wrong case", payload: ev(`"type":"SMOKE_ALARM"`), items: []wantItem{{0, ReasonBadEvent, []string{"SMOKE_ALARM"}}}},
	{name: "type number", payload: ev(`"type":1`), items: []wantItem{{0, ReasonWrongType, []string{"type", "number", `"smoke_alarm"`}}}},
	{name: "type not for kind", kind: KindPlug, payload: ev(`"type":"smoke_alarm"`), items: []wantItem{{0, ReasonBadEvent, []string{"plug", "smoke_alarm", "fault, fault_clear, over_temperature, overload"}}}},
	{name: "missing type", payload: fmt.Sprintf(`{"ts":%d,"seq":1}`, testNow), items: []wantItem{{0, ReasonMissingField, []string{"no type", "smoke_alarm"}}}},
	{name: "missing ts", payload: `{"seq":1,"type":"fault"}`, items: []wantItem{{0, ReasonMissingField, []string{"no ts"}}}},
	{name: "missing seq", payload: fmt.Sprintf(`{"ts":%d,"type":"fault"}`, testNow), items: []wantItem{{0, ReasonMissingField, []string{"no seq"}}}},
	{name: "empty object", payload: `{}`, items: []wantItem{{0, ReasonMissingField, []string{"no ts"}}}},
	{name: "unknown key", payload: ev(`"type":"fault","severity":3`), items: []wantItem{{0, ReasonUnknownField, []string{`"severity"`, "ts, seq, type"}}}},
	{name: "unknown deep key", payload: ev(`"type":"fault","x":` + strings.Repeat("[", 10000)), err: ReasonMalformedJSON, msg: []string{"nesting too deep"}},
	{name: "duplicate type", payload: ev(`"type":"fault","type":"fault"`), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", `"type"`}}}},
	{name: "duplicate ts", payload: ev(`"type":"fault","ts":1767225600000`), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", `"ts"`}}}},
	{name: "duplicate detail", payload: ev(`"type":"fault","detail":"a","detail":"b"`), items: []wantItem{{0, ReasonMalformedJSON, []string{"duplicate", `"detail"`}}}},
	{name: "seq negative", payload: `{"ts":1767225600000,"seq":-1,"type":"fault"}`, items: []wantItem{{0, ReasonOutOfRange, []string{"seq -1"}}}},
	{name: "seq max", payload: `{"ts":1767225600000,"seq":9007199254740991,"type":"fault"}`, want: []Event{{TS: testNow, Seq: 1<<53 - 1, Type: EventFault}}},
	{name: "seq too big", payload: `{"ts":1767225600000,"seq":9007199254740992,"type":"fault"}`, items: []wantItem{{0, ReasonOutOfRange, []string{"seq"}}}},
	{name: "ts too old", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"type":"fault"}`, testNow-(10*day).Milliseconds()-1), items: []wantItem{{0, ReasonTimestamp, []string{"in the past"}}}},
	{name: "ts too new", payload: fmt.Sprintf(`{"ts":%d,"seq":1,"type":"fault"}`, testNow+(5*time.Minute).Milliseconds()+1), items: []wantItem{{0, ReasonTimestamp, []string{"in the future"}}}},
	{name: "ts zero", payload: `{"ts":0,"seq":1,"type":"fault"}`, items: []wantItem{{0, ReasonTimestamp, []string{"ts 0"}}}},
	{name: "array with bad neighbour", kind: KindPile, payload: "[" + ev(`"type":"charge_start","port":1`) + "," + ev(`"type":"smoke"`) + "," + ev(`"type":"charge_stop","port":1,"code":3`) + "]",
		want:  []Event{{TS: testNow, Seq: 1, Type: EventChargeStart, Port: 1}, {TS: testNow, Seq: 1, Type: EventChargeStop, Port: 1, Code: "3"}},
		items: []wantItem{{1, ReasonBadEvent, nil}}},
	{name: "empty array", payload: `[]`, err: ReasonMalformedJSON, msg: []string{"empty array"}},
	{name: "array of strings", payload: `["fault"]`, err: ReasonMalformedJSON, msg: []string{"an event must be a JSON object", "string"}},
	{name: "trailing comma", payload: "[" + ev(`"type":"fault"`) + ",]", err: ReasonMalformedJSON, msg: []string{"trailing comma"}},
	{name: "syntax error rejects all", payload: "[" + ev(`"type":"fault"`) + "," + ev(`"type":'fault'`) + "]", err: ReasonMalformedJSON, msg: []string{"type"}},
	{name: "too many events", lim: Limits{MaxPayload: 1 << 16, MaxReadings: 2, MaxPast: day, MaxFuture: time.Minute}, payload: "[" + ev(`"type":"fault"`) + "," + ev(`"type":"fault"`) + "," + ev(`"type":"fault"`) + "]", err: ReasonTooManyReadings, msg: []string{"more than 2 events"}},
	{name: "oversize", lim: Limits{MaxPayload: 10, MaxReadings: 2, MaxPast: day, MaxFuture: time.Minute}, payload: ev(`"type":"fault"`), err: ReasonOversize},
	{name: "trailing garbage", payload: ev(`"type":"fault"`) + "]", err: ReasonMalformedJSON, msg: []string{"unexpected data"}},
	{name: "empty payload", payload: "", err: ReasonMalformedJSON, msg: []string{"empty"}},
	{name: "unknown kind", kind: Kind(77), payload: ev(`"type":"fault"`), err: ReasonUnknownDevice},
}

func TestDecodeEventsTable(t *testing.T) {
	for _, c := range evCases {
		t.Run(c.name, func(t *testing.T) { runEvents(t, c) })
	}
}

// TestEventTypesPerKind sends every event type from every kind: the allowed
// ones decode, the others are rejected as bad_event naming kind and type.
func TestEventTypesPerKind(t *testing.T) {
	for _, kind := range Kinds() {
		for _, typ := range EventTypes() {
			c := eventCase{kind: kind, payload: ev(fmt.Sprintf(`"type":%q`, typ))}
			if kind.Allows(typ) {
				c.want = []Event{{TS: testNow, Seq: 1, Type: typ}}
			} else {
				c.items = []wantItem{{0, ReasonBadEvent, []string{"a " + kind.String() + " does not send " + typ.String()}}}
			}
			t.Run(kind.String()+"/"+typ.String(), func(t *testing.T) { runEvents(t, c) })
		}
	}
	if KindSmoke.Allows(EventUnknown) || Kind(50).Allows(EventFault) {
		t.Error("Allows accepts nonsense")
	}
}

func TestEventTypeNames(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range EventTypes() {
		name := typ.String()
		if seen[name] || !ValidID(name) || typ.Doc() == "" {
			t.Errorf("bad event type %d %q", typ, name)
		}
		seen[name] = true
		if got, ok := ParseEventType(name); !ok || got != typ {
			t.Errorf("ParseEventType(%q) = %v, %v", name, got, ok)
		}
	}
	if _, ok := ParseEventType(""); ok {
		t.Error(`ParseEventType("") succeeds`)
	}
	// encoding/json writes the type by name.
	b, err := json.Marshal(Event{TS: 1, Seq: 2, Type: EventArcFault, Port: 0, Code: "7"})
	if err != nil || string(b) != `{"ts":1,"seq":2,"type":"arc_fault","code":"7"}` {
		t.Errorf("json.Marshal(Event) = %s, %v", b, err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back.Type != EventArcFault {
		t.Errorf("json.Unmarshal: %+v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"type":"nope"}`), &back); err == nil {
		t.Error("json.Unmarshal accepts an unknown type")
	}
	if _, err := json.Marshal(Event{}); err == nil {
		t.Error("json.Marshal accepts EventUnknown")
	}
	if EventType(99).String() != "event(99)" || EventType(99).Doc() != "" {
		t.Error(EventType(99).String())
	}
}
