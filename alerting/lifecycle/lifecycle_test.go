package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

const min = int64(60_000)

var unitKey = alerting.Key{Rule: alerting.RuleIndoorCharging, Place: "u-101"}

func in(op Op, src string, ts int64) *Input {
	return &Input{Op: op, Key: unitKey, Source: src, TS: ts, Since: ts, Severity: alerting.SeverityMajor,
		Evidence: []alerting.Sample{{TS: ts, Device: src}}}
}

// step is one thing that happens to the book: an input, or a person's
// action on the alert with the given id.
type step struct {
	in      *Input
	ack     int64
	close   int64
	outcome alerting.Outcome
	// want: the audit actions taken, as "id:action:to", or the error.
	want    []string
	wantErr string
}

func run(t *testing.T, steps []step) *Book {
	t.Helper()
	b := NewBook(DefaultConfig(), 1)
	now := int64(1_000_000)
	for i, s := range steps {
		now += 1000
		var chs []Change
		var err error
		switch {
		case s.in != nil:
			chs = b.Apply(s.in, now)
		case s.ack != 0:
			var ch Change
			if ch, err = b.Ack(s.ack, "alice", "on my way", now); err == nil {
				chs = append(chs, ch)
			}
		case s.close != 0:
			var ch Change
			if ch, err = b.Close(s.close, "alice", s.outcome, "charger removed", now); err == nil {
				chs = append(chs, ch)
			}
		}
		var got []string
		for _, c := range chs {
			if !c.Transition() {
				got = append(got, fmt.Sprintf("%d:update", c.Alert.ID))
				continue
			}
			got = append(got, fmt.Sprintf("%d:%s:%s", c.Audit.AlertID, c.Audit.Action, c.Audit.To))
			if c.Alert.State != c.Audit.To || c.Audit.At != now {
				t.Errorf("step %d: audit %+v does not match alert state %s", i, c.Audit, c.Alert.State)
			}
		}
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("step %d: error %v, want one containing %q", i, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Errorf("step %d: %v", i, err)
		case !slices.Equal(got, s.want):
			t.Errorf("step %d: changes %q, want %q", i, got, s.want)
		}
	}
	return b
}

func TestLifecycle(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"pending, firing, acknowledged, resolved, closed", []step{
			{in: in(OpPending, "m1", 0), want: []string{"1:pending:pending"}},
			{in: in(OpFire, "m1", min), want: []string{"1:fire:firing"}},
			{ack: 1, want: []string{"1:ack:acknowledged"}},
			{in: in(OpClear, "m1", 10*min), want: []string{"1:resolve:resolved"}},
			{close: 1, outcome: alerting.OutcomeRectified, want: []string{"1:close:closed"}},
		}},
		{"firing resolves without acknowledgement", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{in: in(OpClear, "m1", min), want: []string{"1:resolve:resolved"}},
			{close: 1, outcome: alerting.OutcomeFalseAlarm, want: []string{"1:close:closed"}},
		}},
		{"pending that clears is cancelled, the next condition is a new alert", []step{
			{in: in(OpPending, "m1", 0), want: []string{"1:pending:pending"}},
			{in: in(OpClear, "m1", min), want: []string{"1:cancel:cancelled"}},
			{in: in(OpPending, "m1", 2*min), want: []string{"2:pending:pending"}},
		}},
		{"a meter and a plug in one unit give one alert", []step{
			{in: in(OpFire, "meter", 0), want: []string{"1:fire:firing"}},
			{in: in(OpFire, "plug", min), want: []string{"1:update"}},
			{in: in(OpClear, "meter", 2*min), want: []string{"1:update"}},
			{in: in(OpClear, "meter", 2*min)},
			{in: in(OpClear, "plug", 3*min), want: []string{"1:resolve:resolved"}},
		}},
		{"second source fires a pending alert", []step{
			{in: in(OpPending, "meter", 0), want: []string{"1:pending:pending"}},
			{in: in(OpFire, "plug", min), want: []string{"1:fire:firing"}},
		}},
		{"reopen within the grace period", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{ack: 1, want: []string{"1:ack:acknowledged"}},
			{in: in(OpClear, "m1", min), want: []string{"1:resolve:resolved"}},
			{in: in(OpPending, "m1", 20*min)},
			{in: in(OpFire, "m1", 30*min), want: []string{"1:reopen:firing"}},
			{ack: 1, want: []string{"1:ack:acknowledged"}},
		}},
		{"after the grace period a new alert opens; the old one waits for its close", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{in: in(OpClear, "m1", min), want: []string{"1:resolve:resolved"}},
			{in: in(OpFire, "m1", 32*min), want: []string{"2:fire:firing"}},
			{close: 1, outcome: alerting.OutcomeRectified, want: []string{"1:close:closed"}},
		}},
		{"clear with no active alert does nothing", []step{
			{in: in(OpClear, "m1", 0)},
		}},
		{"invalid: acknowledge twice", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{ack: 1, want: []string{"1:ack:acknowledged"}},
			{ack: 1, wantErr: "alert 1 is acknowledged: cannot ack: already acknowledged by alice"},
		}},
		{"invalid: acknowledge or close a pending alert", []step{
			{in: in(OpPending, "m1", 0), want: []string{"1:pending:pending"}},
			{ack: 1, wantErr: "alert 1 is pending: cannot ack: it has not fired yet"},
			{close: 1, outcome: alerting.OutcomeFalseAlarm, wantErr: "alert 1 is pending: cannot close: it has not fired yet"},
		}},
		{"invalid: rectified while the condition is still there", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{close: 1, outcome: alerting.OutcomeRectified, wantErr: "cannot be closed as rectified"},
			{close: 1, outcome: alerting.OutcomeReferred, want: []string{"1:close:closed"}},
		}},
		{"invalid: close a closed alert", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{close: 1, outcome: alerting.OutcomeFalseAlarm, want: []string{"1:close:closed"}},
			{close: 1, outcome: alerting.OutcomeFalseAlarm, wantErr: "not found"},
		}},
		{"invalid: unknown outcome", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{close: 1, outcome: "fixed", wantErr: `outcome "fixed"`},
		}},
		{"invalid: acknowledge a resolved alert", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{in: in(OpClear, "m1", min), want: []string{"1:resolve:resolved"}},
			{ack: 1, wantErr: "close it with an outcome"},
		}},
		{"closing an active alert frees its key; the condition's clear is ignored", []step{
			{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
			{close: 1, outcome: alerting.OutcomeFalseAlarm, want: []string{"1:close:closed"}},
			{in: in(OpClear, "m1", min)},
			{in: in(OpFire, "m1", 2*min), want: []string{"2:fire:firing"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, c.steps) })
	}
}

func TestResolvedUnacked(t *testing.T) {
	b := run(t, []step{
		{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
		{in: in(OpClear, "m1", min), want: []string{"1:resolve:resolved"}},
	})
	a, _ := b.Get(1)
	if !a.ResolvedUnacked || a.ResolvedAt != min || a.FiredAt != 0 {
		t.Errorf("alert %+v", a)
	}
}

func TestRelapse(t *testing.T) {
	b := run(t, []step{
		{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
		{in: in(OpClear, "m1", min), want: []string{"1:resolve:resolved"}},
		{close: 1, outcome: alerting.OutcomeRectified, want: []string{"1:close:closed"}},
		{in: in(OpFire, "m1", 24*60*min), want: []string{"2:fire:firing"}},
	})
	a, _ := b.Get(2)
	if !a.Relapse || a.RelapseOf != 1 {
		t.Errorf("alert 2 is not a relapse of 1: %+v", a)
	}
	// A false alarm is not rectified: no relapse.
	b = run(t, []step{
		{in: in(OpFire, "m1", 0), want: []string{"1:fire:firing"}},
		{close: 1, outcome: alerting.OutcomeFalseAlarm, want: []string{"1:close:closed"}},
		{in: in(OpFire, "m1", min), want: []string{"2:fire:firing"}},
	})
	if a, _ := b.Get(2); a.Relapse {
		t.Error("relapse after a false alarm")
	}
	// Past the window: no relapse.
	b = NewBook(DefaultConfig(), 1)
	b.LoadRectified(unitKey, 7, 0)
	b.Apply(in(OpFire, "m1", 31*24*60*min), 1)
	if a, _ := b.Get(1); a.Relapse {
		t.Error("relapse after 31 days")
	}
	b.Expire(31 * 24 * 60 * min)
	if len(b.rectified) != 0 {
		t.Error("Expire kept an old rectified close")
	}
}

func TestErrors(t *testing.T) {
	b := NewBook(DefaultConfig(), 1)
	b.Apply(in(OpPending, "m1", 0), 1)
	_, err := b.Ack(1, "bob", "", 2)
	if !errors.Is(err, ErrConflict) {
		t.Errorf("ack of pending: %v is not ErrConflict", err)
	}
	_, err = b.Close(1, "bob", "nope", "", 2)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("bad outcome: %v is not ErrInvalid", err)
	}
	if _, err := b.Ack(42, "bob", "", 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	closed := &alerting.Alert{ID: 9, State: alerting.StateClosed}
	if err := Check(closed, alerting.ActionClose); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "alert 9 is closed: cannot close: it is no longer open") {
		t.Errorf("Check closed: %v", err)
	}
}

func TestEvidenceCap(t *testing.T) {
	b := NewBook(DefaultConfig(), 1)
	for i := range 40 {
		x := in(OpFire, fmt.Sprint("d", i%3), int64(i)*min)
		b.Apply(x, int64(i))
	}
	a, _ := b.Get(1)
	if len(a.Evidence) != alerting.MaxEvidence || a.Evidence[0].TS != 0 || a.Evidence[len(a.Evidence)-1].TS != 39*min {
		t.Errorf("evidence: %d samples, first %d, last %d", len(a.Evidence), a.Evidence[0].TS, a.Evidence[len(a.Evidence)-1].TS)
	}
	if len(a.Sources) != 3 {
		t.Errorf("sources %v", a.Sources)
	}
}

func TestLoad(t *testing.T) {
	b := NewBook(DefaultConfig(), 1)
	b.Load(&alerting.Alert{ID: 5, Rule: unitKey.Rule, Place: unitKey.Place, State: alerting.StateFiring, Sources: []string{"m1"}})
	b.Load(&alerting.Alert{ID: 3, Rule: unitKey.Rule, Place: "u-2", State: alerting.StateResolved, ResolvedAt: 100})
	if b.NextID() != 6 {
		t.Errorf("next id %d", b.NextID())
	}
	if chs := b.Apply(in(OpClear, "m1", time.Hour.Milliseconds()), 1); len(chs) != 1 || chs[0].Alert.ID != 5 {
		t.Errorf("clear after load: %+v", chs)
	}
	k2 := alerting.Key{Rule: unitKey.Rule, Place: "u-2"}
	x := in(OpFire, "m1", 200)
	x.Key = k2
	if chs := b.Apply(x, 2); len(chs) != 1 || chs[0].Audit.Action != alerting.ActionReopen {
		t.Errorf("reopen after load: %+v", chs)
	}
}

// TestTableDoc checks that docs/api.md prints the transition table as it
// is.
func TestTableDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range Table() {
		from := string(tr.From)
		if from == "" {
			from = "(new)"
		}
		row := fmt.Sprintf("| %s | `%s` | %s | %s | %s |", from, tr.Action, tr.To, tr.By, tr.Note)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/api.md lacks the row\n%s", row)
		}
	}
}
