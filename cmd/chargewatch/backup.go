package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/chargewatch/chargewatch/alerting/dispatch"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/backup"
	"github.com/chargewatch/chargewatch/internal/server"
)

const backupUsage = `usage: chargewatch backup --config FILE OUT_DIR
       chargewatch restore --config FILE IN_DIR

backup copies the registry, the alert store and the notification outbox
(those that exist) into OUT_DIR, a new or empty folder, with a manifest of
checksums. It runs while the server runs: each copy is one consistent
snapshot (SQLite VACUUM INTO).

restore puts a backup's databases in place of the configured ones. The
server must be stopped (systemctl stop chargewatch): restore refuses while
any process has one of the databases open. The files it replaces are kept
beside them as <file>.pre-restore-<time>. The next start migrates restored
databases forward.

The durable ingest logs and InfluxDB are not in a backup: see
docs/operations.md.
`

// backupDBs lists the databases of a server configuration.
func backupDBs(cfg server.Config) []backup.DB {
	return []backup.DB{
		{Name: "registry", Path: cfg.Registry, KnownSchema: registry.SchemaVersion()},
		{Name: "alerts", Path: cfg.Alerting.DB, Optional: true, KnownSchema: store.SchemaVersion()},
		{Name: "dispatch", Path: cfg.Alerting.DispatchDB, Optional: true, KnownSchema: dispatch.SchemaVersion()},
	}
}

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, dir, code := backupArgs("backup", "OUT_DIR", args, stderr)
	if code >= 0 {
		return code
	}
	m, err := backup.Backup(ctx, backupDBs(cfg), dir, version())
	if err != nil {
		fmt.Fprintf(stderr, "chargewatch backup: %v\n", err)
		return 1
	}
	for _, e := range m.Databases {
		fmt.Fprintf(stdout, "%-9s %s -> %s (%d bytes, schema %d)\n", e.Name, e.Source, e.File, e.Bytes, e.SchemaVersion)
	}
	fmt.Fprintf(stdout, "backup written to %s\n", dir)
	return 0
}

func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, dir, code := backupArgs("restore", "IN_DIR", args, stderr)
	if code >= 0 {
		return code
	}
	if addr, up := serverAnswers(ctx, cfg.HTTP.Listen); up {
		fmt.Fprintf(stderr, "chargewatch restore: a chargewatch server answers on %s: stop it first (systemctl stop chargewatch)\n", addr)
		return 1
	}
	res, err := backup.Restore(ctx, backupDBs(cfg), dir)
	if err != nil {
		var inUse *backup.InUseError
		if errors.As(err, &inUse) {
			fmt.Fprintf(stderr, "chargewatch restore: refused, nothing changed: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "chargewatch restore: %v\n", err)
		return 1
	}
	for _, e := range res.Restored {
		fmt.Fprintf(stdout, "%-9s restored from %s (schema %d)", e.Name, e.File, e.SchemaVersion)
		if k := res.Kept[e.Name]; k != "" {
			fmt.Fprintf(stdout, "; the replaced database is kept as %s", k)
		}
		fmt.Fprintln(stdout)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(stdout, "%-9s not in the backup: left as it is\n", s)
	}
	fmt.Fprintln(stdout, "start the server now: it migrates the restored databases forward if they are older")
	return 0
}

// backupArgs parses "--config FILE DIR"; code is -1 when the command
// should go on.
func backupArgs(name, dirName string, args []string, stderr io.Writer) (server.Config, string, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "/etc/chargewatch/chargewatch.yaml", "server configuration file (for the database paths)")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, backupUsage)
			}
			return server.Config{}, "", 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "chargewatch %s: expected %s\n\n%s", name, dirName, backupUsage)
		return server.Config{}, "", 2
	}
	cfg, err := server.LoadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cfg, "", 1
	}
	return cfg, pos[0], -1
}

// serverAnswers reports whether something answers /healthz on the
// server's HTTP address (plain or TLS). It is a second check besides the
// database locks: a running server always has the registry open.
func serverAnswers(ctx context.Context, listen string) (string, bool) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		// Only whether it answers matters, not who it is.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
	}}
	defer client.CloseIdleConnections()
	for _, scheme := range []string{"http", "https"} {
		u := scheme + "://" + listen + "/healthz"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", false
		}
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return u, true
		}
	}
	return "", false
}
