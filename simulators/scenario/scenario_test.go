package scenario

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestInvalidGolden pins every problem reported for each invalid scenario
// in testdata/invalid: one case per file, its expected errors beside it in
// NAME.golden.
func TestInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("no error")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s (go test -update to rewrite)\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestValid(t *testing.T) {
	s, err := Load("testdata/valid/files.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Clock != Files || s.Span != 30*24*time.Hour || s.Seed != 9 || s.Generate.Buildings != 4 || s.Generate.Districts != 1 {
		t.Fatalf("decoded %+v %+v", s, s.Generate)
	}
	from, to := s.Window(time.Now())
	if from.Format(time.RFC3339) != "2026-01-12T00:00:00+08:00" || to.Sub(from) != 30*24*time.Hour {
		t.Fatalf("window %v..%v", from, to)
	}
	d, err := Load("testdata/valid/demo_live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d.Site != filepath.Join("testdata", "valid", "../../../../examples/demo-site.yaml") || d.Generate != nil || d.Span != 0 {
		t.Fatalf("site %q generate %v span %v", d.Site, d.Generate, d.Span)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	from, to = d.Window(now)
	if !from.Equal(now.Add(-DemoHistory)) || !to.IsZero() {
		t.Fatalf("demo window %v..%v", from, to)
	}
}

func TestExampleIsValidAndDefault(t *testing.T) {
	s, err := Parse("example.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if s.Hazards != def.Hazards || s.EBikes != def.EBikes || s.MQTT != def.MQTT || s.Intervals != def.Intervals {
		t.Errorf("the example's values differ from the defaults:\n%+v\n%+v", s, def)
	}
	if *s.Generate != DefaultGenerate() {
		t.Errorf("example generate %+v, default %+v", *s.Generate, DefaultGenerate())
	}
	now := time.Now()
	from, to := s.Window(now)
	if !to.Equal(now) || to.Sub(from) != 3*24*time.Hour {
		t.Errorf("backfill window %v..%v", from, to)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90s": 90 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := ParseDuration("3x"); err == nil {
		t.Error("3x parsed")
	}
}
