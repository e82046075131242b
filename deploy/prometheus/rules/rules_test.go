// Package rules holds chargewatch's Prometheus alerting rules for the
// platform itself (chargewatch.rules.yml) and their unit tests
// (chargewatch.rules.test.yml); this test runs promtool on them and checks
// that every metric they use is one chargewatch exports.
package rules

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// promtool finds promtool (Debian package prometheus). Under CI=true a
// missing promtool fails the test instead of skipping it.
func promtool(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"promtool", "../../../.bin/promtool"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("promtool is not installed: scripts/install-deps.sh installs the Debian package prometheus")
	}
	t.Fatal("promtool is not installed: run scripts/install-deps.sh (Debian package prometheus)")
	return ""
}

func TestPromtoolCheckRules(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", "chargewatch.rules.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	out, err := exec.Command(promtool(t), "test", "rules", "chargewatch.rules.test.yml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

var metricName = regexp.MustCompile(`chargewatch_[a-z0-9_]+`)

// TestRulesUseExportedMetrics catches a rule that watches a metric nobody
// exports (a typo, or a metric renamed in the code): such a rule never
// fires. Every chargewatch_* name in an expression must appear as a string
// in the module's Go code.
func TestRulesUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile("chargewatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	inExpr := false
	for _, l := range strings.Split(string(rules), "\n") {
		trim := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trim, "expr:"):
			exprs = append(exprs, trim)
			inExpr = strings.HasSuffix(trim, "|")
		case inExpr && strings.HasPrefix(l, "            "):
			exprs = append(exprs, trim)
		default:
			inExpr = false
		}
	}
	var used []string
	for _, e := range exprs {
		used = append(used, metricName.FindAllString(e, -1)...)
	}
	slices.Sort(used)
	used = slices.Compact(used)
	if len(used) < 20 {
		t.Fatalf("found only %d metrics in the rules: %v", len(used), used)
	}

	var code strings.Builder
	root := "../../.."
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			code.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	src := code.String()
	for _, m := range used {
		name := m
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			name = strings.TrimSuffix(name, suffix)
		}
		if !strings.Contains(src, `"`+name+`"`) {
			t.Errorf("the rules use %s, which no Go code exports", m)
		}
	}
}
