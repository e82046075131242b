package adapters

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
)

func TestMatchAndOverlap(t *testing.T) {
	for _, tc := range []struct {
		filter, topic string
		match         bool
	}{
		{"a/b", "a/b", true}, {"a/+", "a/b", true}, {"a/+", "a/b/c", false}, {"a/#", "a", true},
		{"a/#", "a/b/c", true}, {"#", "x/y", true}, {"+/b", "a/b", true}, {"a/b", "a/c", false},
		{"a/+/c", "a//c", true}, {"a", "a/b", false}, {"tele/x/+", "tele/x/SENSOR", true},
	} {
		if got := Match(tc.filter, tc.topic); got != tc.match {
			t.Errorf("Match(%q, %q) = %v", tc.filter, tc.topic, got)
		}
	}
	for _, tc := range []struct {
		a, b    string
		overlap bool
	}{
		{"a/#", "a/b/c", true}, {"a/+", "a/b", true}, {"a/+", "b/+", false}, {"z/dt-01/#", "z/dt-02/#", false},
		{"z/#", "z/dt-01/#", true}, {"a/b", "a/b/c", false}, {"a/+/c", "a/b/+", true}, {"#", "x", true}, {"a", "a/#", true},
	} {
		if got := Overlap(tc.a, tc.b); got != tc.overlap {
			t.Errorf("Overlap(%q, %q) = %v", tc.a, tc.b, got)
		}
		if got := Overlap(tc.b, tc.a); got != tc.overlap {
			t.Errorf("Overlap(%q, %q) = %v", tc.b, tc.a, got)
		}
	}
	for f, ok := range map[string]bool{"a/+/b": true, "a/#": true, "a/#/b": false, "a+/b": false, "": false, "$SYS/#": false} {
		if ValidFilter(f) != ok {
			t.Errorf("ValidFilter(%q) = %v", f, !ok)
		}
	}
}

func TestNumberAndBool(t *testing.T) {
	for in, want := range map[string]float64{`100`: 100, `"100.00"`: 100, `" 7.5 "`: 7.5, `1e2`: 100} {
		if v, ok := Number(json.RawMessage(in)); !ok || v != want {
			t.Errorf("Number(%s) = %v, %v", in, v, ok)
		}
	}
	for _, in := range []string{`"n/a"`, `true`, `null`, `"1e400"`, `[1]`} {
		if _, ok := Number(json.RawMessage(in)); ok {
			t.Errorf("Number(%s) ok", in)
		}
	}
	for in, want := range map[string]bool{`"ON"`: true, `"OFF"`: false, `true`: true, `0`: false, `"1"`: true} {
		if v, ok := Bool(json.RawMessage(in)); !ok || v != want {
			t.Errorf("Bool(%s) = %v, %v", in, v, ok)
		}
	}
}

type fixed []string

func (f fixed) Filters() []string { return f }
func (f fixed) Map(topic string, _ []byte, now time.Time) ([]Mapped, []*devices.Error) {
	return []Mapped{Online("gw-1", f[0][:3], true, now)}, nil
}

func TestRouter(t *testing.T) {
	if _, err := NewRouter(fixed{"abc/#"}, fixed{"abc/x/+"}); err == nil {
		t.Error("overlapping filters accepted")
	}
	r, err := NewRouter(fixed{"abc/#"}, fixed{"def/+"})
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := r.Map("def/1", nil, time.UnixMilli(5))
	if len(ms) != 1 || ms[0].Device != "def" || string(ms[0].AppendPayload(nil)) != `{"online":true,"ts":5}` || ms[0].Topic() != "cw/v1/gw-1/def/status" {
		t.Errorf("%+v", ms)
	}
	if _, rej := r.Map("ghi", nil, time.Now()); len(rej) != 1 {
		t.Error("unrouted topic not rejected")
	}
}

func TestSeqsAndTransitions(t *testing.T) {
	var s Seqs
	r := s.Reading("d", 1)
	if r.Seq != 1 || !r.SeqReset {
		t.Errorf("first reading %+v", r)
	}
	if ev := s.Event("d", 2, devices.EventSmokeAlarm, ""); ev.Seq != 2 {
		t.Errorf("event seq %d", ev.Seq)
	}
	var tr Transitions
	for i, tc := range []struct{ v, changed bool }{{false, false}, {true, true}, {true, false}, {false, true}} {
		if got := tr.Change("d/smoke", tc.v); got != tc.changed {
			t.Errorf("step %d: Change(%v) = %v", i, tc.v, got)
		}
	}
	if !(&Transitions{}).Change("x", true) {
		t.Error("a raised level at start is a change")
	}
}
