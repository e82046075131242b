package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: hostile profile files (installers may ship their own) give a
// clear error or a profile, never a panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("profiles/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{"", "registers: [", "name: x\nregisters:\n  - {address: 70000, type: float32}\n", "registers:\n  - {address: 0, type: int16, scale: 0}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz", data)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if p == nil {
			t.Fatal("nil profile without an error")
		}
	})
}
