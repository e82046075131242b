package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest/adapters/accounts"
	"github.com/chargewatch/chargewatch/internal/mqttauth"
	"github.com/chargewatch/chargewatch/internal/server"
)

const mqttAuthUsage = `usage:
  chargewatch mqtt-auth (--config FILE | --db REGISTRY) --out DIR [--client-id ID] [--simulators] [--rotate-service]
      writes the broker's password file (DIR/passwd) and ACL (DIR/acl) from the registry,
      and the passwords of the ingester's two accounts (DIR/<client id>-telemetry.password,
      DIR/<client id>-events.password, mode 0600; kept if they exist). --simulators also gives
      every gateway without a password_hash the simulators' shared password
      (DIR/simulators.password): for the demo and load tests only. With --config, the adapter
      accounts of its ingest.adapters file (docs/adapters.md) get their password lines and
      topics, and the ingester's events account may read their topics; every account must be
      tied to a registered gateway, with its devices registered under it, or nothing is written.
  chargewatch mqtt-auth secret GATEWAY [--out FILE]
      makes a random password for a gateway, writes it to FILE (default GATEWAY.password,
      mode 0600) for the gateway's cw-edge password_file, and prints the password_hash line
      for the site file.
  chargewatch mqtt-auth hash
      reads a password (first line of stdin) and prints its hash, as mosquitto_passwd makes it.

docs/security.md describes the flow.
`

func mqttAuth(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "secret":
			return mqttAuthSecret(args[1:], stdout, stderr)
		case "hash":
			return mqttAuthHash(args[1:], stdin, stdout, stderr)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, mqttAuthUsage)
			return 0
		}
	}
	fs := flag.NewFlagSet("mqtt-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, mqttAuthUsage) }
	cfgPath := fs.String("config", "", "server configuration file: its registry and mqtt.client_id")
	db := fs.String("db", "", "registry database (overrides the configuration's)")
	out := fs.String("out", "", "directory to write into, e.g. /etc/chargewatch/mqtt")
	clientID := fs.String("client-id", "", "the ingester's mqtt.client_id (default from --config, else chargewatch-ingest)")
	sim := fs.Bool("simulators", false, "accounts with one shared password for gateways without a password_hash (demo, load tests)")
	rotate := fs.Bool("rotate-service", false, "new passwords for the ingester's accounts (restart the server after reloading the broker)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *out == "" || (*cfgPath == "" && *db == "") {
		fmt.Fprint(stderr, mqttAuthUsage)
		return 2
	}
	regPath, cid := *db, *clientID
	adaptersFile := ""
	if *cfgPath != "" {
		cfg, err := server.LoadConfig(*cfgPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if regPath == "" {
			regPath = cfg.Registry
		}
		if cid == "" {
			cid = cfg.MQTT.ClientID
		}
		adaptersFile = cfg.Ingest.Adapters
	}
	if cid == "" {
		cid = "chargewatch-ingest"
	}
	// Opening would create an empty registry: an empty password file
	// locks every gateway out, so a wrong path is an error.
	if _, err := os.Stat(regPath); err != nil {
		fmt.Fprintf(stderr, "mqtt-auth: registry %s: %v (import a site file first: chargewatch devices import)\n", regPath, err)
		return 1
	}
	st, err := registry.Open(ctx, regPath)
	if err != nil {
		fmt.Fprintf(stderr, "mqtt-auth: %v\n", err)
		return 1
	}
	defer st.Close()
	opts := mqttauth.Options{ClientID: cid, Simulators: *sim, RotateService: *rotate}
	snap := st.Current()
	if adaptersFile != "" {
		f, err := accounts.Load(adaptersFile)
		if err != nil {
			fmt.Fprintf(stderr, "mqtt-auth: ingest.adapters: %v\n", err)
			return 1
		}
		// The server refuses to start with an account the registry does
		// not back; the broker must not let such an account in either.
		if err := f.CheckRegistry(snapshotRegistry(snap)); err != nil {
			fmt.Fprintf(stderr, "mqtt-auth: ingest.adapters %s does not match the registry %s:\n%v\nno broker files were written: fix the accounts file or the site file (then chargewatch devices import) and run this again\n",
				adaptersFile, regPath, err)
			return 1
		}
		opts.Adapters = f.ACL()
		if opts.AdapterFilters, err = f.Filters(); err != nil {
			fmt.Fprintf(stderr, "mqtt-auth: ingest.adapters: %v\n", err)
			return 1
		}
	}
	rep, err := mqttauth.Write(*out, snap, opts)
	if err != nil {
		fmt.Fprintf(stderr, "mqtt-auth: %v\n", err)
		return 1
	}
	dir, _ := filepath.Abs(rep.Dir)
	fmt.Fprintf(stdout, "wrote %s (2 accounts of the ingester, %d gateways with their own password", filepath.Join(dir, mqttauth.PasswdFile), rep.Gateways)
	if *sim {
		fmt.Fprintf(stdout, ", %d with the simulators' password", rep.Simulated)
	}
	if adaptersFile != "" {
		fmt.Fprintf(stdout, ", %d adapter accounts", rep.Adapters)
	}
	fmt.Fprintf(stdout, ") and %s\n", filepath.Join(dir, mqttauth.ACLFile))
	if n := len(rep.AdaptersMissing); n > 0 {
		fmt.Fprintf(stderr, "warning: %d adapter accounts have no password_hash and get no password line: %s\n"+
			"  give each one a password_hash in %s (chargewatch mqtt-auth hash), unless the broker authenticates them otherwise\n",
			n, strings.Join(rep.AdaptersMissing, ", "), adaptersFile)
	}
	for _, f := range rep.Created {
		fmt.Fprintf(stdout, "created %s (mode 0600)\n", f)
	}
	if n := len(rep.Missing); n > 0 {
		list := rep.Missing[:min(n, 10)]
		more := ""
		if n > 10 {
			more = fmt.Sprintf(" and %d more", n-10)
		}
		fmt.Fprintf(stderr, "warning: %d gateways have no password_hash in the registry and cannot connect: %s%s\n"+
			"  give each one: chargewatch mqtt-auth secret GATEWAY, then import the site file and run this again\n",
			n, strings.Join(list, ", "), more)
	}
	fmt.Fprintf(stdout, `
Mosquitto (deploy/mosquitto/auth.conf), then reload it (kill -HUP, or systemctl reload mosquitto):
  allow_anonymous false
  password_file %[1]s
  acl_file %[2]s
  use_username_as_clientid true
chargewatch.yaml (then restart the server if its accounts changed):
  mqtt:
    client_id: %[3]s
    username: %[4]s
    password_file: %[5]s
    events_username: %[6]s
    events_password_file: %[7]s
`, filepath.Join(dir, mqttauth.PasswdFile), filepath.Join(dir, mqttauth.ACLFile), cid,
		rep.Telemetry, mqttauth.PasswordPath(dir, rep.Telemetry), rep.Events, mqttauth.PasswordPath(dir, rep.Events))
	if *sim {
		fmt.Fprintf(stdout, "cw-sim: --password from %s\n", filepath.Join(dir, mqttauth.SimulatorsFile))
	}
	return 0
}

// snapshotRegistry is the registry as accounts.File.CheckRegistry sees it.
func snapshotRegistry(snap *registry.Snapshot) accounts.Registry {
	return accounts.RegistryFunc{
		DeviceFunc: func(id string) (string, devices.Kind, bool) {
			d, ok := snap.Device(id)
			if !ok {
				return "", devices.KindUnknown, false
			}
			return d.Gateway.ID, d.Kind, true
		},
		GatewayFunc: func(id string) bool { _, ok := snap.Gateway(id); return ok },
	}
}

func mqttAuthSecret(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mqtt-auth secret", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, mqttAuthUsage) }
	var gw string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		gw, args = args[0], args[1:]
	}
	out := fs.String("out", "", "file for the password (default GATEWAY.password); must not exist")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if gw == "" && fs.NArg() == 1 {
		gw = fs.Arg(0)
	} else if fs.NArg() > 0 || gw == "" {
		fmt.Fprint(stderr, mqttAuthUsage)
		return 2
	}
	if !devices.ValidID(gw) {
		fmt.Fprintf(stderr, "mqtt-auth secret: %q is not a gateway id ([a-z0-9][a-z0-9._-]{0,63})\n", gw)
		return 2
	}
	path := *out
	if path == "" {
		path = gw + ".password"
	}
	pw, err := mqttauth.NewPassword()
	if err != nil {
		fmt.Fprintf(stderr, "mqtt-auth secret: %v\n", err)
		return 1
	}
	h, err := mqttauth.Hash(pw)
	if err != nil {
		fmt.Fprintf(stderr, "mqtt-auth secret: %v\n", err)
		return 1
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "mqtt-auth secret: %s exists: move it away first (it may be a gateway's current password)\n", path)
		} else {
			fmt.Fprintf(stderr, "mqtt-auth secret: %v\n", err)
		}
		return 1
	}
	_, werr := fmt.Fprintln(f, pw)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		fmt.Fprintf(stderr, "mqtt-auth secret: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "password of gateway %s written to %s (mode 0600): install it as cw-edge's mqtt.password_file, then delete this copy\n", gw, path)
	fmt.Fprintf(stdout, "site file, under gateways, entry %s:\n  password_hash: %q\n", gw, h)
	return 0
}

func mqttAuthHash(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprint(stderr, mqttAuthUsage)
		return 2
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "mqtt-auth hash: %v\n", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintln(stderr, "mqtt-auth hash: give the password on the first line of stdin")
		return 2
	}
	h, err := mqttauth.Hash(pw)
	if err != nil {
		fmt.Fprintf(stderr, "mqtt-auth hash: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}
