package dispatch

import (
	"strings"
	"testing"
)

// FuzzParseConfig: hostile notification files give a clear error or a
// valid configuration, never a panic, and never echo a secret's value.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"public_url: https://cw.example.org\nlocale: zh\n",
		"escalation:\n  critical:\n    remind_every: 5m\n    levels:\n      - {after: 0s, to: [grid_worker]}\n",
		"escalation:\n  critical:\n    levels:\n      - {after: -5m, to: [nobody]}\n",
		"channels:\n  webhook:\n    secret: env:X\n    receivers: [{url_prefix: nope}]\n",
		"channels:\n  webhook:\n    secret: hunter2-literal\n",
		"outbox: {concurrency: 0, queue: -1}\n",
		"rate_limits: {sms: {count: 0, per: 0s}}\n",
		"[[[[[[[[",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("notifications.yaml", data)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			if strings.Contains(string(data), "hunter2-literal") && strings.Contains(err.Error(), "hunter2-literal") {
				t.Fatalf("the error repeats a literal secret: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without an error")
		}
	})
}
