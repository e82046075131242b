package devices

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func i64(v int64) *int64 { return &v }

type statusCase struct {
	name    string
	payload string
	want    *Status // checked when non-nil
	err     Reason
	msg     []string
}

var statusCases = []statusCase{
	{name: "online", payload: fmt.Sprintf(`{"online":true,"ts":%d}`, testNow), want: &Status{Online: true, TS: testNow}},
	{name: "online with health", payload: fmt.Sprintf(`{"online":true,"ts":%d,"uptime_s":86400,"queue_depth":0,"queue_age_s":12,"poll_errors":3,"clock":"synced","version":"cw-edge 1.4.2"}`, testNow),
		want: &Status{Online: true, TS: testNow, UptimeS: i64(86400), QueueDepth: i64(0), QueueAgeS: i64(12), PollErrors: i64(3), Clock: ClockSynced, Version: "cw-edge 1.4.2"}},
	{name: "clock unsynced", payload: fmt.Sprintf(`{"online":true,"ts":%d,"clock":"unsynced"}`, testNow), want: &Status{Online: true, TS: testNow, Clock: ClockUnsynced}},
	{name: "last will", payload: string(LastWill), want: &Status{}},
	{name: "offline with ts", payload: fmt.Sprintf(`{"online":false,"ts":%d}`, testNow), want: &Status{TS: testNow}},
	{name: "old retained status", payload: fmt.Sprintf(`{"online":true,"ts":%d}`, testNow-(400*day).Milliseconds()), want: &Status{Online: true, TS: testNow - (400 * day).Milliseconds()}},
	{name: "status from the future", payload: fmt.Sprintf(`{"online":true,"ts":%d}`, testNow+(5*time.Minute).Milliseconds()+1), err: ReasonTimestamp, msg: []string{"in the future"}},
	{name: "unsynced clock in the future", payload: fmt.Sprintf(`{"online":true,"ts":%d,"clock":"unsynced"}`, testNow+(400*day).Milliseconds()), want: &Status{Online: true, TS: testNow + (400 * day).Milliseconds(), Clock: ClockUnsynced}},
	{name: "synced clock in the future", payload: fmt.Sprintf(`{"online":true,"ts":%d,"clock":"synced"}`, testNow+(400*day).Milliseconds()), err: ReasonTimestamp},
	{name: "status ts in seconds", payload: fmt.Sprintf(`{"online":true,"ts":%d}`, testNow/1000), err: ReasonTimestamp, msg: []string{"Unix seconds"}},
	{name: "status ts zero", payload: `{"online":true,"ts":0}`, err: ReasonTimestamp, msg: []string{"ts 0"}},
	{name: "online without ts", payload: `{"online":true}`, err: ReasonMissingField, msg: []string{"online status needs ts"}},
	{name: "no online", payload: fmt.Sprintf(`{"ts":%d}`, testNow), err: ReasonMissingField, msg: []string{"no online flag", "Last Will"}},
	{name: "empty object", payload: `{}`, err: ReasonMissingField, msg: []string{"no online flag"}},
	{name: "online string", payload: `{"online":"true"}`, err: ReasonWrongType, msg: []string{"online", "boolean", "string"}},
	{name: "online number", payload: `{"online":1}`, err: ReasonWrongType, msg: []string{"online", "number"}},
	{name: "online bad literal", payload: `{"online":tru}`, err: ReasonMalformedJSON, msg: []string{"online", "true, false or null"}},
	{name: "clock unknown", payload: fmt.Sprintf(`{"online":true,"ts":%d,"clock":"ntp"}`, testNow), err: ReasonOutOfRange, msg: []string{`clock "ntp"`, "synced"}},
	{name: "clock number", payload: fmt.Sprintf(`{"online":true,"ts":%d,"clock":1}`, testNow), err: ReasonWrongType, msg: []string{"clock", "number"}},
	{name: "unknown key", payload: fmt.Sprintf(`{"online":true,"ts":%d,"cpu":3}`, testNow), err: ReasonUnknownField, msg: []string{`"cpu"`, "queue_depth"}},
	{name: "negative counter", payload: fmt.Sprintf(`{"online":true,"ts":%d,"queue_depth":-1}`, testNow), err: ReasonOutOfRange, msg: []string{"queue_depth -1"}},
	{name: "fractional counter", payload: fmt.Sprintf(`{"online":true,"ts":%d,"uptime_s":1.5}`, testNow), err: ReasonWrongType, msg: []string{"uptime_s", "whole number"}},
	{name: "huge counter", payload: fmt.Sprintf(`{"online":true,"ts":%d,"poll_errors":1e300}`, testNow), err: ReasonOutOfRange, msg: []string{"poll_errors"}},
	{name: "overflowing counter", payload: fmt.Sprintf(`{"online":true,"ts":%d,"queue_age_s":1e999}`, testNow), err: ReasonNonFinite, msg: []string{"queue_age_s"}},
	{name: "version 64 bytes", payload: fmt.Sprintf(`{"online":true,"ts":%d,"version":"%s"}`, testNow, strings.Repeat("v", 64)), want: &Status{Online: true, TS: testNow, Version: strings.Repeat("v", 64)}},
	{name: "version 65 bytes", payload: fmt.Sprintf(`{"online":true,"ts":%d,"version":"%s"}`, testNow, strings.Repeat("v", 65)), err: ReasonOutOfRange, msg: []string{"version", "65 bytes", "64"}},
	{name: "duplicate online", payload: `{"online":false,"online":true}`, err: ReasonMalformedJSON, msg: []string{"duplicate", `"online"`}},
	{name: "duplicate version", payload: `{"online":false,"version":"a","version":"b"}`, err: ReasonMalformedJSON, msg: []string{"duplicate", `"version"`}},
	{name: "first error wins", payload: `{"online":"yes","cpu":1}`, err: ReasonWrongType, msg: []string{"online"}},
	{name: "empty payload", payload: ``, err: ReasonMalformedJSON, msg: []string{"empty", "clears"}},
	{name: "array", payload: `[{"online":false}]`, err: ReasonMalformedJSON, msg: []string{"a status must be a JSON object", "array"}},
	{name: "trailing garbage", payload: `{"online":false}}`, err: ReasonMalformedJSON, msg: []string{"unexpected data"}},
	{name: "trailing comma", payload: `{"online":false,}`, err: ReasonMalformedJSON, msg: []string{"trailing comma"}},
	{name: "single quotes", payload: `{'online':false}`, err: ReasonMalformedJSON, msg: []string{"double quotes"}},
	{name: "deep unknown value", payload: `{"online":false,"x":` + strings.Repeat(`{"a":`, 10000), err: ReasonMalformedJSON, msg: []string{"nesting too deep"}},
	{name: "oversize", payload: `{"online":false}` + strings.Repeat(" ", 65536), err: ReasonOversize},
}

func TestDecodeStatusTable(t *testing.T) {
	d := NewDecoder(DefaultLimits())
	for _, c := range statusCases {
		t.Run(c.name, func(t *testing.T) {
			st, err := d.DecodeStatus([]byte(c.payload), testNow)
			if c.err != "" {
				checkError(t, "status", err, c.err, c.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %s: %s", err.Reason, err.Msg)
			}
			if c.want != nil && !statusEqual(st, *c.want) {
				t.Errorf("got %s\nwant %s", AppendStatus(nil, st), AppendStatus(nil, *c.want))
			}
		})
	}
}

func statusEqual(a, b Status) bool {
	eq := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Online == b.Online && a.TS == b.TS && a.Clock == b.Clock && a.Version == b.Version &&
		eq(a.UptimeS, b.UptimeS) && eq(a.QueueDepth, b.QueueDepth) && eq(a.QueueAgeS, b.QueueAgeS) && eq(a.PollErrors, b.PollErrors)
}

func TestLastWill(t *testing.T) {
	if got := string(AppendStatus(nil, Status{})); got != string(LastWill) {
		t.Errorf("AppendStatus(Status{}) = %s, want the Last Will %s", got, LastWill)
	}
}
