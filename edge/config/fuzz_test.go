package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the cw-edge config parser: it never
// panics or hangs, and returns either a config or Errors whose every entry
// names the file and says something. Seeds: testdata/sample.yaml, testdata/errors/*.yaml
// and the committed corpus in testdata/fuzz/FuzzParse.
//
// Inputs that mention "file" or hold backslash escapes are skipped: keys
// such as password_file and profile_files make the parser read files, and
// a fuzzed path like /dev/stdin would block the fuzzer (the golden tests
// cover those keys).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*.yaml")
	for _, file := range append(files, "testdata/sample.yaml") {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(bytes.ToLower(data), []byte("file")) || bytes.Contains(data, []byte(`\`)) {
			return // it would read files
		}
		c, err := Parse("edge.yaml", dir, data)
		if err != nil {
			if c != nil {
				t.Fatal("a config and an error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			for _, e := range es {
				if e.File != "edge.yaml" || strings.TrimSpace(e.Msg) == "" {
					t.Fatalf("error %+v", e)
				}
			}
			return
		}
		if c.Gateway == "" {
			t.Fatal("a config without a gateway id")
		}
	})
}
