package dispatch

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/alerting"
)

// docConfig returns the YAML block under "## Configuration" in
// docs/notifications.md.
func docConfig(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "notifications.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("docs/notifications.md has no Configuration section")
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(sec)
	if m == nil {
		t.Fatal("no yaml block in the Configuration section")
	}
	return m[1]
}

func TestDocumentedConfigParses(t *testing.T) {
	c, err := ParseConfig("docs/notifications.md", []byte(docConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	// The documented defaults are the defaults.
	def := DefaultConfig()
	for _, k := range []string{"critical", "major", "warning", "info"} {
		if !ladderEqual(c.Escalation[k], def.Escalation[k]) {
			t.Errorf("documented %s ladder %+v differs from the default %+v", k, c.Escalation[k], def.Escalation[k])
		}
	}
	if c.Outbox != def.Outbox || c.AckLink != def.AckLink || c.GroupWait != def.GroupWait || c.GroupMax != def.GroupMax {
		t.Errorf("documented outbox/ack_link/group settings differ from the defaults:\n%+v\n%+v", c.Outbox, def.Outbox)
	}
	for ch, rl := range def.RateLimits {
		if c.RateLimits[ch] != rl {
			t.Errorf("documented rate limit of %s differs", ch)
		}
	}
	if c.Channels.SMS == nil || c.Channels.Alertmanager == nil || c.Channels.WeCom == nil || c.Channels.DingTalk == nil || c.Channels.Webhook == nil {
		t.Error("the documented config lacks a channel")
	}
	if _, l := c.ladder(&alerting.Alert{Rule: alerting.RuleIndoorCharging, Severity: alerting.SeverityMajor}); l.MaxReminders != 8 {
		t.Error("rule ladder not used")
	}
}

func ladderEqual(a, b *Ladder) bool {
	if a.RemindEvery != b.RemindEvery || a.MaxReminders != b.MaxReminders || len(a.Levels) != len(b.Levels) {
		return false
	}
	for i := range a.Levels {
		if a.Levels[i].After != b.Levels[i].After || strings.Join(a.Levels[i].To, ",") != strings.Join(b.Levels[i].To, ",") {
			return false
		}
	}
	return true
}

func TestConfigErrors(t *testing.T) {
	_, err := ParseConfig("n.yaml", []byte("group_wiat: 1s\n"))
	if err == nil || !strings.Contains(err.Error(), "n.yaml") || !strings.Contains(err.Error(), "group_wiat") {
		t.Errorf("unknown key: %v", err)
	}
	// Every problem at once.
	_, err = ParseConfig("n.yaml", []byte(`
locale: fr
public_url: ftp://x
escalation:
  critical:
    levels:
      - {after: 1m, to: [grid_worker]}
      - {after: 30s, to: [mayor]}
  nonsense: {levels: []}
ack_link: {path: ack, secret: "plain"}
rate_limits: {email: {count: 1, per: 1m}}
channels:
  webhook: {}
  sms: {url: "http://x", secrets: {k: "literal"}, body: "x"}
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`locale "fr"`, "public_url", "levels[0].after must be 0", "levels[1].after must be later", `"mayor"`,
		"escalation.nonsense", "ack_link.path", "ack_link.secret", "rate_limits.email", "webhook: secret or secret_file is required",
		"sms.secrets.k",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "literal") || strings.Contains(err.Error(), "plain") {
		t.Errorf("error shows a secret:\n%v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file")
	}
}

func TestDefaultsMatchTheIssue(t *testing.T) {
	c := DefaultConfig()
	crit := c.Escalation["critical"].Levels
	if crit[1].After != 5*time.Minute || crit[2].After != 15*time.Minute || !strings.Contains(strings.Join(crit[2].To, ","), ToFireBrigade) {
		t.Errorf("critical ladder %+v", crit)
	}
	major := c.Escalation["major"].Levels
	if major[1].After != 30*time.Minute || major[2].After != 2*time.Hour {
		t.Errorf("major ladder %+v", major)
	}
}

func TestMetricsLint(t *testing.T) {
	r := newRig(t, nil)
	r.transition(r.alert(1, alerting.RuleSmoke, crit, "u1"), alerting.ActionFire)
	r.at(0)
	problems, err := testutil.GatherAndLint(r.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	mfs, _ := r.reg.Gather()
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "chargewatch_dispatch_") {
			t.Errorf("metric %s outside chargewatch_dispatch_", mf.GetName())
		}
	}
	if len(mfs) < 13 { // forward_resends appears once a forwarder is configured
		t.Errorf("%d metric families", len(mfs))
	}
}
