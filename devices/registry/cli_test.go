package registry

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Command(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "registry.db")
	bad := "testdata/invalid/dangling_refs.yaml"

	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string
		notInStdio string
	}{
		{"no args", nil, ExitInvalid, nil, []string{"usage: chargewatch devices"}, ""},
		{"unknown command", []string{"frobnicate"}, ExitInvalid, nil, []string{`unknown command "frobnicate"`}, ""},
		{"validate ok", []string{"validate", demoSite}, ExitOK, []string{"ok: 1 districts", "133 devices"}, nil, ""},
		{"validate bad", []string{"validate", bad}, ExitInvalid, nil, []string{
			`dangling_refs.yaml:20: devices[0].gateway: device "m-17" refers to gateway "gw-9", which is not defined`,
			"16 problems"}, ""},
		{"validate missing file", []string{"validate", filepath.Join(dir, "nope.yaml")}, ExitInvalid, nil, []string{"no such file"}, ""},
		{"validate without file", []string{"validate"}, ExitInvalid, nil, []string{"expected FILE"}, ""},
		{"list before import", []string{"list", "--db", db}, ExitInvalid, nil, []string{"no registry database at"}, ""},
		{"import without db", []string{"import", demoSite}, ExitInvalid, nil, []string{"--db PATH is required"}, ""},
		{"import bad site", []string{"import", "--db", db, bad}, ExitInvalid, nil, []string{"16 problems"}, ""},
		{"dry run", []string{"import", "--dry-run", "--db", db, demoSite}, ExitOK, []string{"dry run: nothing changed"}, nil, ""},
		{"import", []string{"import", demoSite, "--db", db}, ExitOK, []string{"devices          133       0       0         0", "generation 1 (was 0)"}, nil, ""},
		{"import again", []string{"import", "--db", db, demoSite}, ExitOK, []string{"nothing changed (generation 1)"}, nil, ""},
		{"list all", []string{"list", "--db", db}, ExitOK, []string{"DEVICE", "133 devices"}, nil, ""},
		{"list by kind and community", []string{"list", "--db", db, "--kind", "pile", "--community", "c-xj"}, ExitOK,
			[]string{"pile-xj-02-101-1", "pile-xj-02-101-2", "charging_room", "2 devices"}, nil, "m-xj"},
		{"list by gateway, self-connected", []string{"list", "--db", db, "--gateway", "smk-hn-01-102"}, ExitOK, []string{"(itself)", "1 device "}, nil, ""},
		{"list mixed use", []string{"list", "--db", db, "--unit", "u-xj-03-101"}, ExitOK, []string{"workshop+mixed"}, nil, ""},
		{"list bad kind", []string{"list", "--db", db, "--kind", "toaster"}, ExitInvalid, nil, []string{"unknown device kind"}, ""},
		{"list unknown community", []string{"list", "--db", db, "--community", "c-none"}, ExitInvalid, nil, []string{`no community "c-none"`}, ""},
		{"backup", []string{"backup", "--db", db, filepath.Join(dir, "copy.db")}, ExitOK, []string{"backed up"}, nil, ""},
		{"backup exists", []string{"backup", "--db", db, filepath.Join(dir, "copy.db")}, ExitInvalid, nil, []string{"exists"}, ""},
		{"list backup", []string{"list", "--db", filepath.Join(dir, "copy.db"), "--kind", "monitor"}, ExitOK, []string{"efm-dt-01", "4 devices"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tc.notInStdio != "" && strings.Contains(stdout, tc.notInStdio) {
				t.Errorf("stdout has %q:\n%s", tc.notInStdio, stdout)
			}
		})
	}
}
