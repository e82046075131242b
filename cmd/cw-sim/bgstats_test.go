package main

import (
	"strings"
	"testing"
)

// TestBgStats: the table of a small city, and the usage errors.
func TestBgStats(t *testing.T) {
	code, out, errs := cli(t, "bgstats", "--seeds", "7", "--days", "1", "--units", "10", "--realdata", "none")
	if code != 0 || !strings.Contains(out, "sim residential, all") || !strings.Contains(out, "robust SD") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, args := range [][]string{{"--days", "0"}, {"--seeds", "x"}, {"extra"}} {
		if code, _, _ := cli(t, append([]string{"bgstats"}, args...)...); code != 2 {
			t.Errorf("bgstats %v: exit %d, want 2", args, code)
		}
	}
}
