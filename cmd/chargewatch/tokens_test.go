package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/store"
)

// TestTokensCommands creates, lists and revokes tokens through the command
// line, and checks that who revoked a token is recorded and shown.
func TestTokensCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "chargewatch.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "data_dir: %s\n", filepath.Join(dir, "data")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SUDO_USER", "carol") // the login behind sudo, when there is no --by
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"create", []string{"create", "--config", cfg, "--name", "grafana", "--role", "viewer", "--by", "alice"}, 0, store.TokenPrefix, ""},
		{"create another", []string{"create", "--config", cfg, "--name", "laptop", "--role", "admin"}, 0, store.TokenPrefix, ""},
		{"create a third", []string{"create", "--config", cfg, "--name", "spare", "--role", "viewer"}, 0, store.TokenPrefix, ""},
		{"revoke", []string{"revoke", "--config", cfg, "--by", "alice", "1"}, 0, "token 1 (grafana) revoked by cli:alice", ""},
		{"revoke again", []string{"revoke", "--config", cfg, "--by", "bob", "1"}, 0, "already revoked by cli:alice", ""},
		{"revoke as the sudo user", []string{"revoke", "--config", cfg, "2"}, 0, "token 2 (laptop) revoked by cli:carol", ""},
		{"unknown token", []string{"revoke", "--config", cfg, "99"}, 1, "", "token 99: not found"},
		{"not an id", []string{"revoke", "--config", cfg, "grafana"}, 2, "", "not a positive integer"},
		{"no id", []string{"revoke", "--config", cfg}, 2, "", "expected one token id"},
		{"unknown command", []string{"rotate"}, 2, "", `unknown command "rotate"`},
		{"list", []string{"list", "--config", cfg}, 0, "REVOKED BY", ""},
	} {
		code, stdout, stderr := runMain(append([]string{"tokens"}, c.args...)...)
		if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", c.name, code, c.code, stdout, stderr)
		}
	}

	_, stdout, _ := runMain("tokens", "list", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("list:\n%s", stdout)
	}
	for i, want := range [][]string{{"grafana", "cli:alice", "cli:alice"}, {"laptop", "cli:carol", "cli:carol"}, {"spare", "cli:carol"}} {
		f := strings.Fields(lines[i+1])
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("list line %d lacks %q: %s", i+1, w, lines[i+1])
			}
		}
		if i == 2 && f[len(f)-2] != "-" {
			t.Errorf("a token that is not revoked shows a revoker: %s", lines[i+1])
		}
	}

	code, stdout, stderr := runMain("tokens", "list", "--config", cfg, "--json")
	var got struct{ Tokens []store.Token }
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil || len(got.Tokens) != 3 {
		t.Fatalf("list --json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	for i, want := range []struct {
		createdBy, revokedBy string
		revoked              bool
	}{{"cli:alice", "cli:alice", true}, {"cli:carol", "cli:carol", true}, {"cli:carol", "", false}} {
		tk := got.Tokens[i]
		if tk.CreatedBy != want.createdBy || tk.RevokedBy != want.revokedBy || (tk.RevokedAt != 0) != want.revoked {
			t.Errorf("token %d: %+v, want created by %q, revoked %v by %q", tk.ID, tk, want.createdBy, want.revoked, want.revokedBy)
		}
	}
	if strings.Contains(stdout, store.TokenPrefix) {
		t.Errorf("list --json prints a token:\n%s", stdout)
	}
}
