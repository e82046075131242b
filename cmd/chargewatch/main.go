// Command chargewatch is the chargewatch server: MQTT ingest into InfluxDB
// with a durable log, the device registry, alerting and the HTTP API.
//
//	chargewatch serve --config FILE        run the server
//	chargewatch check-config FILE          validate a configuration file and exit
//	chargewatch devices validate|import|list|backup ...
//	chargewatch tokens create|list|revoke ...
//	chargewatch report --config FILE ...   accountability report, CSV or JSON
//	chargewatch mqtt-auth ...              broker password file and ACL from the registry
//	chargewatch backup|restore ...          databases, consistently, while running / stopped
//	chargewatch version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/chargewatch/chargewatch/alerting/dispatch"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/server"
)

const usage = `usage: chargewatch COMMAND [ARGS]

Commands:
  serve --config FILE [--log-level info]   run the server (ingest, registry, alerting, HTTP API)
  check-config FILE                        validate a configuration file and exit
  devices validate|import|list|backup ...  manage the device registry (chargewatch devices help)
  tokens create --config FILE --name N --person ID   make an API token (printed once)
  tokens list|revoke --config FILE [ID]    list token records; revoke one, recording who (tokens help)
  report --config FILE [--from T] [--to T] [--level L] [--format csv|json]   accountability report (docs/api.md)
  mqtt-auth --config FILE --out DIR        broker password file and ACL from the registry (mqtt-auth help)
  backup --config FILE OUT_DIR             consistent copy of the registry, alert and outbox databases, while running
  restore --config FILE IN_DIR             put a backup back (the server must be stopped)
  version                                  print the version

Configuration keys are described in docs/configuration.md; a commented
example is examples/chargewatch.yaml.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "check-config":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: chargewatch check-config FILE")
			return 2
		}
		cfg, err := server.LoadConfig(args[1])
		if err == nil {
			if ferr := cfg.CheckFiles(); ferr != nil {
				err = fmt.Errorf("config %s:\n%w", args[1], ferr)
			}
		}
		if err == nil && cfg.Alerting.Notifications != "" {
			dc, derr := dispatch.LoadConfig(cfg.Alerting.Notifications)
			if derr == nil {
				_, derr = dc.Channels.Notifiers() // loads the secrets, as the server will
			}
			if derr != nil {
				err = fmt.Errorf("alerting.notifications %s: %w", cfg.Alerting.Notifications, derr)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok\n", args[1])
		return 0
	case "devices":
		return registry.Command(ctx, args[1:], stdout, stderr)
	case "tokens":
		return tokens(ctx, args[1:], stdout, stderr)
	case "report":
		return reportCmd(ctx, args[1:], stdout, stderr)
	case "mqtt-auth":
		return mqttAuth(ctx, args[1:], os.Stdin, stdout, stderr)
	case "backup":
		return backupCmd(ctx, args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "chargewatch", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "chargewatch: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "/etc/chargewatch/chargewatch.yaml", "configuration file")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "--log-level %q: use debug, info, warn or error\n", *level)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	cfg, err := server.LoadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	srv, err := server.New(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		logger.Error("server stopped with an error", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// buildVersion is set by the package build (-ldflags -X main.buildVersion=...).
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
