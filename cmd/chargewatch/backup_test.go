package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
)

func runMain(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestBackupAndRestoreCommands backs up the registry and the alert store,
// changes them, restores, and checks the refusals: a database open in a
// process, a server answering on the HTTP address.
func TestBackupAndRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "chargewatch.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "data_dir: %s\nhttp:\n  listen: %s\n", filepath.Join(dir, "data"), addr), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "data", "registry.db")
	os.MkdirAll(filepath.Dir(reg), 0o750)
	if code, _, stderr := runMain("devices", "import", "--db", reg, "../../examples/demo-site.yaml"); code != 0 {
		t.Fatal(stderr)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "data", "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := st.CreateToken(ctx, store.Token{Name: "before", Role: "viewer", CreatedAt: 1})
	if err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "backup-1")
	code, stdout, stderr := runMain("backup", "--config", cfg, out)
	if code != 0 || !strings.Contains(stdout, "registry") || !strings.Contains(stdout, "alerts") {
		t.Fatalf("backup: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// After the backup: a device leaves, the token is revoked.
	db, err := registry.OpenDB(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM devices WHERE id = 'm-dt-01-102'`); err != nil {
		t.Fatal(err)
	}
	tokens, _ := st.Tokens(ctx)
	if _, err := st.RevokeToken(ctx, tokens[0].ID, 2, "backup-test"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// The registry is open (as in a running server): refused.
	code, _, stderr = runMain("restore", "--config", cfg, out)
	if code != 1 || !strings.Contains(stderr, "refused, nothing changed") || !strings.Contains(stderr, "registry database") {
		t.Fatalf("restore while open: exit %d: %s", code, stderr)
	}
	db.Close()

	// Something answers /healthz on the server's address: refused.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })}
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l2)
	code, _, stderr = runMain("restore", "--config", cfg, out)
	srv.Close()
	if code != 1 || !strings.Contains(stderr, "answers on") {
		t.Fatalf("restore with a server answering: exit %d: %s", code, stderr)
	}

	code, stdout, stderr = runMain("restore", "--config", cfg, out)
	if code != 0 || !strings.Contains(stdout, "pre-restore") {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	db, err = registry.OpenDB(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, err := registry.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Device("m-dt-01-102"); !ok {
		t.Error("the restored registry lacks the device removed after the backup")
	}
	st, err = store.Open(ctx, filepath.Join(dir, "data", "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Authenticate(ctx, tok, 3); err != nil {
		t.Errorf("the token made before the backup does not work after the restore: %v", err)
	}
	if code, _, stderr := runMain("backup", "--config", cfg); code != 2 || !strings.Contains(stderr, "expected OUT_DIR") {
		t.Errorf("backup without a folder: exit %d: %s", code, stderr)
	}
}
