package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the scenario parser: it never panics
// or hangs; it returns either a scenario or a *ValidationError whose every
// problem names the file and says something. Seeds: example.yaml,
// testdata/{valid,invalid}/*.yaml and the committed corpus in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(Example())
	for _, glob := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml"} {
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
		sc, err := Parse("scenario.yaml", data)
		if err != nil {
			if sc != nil {
				t.Fatal("a scenario and an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %T %v is not a ValidationError with problems", err, err)
			}
			for _, p := range ve.Problems {
				if p.File != "scenario.yaml" || strings.TrimSpace(p.Message) == "" || p.Line < 0 {
					t.Fatalf("problem %+v", p)
				}
			}
			return
		}
		if sc.File != "scenario.yaml" {
			t.Fatalf("file %q", sc.File)
		}
	})
}
