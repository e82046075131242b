package registry

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/invalid")

const demoSite = "../../examples/demo-site.yaml"

// TestInvalidSites parses each testdata/invalid/*.yaml and compares the
// problems with the .golden file beside it. Run with -update to rewrite them.
func TestInvalidSites(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseSite(filepath.Base(file), data)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ParseSite = %v, want a *ValidationError", err)
			}
			for i := 1; i < len(verr.Problems); i++ {
				if verr.Problems[i].Line < verr.Problems[i-1].Line {
					t.Errorf("problems not sorted by line: %d after %d", verr.Problems[i].Line, verr.Problems[i-1].Line)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s (run go test -update after checking them)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestSecretsNotInProblems(t *testing.T) {
	data, err := os.ReadFile("testdata/invalid/bad_values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseSite("bad_values.yaml", data)
	for _, secret := range []string{"hunter2", "SECRETKEY"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("problems repeat the secret %q:\n%v", secret, err)
		}
	}
}

func TestDemoSiteIsValid(t *testing.T) {
	site, err := LoadSite(demoSite)
	if err != nil {
		t.Fatalf("the demo site must validate cleanly:\n%v", err)
	}
	if len(site.Buildings) < 10 || len(site.Units) < 50 || len(site.Devices) < 100 {
		t.Errorf("demo site is smaller than promised: %d buildings, %d units, %d devices", len(site.Buildings), len(site.Units), len(site.Devices))
	}
	self := 0
	for _, d := range site.Devices {
		if d.Gateway == d.ID {
			self++
		}
	}
	if self < 3 {
		t.Errorf("demo site has %d devices that connect by themselves, want at least 3", self)
	}
}

func TestSiteValidateInCode(t *testing.T) {
	site, err := LoadSite(demoSite)
	if err != nil {
		t.Fatal(err)
	}
	if err := site.Validate(); err != nil {
		t.Fatalf("Validate of a parsed site: %v", err)
	}
	site.Devices[0].Gateway = "gw-nope"
	site.Units[0].Type = UnitUnknown
	err = site.Validate()
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 2 {
		t.Fatalf("Validate = %v, want 2 problems", err)
	}
	for _, p := range verr.Problems {
		if p.Line != 0 || p.File != "" || p.Key == "" {
			t.Errorf("problem of a site built in code: %+v, want a key and no file or line", p)
		}
	}
	if !strings.Contains(err.Error(), `devices[0].gateway: device "`+site.Devices[0].ID+`" refers to gateway "gw-nope", which is not defined`) {
		t.Errorf("unexpected problems:\n%v", err)
	}
}

func TestParseTimeOfDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want TimeOfDay
		ok   bool
	}{
		{"00:00", 0, true}, {"08:30", 510, true}, {"23:59", 1439, true}, {"24:00", 1440, true},
		{"24:01", 0, false}, {"8:00", 0, false}, {"08:60", 0, false}, {"0800", 0, false}, {"", 0, false}, {"ab:cd", 0, false},
	} {
		got, ok := ParseTimeOfDay(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
