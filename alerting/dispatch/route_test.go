package dispatch

import (
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

const (
	crit  = alerting.SeverityCritical
	major = alerting.SeverityMajor
)

func TestSmokeGoesOutAtOnce(t *testing.T) {
	r := newRig(t, nil)
	a := r.alert(1, alerting.RuleSmoke, crit, "u1")
	r.transition(a, alerting.ActionFire)
	got := r.at(0) // no group wait, no clock movement
	expect(t, "first notice", got, "firing webhook L0 gw1 [1]")
	m := got[0].m
	if !strings.HasPrefix(m.AckURL, "https://cw.example.org/ack/") {
		t.Errorf("personal channel without ack link: %q", m.AckURL)
	}
	for _, want := range []string{"烟感报警", "拱墅区 米市巷街道 大塘巷社区 大塘新村1幢 302室", "杭州市拱墅区大塘巷12号", "已持续 1分钟", m.AckURL} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if _, off := m.At.Zone(); off != 8*3600 {
		t.Errorf("message time %s, not in Asia/Shanghai", m.At)
	}
}

func TestOneMessagePerBuilding(t *testing.T) {
	r := newRig(t, nil)
	// Ten detectors in building b1 fire within the group wait, and one in b2.
	for i := range int64(10) {
		r.clock.Set(t0.Add(time.Duration(i) * time.Second))
		r.transition(r.alert(10+i, alerting.RuleOverTemperature, major, []string{"u1", "u2"}[i%2]), alerting.ActionFire)
		r.step()
	}
	r.transition(r.alert(30, alerting.RuleIndoorCharging, major, "u3"), alerting.ActionFire)
	expect(t, "inside the group wait", r.at(29*time.Second))
	got := r.at(30 * time.Second)
	expect(t, "b1 after the group wait", got, "firing webhook L0 gw1 [10 11 12 13 14 15 16 17 18 19]")
	if !strings.Contains(got[0].m.Title, "大塘新村1幢 10项隐患") {
		t.Errorf("title %q", got[0].m.Title)
	}
	expect(t, "b2 after its own wait", r.at(39*time.Second), "firing webhook L0 gw1 [30]")

	// The group's ladder counts from its notice, together: one escalation
	// message for the ten at 30 minutes.
	expect(t, "escalation", r.at(30*time.Minute+30*time.Second),
		"escalation sms L1 so1 [10 11 12 13 14 15 16 17 18 19]", "reminder webhook L0 gw1 [10 11 12 13 14 15 16 17 18 19]")
}

func TestCriticalLadder(t *testing.T) {
	r := newRig(t, nil)
	a := r.alert(1, alerting.RuleSmoke, crit, "u1")
	r.transition(a, alerting.ActionFire)
	expect(t, "0m", r.at(0), "firing webhook L0 gw1 [1]")
	expect(t, "4m59s", r.at(5*time.Minute-time.Second))
	got := r.at(5 * time.Minute)
	expect(t, "5m: street, and a reminder", got, "escalation sms L1 so1 [1]", "reminder webhook L0 gw1 [1]")
	for _, s := range got {
		if s.m.Kind == notify.KindEscalation && !strings.Contains(s.m.Text, "已升级通知街道值班人员") {
			t.Errorf("escalation text:\n%s", s.m.Text)
		}
	}
	expect(t, "10m: reminders", r.at(10*time.Minute), "reminder sms L1 so1 [1]", "reminder webhook L1 gw1 [1]")
	got = r.at(15 * time.Minute)
	expect(t, "15m: district and fire brigade", got,
		"escalation dingtalk L2 do1 [1]", "escalation webhook L2 fb1 [1]", "reminder sms L1 so1 [1]", "reminder webhook L1 gw1 [1]")
	for _, s := range got {
		if s.m.Recipient.Person == "do1" && (s.m.Locale != "zh" || !strings.Contains(s.m.Markdown, "(https://cw.example.org/alerts/1)") || strings.Contains(s.m.Markdown, "/ack/")) {
			t.Errorf("group robot message: locale %s ack %q\n%s", s.m.Locale, s.m.AckURL, s.m.Markdown)
		}
	}
	// Acknowledged at 16m: the ladder stops; the others hear of it.
	r.clock.Set(t0.Add(16 * time.Minute))
	a.AckedBy = "gw1"
	r.transition(a, alerting.ActionAck)
	expect(t, "ack", r.at(16*time.Minute),
		"acknowledged dingtalk L2 do1 [1]", "acknowledged webhook L2 fb1 [1]", "acknowledged sms L2 so1 [1]")
	expect(t, "after the ack", r.at(time.Hour))
	if n := counter(t, r.reg, "chargewatch_dispatch_escalations_total", "severity", "critical"); n != 2 {
		t.Errorf("escalations %v", n)
	}
	if n := counter(t, r.reg, "chargewatch_dispatch_reminders_total", "severity", "critical"); n != 3 {
		t.Errorf("reminders %v", n)
	}
}

func TestMajorLadderCountsFromFirstNotice(t *testing.T) {
	r := newRig(t, nil)
	r.transition(r.alert(1, alerting.RuleIndoorCharging, major, "u3"), alerting.ActionFire)
	expect(t, "first", r.at(30*time.Second), "firing webhook L0 gw1 [1]")
	expect(t, "before 30m", r.at(30*time.Minute+29*time.Second))
	expect(t, "30m", r.at(30*time.Minute+30*time.Second), "escalation sms L1 so1 [1]", "reminder webhook L0 gw1 [1]")
	expect(t, "2h", r.at(2*time.Hour+30*time.Second), "escalation dingtalk L2 do1 [1]", "reminder sms L1 so1 [1]", "reminder webhook L1 gw1 [1]")
}

func TestRelapseStartsOneLevelHigher(t *testing.T) {
	r := newRig(t, nil)
	a := r.alert(1, alerting.RuleSmoke, crit, "u1")
	a.Relapse, a.RelapseOf = true, 0
	r.transition(a, alerting.ActionFire)
	got := r.at(0)
	expect(t, "relapse", got, "firing webhook L0 gw1 [1]", "firing sms L1 so1 [1]")
	for _, s := range got {
		if !strings.Contains(s.m.Text, "复发") {
			t.Errorf("relapse not marked:\n%s", s.m.Text)
		}
	}
	// The next level comes 15-5 = 10 minutes later.
	expect(t, "9m", r.at(9*time.Minute), "reminder sms L1 so1 [1]", "reminder webhook L1 gw1 [1]")
	got = r.at(10 * time.Minute)
	if len(got) != 4 || got[0].m.Kind != notify.KindEscalation {
		t.Errorf("10m: %v", got)
	}
}

func TestResolvedUnacknowledged(t *testing.T) {
	r := newRig(t, nil)
	a := r.alert(1, alerting.RuleSmoke, crit, "u1")
	r.transition(a, alerting.ActionFire)
	r.at(0)
	r.at(5 * time.Minute) // street told
	r.clock.Set(t0.Add(6 * time.Minute))
	r.transition(a, alerting.ActionResolve)
	got := r.at(6 * time.Minute)
	expect(t, "resolved notice", got, "resolved webhook L1 gw1 [1]", "resolved sms L1 so1 [1]")
	if !strings.Contains(got[0].m.Text, "期间无人确认") || !strings.Contains(got[0].m.Text, "仍须到场核查") {
		t.Errorf("resolved unacked text:\n%s", got[0].m.Text)
	}
	expect(t, "ladder stopped", r.at(30*time.Minute))
	// It comes back within the grace period: the ladder resumes where it was.
	r.clock.Set(t0.Add(31 * time.Minute))
	r.transition(a, alerting.ActionReopen)
	got = r.at(31 * time.Minute)
	expect(t, "reopened", got, "firing webhook L0 gw1 [1]", "firing sms L1 so1 [1]")
	if !strings.Contains(got[0].m.Text, "再次触发") {
		t.Errorf("reopen text:\n%s", got[0].m.Text)
	}
	expect(t, "next level 10m after the reopen", r.at(41*time.Minute),
		"escalation dingtalk L2 do1 [1]", "escalation webhook L2 fb1 [1]", "reminder sms L1 so1 [1]", "reminder webhook L1 gw1 [1]")
	// Closed: forgotten.
	r.transition(a, alerting.ActionClose)
	r.at(42 * time.Minute)
	if len(r.d.alerts) != 0 {
		t.Errorf("closed alert still followed")
	}
}

func TestNobodyOnDutyMovesUp(t *testing.T) {
	r := newRig(t, nil)
	// An area outage has a street but no community: no grid worker is on
	// duty for it, so the street officer is told at once.
	a := r.alert(1, alerting.RuleAreaOutage, major, "u1")
	a.Location = alerting.Location{District: "d1", Street: "s1"}
	r.transition(a, alerting.ActionFire)
	expect(t, "street told at once", r.at(30*time.Second), "firing sms L1 so1 [1]")
	if n := counter(t, r.reg, "chargewatch_dispatch_no_recipient_total", "severity", "major"); n != 1 {
		t.Errorf("no_recipient %v", n)
	}
}

func TestNightShift(t *testing.T) {
	r := newRig(t, nil)
	r.clock.Set(t0.Add(8 * time.Hour)) // 22:00
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	expect(t, "night", r.at(8*time.Hour), "firing sms L0 gw2 [1]")
}

func TestSilencedAndInfoAreNotNotified(t *testing.T) {
	r := newRig(t, nil)
	a := r.alert(1, alerting.RuleSmoke, crit, "u1")
	a.SilenceID = 3
	r.transition(a, alerting.ActionFire)
	r.transition(r.alert(2, alerting.RuleLowBattery, alerting.SeverityInfo, "u1"), alerting.ActionFire)
	expect(t, "nothing", r.at(time.Hour))
}

func TestAckBeforeGroupWaitSendsNothing(t *testing.T) {
	r := newRig(t, nil)
	a := r.alert(1, alerting.RuleIndoorCharging, major, "u3")
	r.transition(a, alerting.ActionFire)
	r.at(10 * time.Second)
	a.AckedBy = "adm"
	r.transition(a, alerting.ActionAck)
	expect(t, "acked in the wait", r.at(time.Hour))
}

func TestRuleLadderOverridesSeverity(t *testing.T) {
	cfg, err := ParseConfig("n.yaml", []byte(`
escalation:
  indoor_charging:
    remind_every: 0s
    levels:
      - {after: 0s, to: [grid_worker]}
      - {after: 10m, to: [district_officer], people: [fb1]}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, cfg)
	r.transition(r.alert(1, alerting.RuleIndoorCharging, major, "u3"), alerting.ActionFire)
	r.at(30 * time.Second)
	got := r.at(10*time.Minute + 30*time.Second)
	expect(t, "rule ladder", got, "escalation dingtalk L1 do1 [1]", "escalation webhook L1 fb1 [1]")
	if got[0].m.Text == "" || !strings.Contains(got[1].m.Text, "区值班人员、指定人员") {
		t.Errorf("targets:\n%s", got[1].m.Text)
	}
}

// TestLaterAlarmsJoinTheLadder: smoke alarms of one building are each
// notified at once, and a later one joins the earlier one's ladder, so the
// street officer gets one escalation naming both, not one per detector; an
// alarm in another building keeps its own ladder.
func TestLaterAlarmsJoinTheLadder(t *testing.T) {
	for _, tc := range []struct {
		name          string
		join          time.Duration
		at5m, at5m40s []string
	}{
		{"joined", 2 * time.Minute, []string{"escalation sms L1 so1 [1 2]", "reminder webhook L0 gw1 [1 2]"}, nil},
		{"outside the window", 30 * time.Second, []string{"escalation sms L1 so1 [1]", "reminder webhook L0 gw1 [1]"},
			[]string{"escalation sms L1 so1 [2]", "reminder webhook L0 gw1 [2]"}},
		{"off", 0, []string{"escalation sms L1 so1 [1]", "reminder webhook L0 gw1 [1]"},
			[]string{"escalation sms L1 so1 [2]", "reminder webhook L0 gw1 [2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.PublicURL = "https://cw.example.org"
			cfg.JoinWindow = tc.join
			r := newRig(t, cfg)
			r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
			expect(t, "first alarm at once", r.at(0), "firing webhook L0 gw1 [1]")
			r.clock.Set(t0.Add(40 * time.Second))
			r.transition(r.alert(2, alerting.RuleSmoke, crit, "u2"), alerting.ActionFire)
			expect(t, "second alarm of the building at once", r.at(40*time.Second), "firing webhook L0 gw1 [2]")
			r.clock.Set(t0.Add(time.Minute))
			r.transition(r.alert(3, alerting.RuleSmoke, crit, "u3"), alerting.ActionFire)
			expect(t, "another building", r.at(time.Minute), "firing webhook L0 gw1 [3]")
			expect(t, "5m", r.at(5*time.Minute), tc.at5m...)
			expect(t, "5m40s", r.at(5*time.Minute+40*time.Second), tc.at5m40s...)
			expect(t, "6m: the other building on its own", r.at(6*time.Minute), "escalation sms L1 so1 [3]", "reminder webhook L0 gw1 [3]")
		})
	}
}
