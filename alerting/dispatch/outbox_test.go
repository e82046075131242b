package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

func receipts(t *testing.T, r *rig, f ReceiptFilter) []Receipt {
	t.Helper()
	rs, err := r.d.Receipts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRetryThenFallback(t *testing.T) {
	r := newRig(t, nil)
	r.rec.setFail(ChannelWebhook, retryable) // gw1's own webhook is down
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	expect(t, "first attempt fails", r.at(0))
	rs := receipts(t, r, ReceiptFilter{AlertID: 1})
	if len(rs) != 1 || rs[0].Status != StatusPending || rs[0].Attempts != 1 || !strings.Contains(rs[0].LastError, "connection refused") {
		t.Fatalf("after one attempt: %+v", rs)
	}
	// Backoff: 1s ±20%; nothing is tried before.
	expect(t, "before the backoff", r.at(700*time.Millisecond))
	if n := r.rec.attempts[ChannelWebhook]; n != 1 {
		t.Errorf("%d webhook attempts before the backoff ran out", n)
	}
	// Second failure: fallback_after 2 moves it to sms, sent at once.
	got := r.at(1300 * time.Millisecond)
	expect(t, "fallback", got, "firing sms L0 gw1 [1]")
	if !strings.Contains(got[0].m.Text, "确认接警：https://cw.example.org/ack/") {
		t.Errorf("the fallback lost the personal link:\n%s", got[0].m.Text)
	}
	rs = receipts(t, r, ReceiptFilter{AlertID: 1})
	if len(rs) != 2 {
		t.Fatalf("receipts %+v", rs)
	}
	sms, hook := rs[0], rs[1] // newest first
	if hook.Channel != "webhook" || hook.Status != StatusFailed || hook.Attempts != 2 || !strings.Contains(hook.LastError, "falling back to sms") ||
		hook.Address != "http://hooks.test/hook/gw1" {
		t.Errorf("webhook receipt %+v", hook)
	}
	if sms.Channel != "sms" || sms.Status != StatusSent || sms.Attempts != 1 || sms.FallbackOf != hook.ID || sms.Address != "138****0001" ||
		sms.SentAt == 0 || sms.Person != "gw1" || sms.Kind != "firing" || !strings.Contains(sms.Title, "烟感报警") {
		t.Errorf("sms receipt %+v", sms)
	}
	if n := counter(t, r.reg, "chargewatch_dispatch_deliveries_total", "notifier", "webhook", "result", "fallback"); n != 1 {
		t.Errorf("fallback counter %v", n)
	}
	if n := counter(t, r.reg, "chargewatch_dispatch_delivery_failures_total", "notifier", "webhook", "reason", "network"); n != 2 {
		t.Errorf("failure counter %v", n)
	}
	if n := counter(t, r.reg, "chargewatch_dispatch_delivery_latency_seconds", "notifier", "sms"); n != 1 {
		t.Errorf("latency observations %v", n)
	}
}

func TestPermanentFailureFallsBackAtOnce(t *testing.T) {
	r := newRig(t, nil)
	r.rec.setFail(ChannelWeCom, func(*notify.Message) error {
		return notify.Permanent(notify.ReasonProvider, errBoom)
	})
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u4"), alerting.ActionFire) // gw3: wecom robot, then sms
	got := r.at(0)
	expect(t, "robot fails, then sms", got, "firing sms L0 gw3 [1]")
	if !strings.Contains(got[0].m.Text, "ack/") {
		t.Errorf("sms after a robot: no personal link\n%s", got[0].m.Text)
	}
}

func TestGiveUpOnTheLastContact(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Outbox.MaxAttempts = 3
	r := newRig(t, cfg)
	r.rec.setFail(ChannelWebhook, retryable)
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	r.rec.setFail(ChannelSMS, retryable)
	for i := range 10 {
		r.at(time.Duration(i) * time.Minute)
	}
	var rs []Receipt
	for _, x := range receipts(t, r, ReceiptFilter{AlertID: 1}) {
		if x.Kind == "firing" {
			rs = append(rs, x)
		}
	}
	if len(rs) != 2 || rs[0].Status != StatusFailed || rs[0].Attempts != 3 || rs[1].Status != StatusFailed {
		t.Errorf("receipts %+v", rs)
	}
	if b, _ := r.d.Backlog(context.Background()); b.Pending != 0 {
		t.Errorf("backlog %+v", b)
	}
}

func TestRestartResumesWithoutResending(t *testing.T) {
	r := newRig(t, nil)
	r.rec.setFail(ChannelSMS, retryable)
	// Three alerts: gw1's (webhook) goes through, so1's and gw3's sms do not.
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	a2 := r.alert(2, alerting.RuleSmoke, crit, "u4")
	r.rec.setFail(ChannelWeCom, func(*notify.Message) error { return notify.Permanent(notify.ReasonProvider, errBoom) })
	r.transition(a2, alerting.ActionFire)
	expect(t, "before the restart", r.at(0), "firing webhook L0 gw1 [1]")
	b, err := r.d.Backlog(context.Background())
	if err != nil || b.Pending != 1 || !b.Oldest.Equal(t0) {
		t.Fatalf("backlog %+v %v", b, err)
	}
	if n := counter(t, r.reg, "chargewatch_dispatch_outbox_pending"); n != 1 {
		t.Errorf("pending gauge %v", n)
	}
	r.clock.Set(t0.Add(30 * time.Second))
	if n := counter(t, r.reg, "chargewatch_dispatch_outbox_oldest_age_seconds"); n != 30 {
		t.Errorf("oldest age gauge %v", n)
	}

	r.restart()
	r.rec.setFail(ChannelSMS, nil)
	expect(t, "after the restart: only the pending one", r.at(time.Minute), "firing sms L0 gw3 [2]")
	// The ladder survived the restart too: 5 minutes after the fire.
	expect(t, "escalation after the restart", r.at(5*time.Minute),
		// Two buildings: two messages to the street officer.
		"escalation sms L1 so1 [1]", "escalation sms L1 so1 [2]", "reminder webhook L0 gw1 [1]", "reminder sms L0 gw3 [2]")
	r.restart()
	expect(t, "nothing twice", r.at(6*time.Minute))
	if n := r.rec.attempts[ChannelWebhook]; n != 2 {
		t.Errorf("webhook attempts %d, want 2 (notice and reminder)", n)
	}
}

func TestCancelWhenAcknowledgedBeforeSending(t *testing.T) {
	r := newRig(t, nil)
	r.rec.setFail(ChannelWebhook, retryable)
	r.rec.setFail(ChannelSMS, retryable)
	a := r.alert(1, alerting.RuleSmoke, crit, "u1")
	r.transition(a, alerting.ActionFire)
	r.at(0)
	a.AckedBy = "gw1"
	r.transition(a, alerting.ActionAck)
	r.at(10 * time.Second)
	rs := receipts(t, r, ReceiptFilter{AlertID: 1})
	var statuses []string
	for _, x := range rs {
		statuses = append(statuses, x.Channel+"/"+x.Status)
	}
	if len(rs) == 0 || rs[len(rs)-1].Status != StatusCancelled {
		t.Errorf("receipts %v", statuses)
	}
}

func TestRateLimitHoldsBackAllButCritical(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RateLimits[ChannelSMS] = RateLimit{Count: 2, Per: 10 * time.Minute}
	cfg.GroupWait = 0
	r := newRig(t, cfg)
	// Night: gw2 (sms) gets everything for c1. Three buildings' worth of
	// major alerts, then a smoke alarm.
	r.clock.Set(t0.Add(8 * time.Hour))
	for i, u := range []string{"u1", "u3", "u1"} {
		a := r.alert(int64(i+1), alerting.RuleOverTemperature, major, u)
		a.Location.Building = []string{"b1", "b2", "b9"}[i]
		r.transition(a, alerting.ActionFire)
	}
	got := r.at(8 * time.Hour)
	if len(got) != 2 {
		t.Fatalf("%d sent, want 2 within the limit: %v", len(got), got)
	}
	smoke := r.alert(9, alerting.RuleSmoke, crit, "u1")
	r.transition(smoke, alerting.ActionFire)
	expect(t, "smoke is never held back", r.at(8*time.Hour+time.Second), "firing sms L0 gw2 [9]")
	r.clock.Set(t0.Add(8*time.Hour + 2*time.Second))
	smoke.AckedBy = "gw2"
	r.transition(smoke, alerting.ActionAck)
	if n := counter(t, r.reg, "chargewatch_dispatch_rate_limited_total", "notifier", "sms"); n < 1 {
		t.Errorf("rate limited %v", n)
	}
	// A token comes back after 5 minutes.
	got = r.at(8*time.Hour + 5*time.Minute + time.Second)
	if len(got) != 1 || got[0].m.Kind != notify.KindFiring {
		t.Errorf("held-back message: %v", got)
	}
}

func TestCatchUpFromAuditLog(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Outbox.Queue = 1
	r := newRig(t, cfg)
	r.src = r
	r.restart() // now with the audit log as a source
	r.step()
	// The queue holds one batch: the others overflow and are read back.
	for i := range int64(5) {
		r.transition(r.alert(i+1, alerting.RuleSmoke, crit, []string{"u1", "u4"}[i%2]), alerting.ActionFire)
	}
	got := r.at(0)
	// All five once, one message per building.
	expect(t, "all five, once", got, "firing webhook L0 gw1 [1 3 5]", "firing wecom L0 gw3 [2 4]")
	if n := counter(t, r.reg, "chargewatch_dispatch_events_total", "event", "inbox_overflow"); n != 4 {
		t.Errorf("overflows %v", n)
	}
	// Transitions committed while the dispatcher was down are caught up
	// at the start, with the ladder counted from their commit.
	r.d.Close()
	r.clock.Set(t0.Add(time.Minute))
	a6 := r.alert(6, alerting.RuleSmoke, crit, "u1")
	au := len(r.audit)
	r.audit = append(r.audit, alerting.Audit{ID: int64(au + 1), AlertID: 6, At: r.clock.Now().UnixMilli(), Action: alerting.ActionFire, To: alerting.StateFiring})
	r.docs[6] = a6
	r.open()
	expect(t, "after the restart", r.at(2*time.Minute), "firing webhook L0 gw1 [6]")
	got = r.at(6 * time.Minute)
	found := false
	for _, s := range got {
		if s.m.Kind == notify.KindEscalation && alertIDs(s.m)[len(alertIDs(s.m))-1] == 6 {
			found = true
		}
	}
	if !found {
		t.Errorf("alert 6 not escalated 5 minutes after its fire: %v", got)
	}
}

func TestFreshDatabaseNotifiesOnlyWhatIsFiring(t *testing.T) {
	r := newRig(t, nil)
	r.d.Close()
	// History: alert 1 fired and was closed; alert 2 fired a day ago and
	// is still firing; alert 3 fired and was acknowledged.
	r.clock.Set(t0.Add(-24 * time.Hour))
	a1, a2, a3 := r.alert(1, alerting.RuleSmoke, crit, "u1"), r.alert(2, alerting.RuleSmoke, crit, "u4"), r.alert(3, alerting.RuleSmoke, crit, "u3")
	for _, a := range []*alerting.Alert{a1, a2, a3} {
		r.audit = append(r.audit, alerting.Audit{ID: int64(len(r.audit) + 1), AlertID: a.ID, At: r.clock.Now().UnixMilli(), Action: alerting.ActionFire})
	}
	a1.State, a3.State = alerting.StateClosed, alerting.StateAcknowledged
	for _, a := range []*alerting.Alert{a1, a2, a3} {
		r.docs[a.ID] = a
	}
	r.clock.Set(t0)
	r.src = r
	r.path = r.path + "-new"
	r.open()
	expect(t, "fresh start", r.at(0), "firing wecom L0 gw3 [2]")
	expect(t, "ladder counts from now", r.at(4*time.Minute))
}

func TestForwardSupersedes(t *testing.T) {
	r := newRig(t, nil)
	var posts [][]string
	r.notifs[ChannelAlertmanager] = &fakeForwarder{f: func(m *notify.Message) error {
		var s []string
		for _, a := range m.Alerts {
			s = append(s, string(a.State))
		}
		posts = append(posts, s)
		return retryable(nil)
	}}
	r.restart()
	a := r.alert(1, alerting.RuleOverTemperature, major, "u1")
	r.transition(a, alerting.ActionFire)
	r.at(0)
	a.AckedBy = "x"
	r.transition(a, alerting.ActionAck)
	r.transition(a, alerting.ActionResolve)
	r.at(time.Second)
	rs := receipts(t, r, ReceiptFilter{Channel: ChannelAlertmanager})
	var st []string
	for _, x := range rs {
		st = append(st, x.Status)
	}
	// Newest first: the resolved state pending, the two before it replaced.
	if strings.Join(st, ",") != "pending,cancelled,cancelled" {
		t.Errorf("forward receipts %v", st)
	}
}

type fakeForwarder struct{ f func(*notify.Message) error }

func (f *fakeForwarder) Notify(_ context.Context, m *notify.Message) error { return f.f(m) }
func (f *fakeForwarder) ResendInterval() time.Duration                     { return time.Minute }

// runRig runs the dispatcher in the background until the test ends or
// stop is called.
func runRig(t *testing.T, r *rig, grace time.Duration) (stop func()) {
	t.Helper()
	r.d.grace = grace
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.d.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func TestSlowReceiversDoNotHoldUpSmoke(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Outbox.Concurrency = 1
	cfg.GroupWait = 0
	r := newRig(t, cfg)
	release := make(chan struct{})
	r.notifs[ChannelWeCom] = notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	delivered := make(chan int64, 10)
	r.notifs[ChannelWebhook] = notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
		delivered <- m.Alerts[0].ID
		return nil
	})
	r.restart()
	runRig(t, r, time.Second)
	defer close(release)
	// A major alert whose robot hangs takes the only slot.
	r.transition(r.alert(1, alerting.RuleOverTemperature, major, "u4"), alerting.ActionFire)
	time.Sleep(100 * time.Millisecond)
	r.transition(r.alert(2, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	select {
	case id := <-delivered:
		if id != 2 {
			t.Errorf("delivered %d", id)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the smoke alarm waited for a slow receiver")
	}
}

func TestShutdownLeavesInFlightPending(t *testing.T) {
	r := newRig(t, nil)
	started := make(chan struct{}, 1)
	r.notifs[ChannelWebhook] = notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
		started <- struct{}{}
		<-ctx.Done() // a receiver that never answers
		return ctx.Err()
	})
	r.restart()
	stop := runRig(t, r, 100*time.Millisecond)
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	<-started
	stop()
	rs := receipts(t, r, ReceiptFilter{AlertID: 1})
	if len(rs) != 1 || rs[0].Status != StatusPending || rs[0].Attempts != 0 {
		t.Fatalf("after shutdown: %+v", rs)
	}
	r.notifs = r.rec.notifiers()
	r.restart()
	expect(t, "after the restart", r.at(time.Second), "firing webhook L0 gw1 [1]")
}
