package engine

import (
	"strings"
	"testing"
)

// FuzzParseConfig: hostile rule files give a clear error or a valid
// configuration, never a panic or a hang.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"",
		"kinds:\n  meter:\n    overload:\n      pickup: 1.2\n",
		"kinds:\n  meter:\n    under_voltage: {raise: 187, clear: 195, for: 30s}\n",
		"overrides:\n  - {device: m-1, set: {residual_current: {raise: 200}}}\n",
		"kinds: {toaster: {}}\n",
		"overrides: [{unit: u1, building: b1}]\n",
		"kinds:\n  meter:\n    overload: {pickup: -1, k_seconds: 0}\n",
		"[[[[[[[[[[",
		"kinds: &a [*a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("rules.yaml", data)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without an error")
		}
	})
}
