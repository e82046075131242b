package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chargewatch/chargewatch/devices"
)

// FuzzParseSite feeds arbitrary bytes to the site file parser: it never
// panics or hangs; it either returns a site whose ids are all valid or a
// *ValidationError whose every problem names the file and says something;
// and it never loses a problem it found (a second parse gives the same).
// Seeds: the demo site, testdata/invalid/*.yaml and the committed corpus
// in testdata/fuzz/FuzzParseSite (hostile YAML: alias bombs, deep nesting,
// huge numbers, NUL bytes, invalid UTF-8, duplicate keys, tabs, BOMs).
func FuzzParseSite(f *testing.F) {
	for _, glob := range []string{"testdata/invalid/*.yaml", "../../examples/demo-site.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		site, err := ParseSite("site.yaml", data)
		if err != nil {
			if site != nil {
				t.Fatal("a site and an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %T %v is not a ValidationError with problems", err, err)
			}
			for _, p := range ve.Problems {
				if p.File != "site.yaml" || strings.TrimSpace(p.Message) == "" || p.Line < 0 || p.Column < 0 {
					t.Fatalf("problem %+v", p)
				}
				if !utf8.ValidString(p.String()) {
					t.Fatalf("problem is not valid UTF-8: %q", p.String())
				}
			}
			_, err2 := ParseSite("site.yaml", data)
			if err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second parse differs:\n%v\n%v", err, err2)
			}
			return
		}
		for _, g := range site.Gateways {
			if !devices.ValidID(g.ID) {
				t.Fatalf("accepted gateway id %q", g.ID)
			}
		}
		for _, d := range site.Devices {
			if !devices.ValidID(d.ID) || !devices.ValidID(d.Gateway) {
				t.Fatalf("accepted device %q on gateway %q", d.ID, d.Gateway)
			}
		}
	})
}
