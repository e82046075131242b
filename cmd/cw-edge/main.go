// Command cw-edge is chargewatch's gateway agent: it polls Modbus RTU and TCP
// meters, electrical-fire monitors and charging-pile controllers, keeps their
// readings in an on-disk queue and publishes them over MQTT per wire contract
// v1. See docs/edge.md.
//
//	cw-edge run   -config /etc/cw-edge/edge.yaml   run the agent
//	cw-edge check -config edge.yaml                check a config and exit
//	cw-edge probe -config edge.yaml [-device id]   read every device once (commissioning)
//	cw-edge profiles [name]                        list the device profiles, or show one
//	cw-edge version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/agent"
	"github.com/chargewatch/chargewatch/edge/config"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/profile"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage: cw-edge <command> [flags]

commands:
  run       run the agent
  check     check a config file and exit
  probe     read every configured device once and print what it answers
  profiles  list the built-in device profiles, or show one (cw-edge profiles chint-ddsu666)
  version   print the version

Run cw-edge <command> -h for the flags of a command. See docs/edge.md.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return runAgent(args, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "probe":
		return probe(args, stdout, stderr)
	case "profiles":
		return profiles(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "cw-edge", version)
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "cw-edge: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func flags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("cw-edge "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("config", "/etc/cw-edge/edge.yaml", "config file")
	return fs, cfg
}

func load(path string, stderr io.Writer) (*config.Config, bool) {
	c, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		var errs config.Errors
		if errors.As(err, &errs) {
			fmt.Fprintf(stderr, "%d problem(s) in %s\n", len(errs), path)
		}
		return nil, false
	}
	return c, true
}

func check(args []string, stdout, stderr io.Writer) int {
	fs, path := flags("check", stderr)
	if fs.Parse(args) != nil {
		return 2
	}
	c, ok := load(*path, stderr)
	if !ok {
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n%s", *path, c.Summary())
	return 0
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	o := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

func runAgent(args []string, stderr io.Writer) int {
	fs, path := flags("run", stderr)
	format := fs.String("log-format", "text", "log format: text or json")
	if fs.Parse(args) != nil {
		return 2
	}
	c, ok := load(*path, stderr)
	if !ok {
		return 1
	}
	log := newLogger(stderr, c.LogLevel, *format)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a, err := agent.New(agent.Options{Config: c, Logger: log, Registry: reg, Version: version})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

// probe reads every device once, buses in parallel, and prints a table.
func probe(args []string, stdout, stderr io.Writer) int {
	fs, path := flags("probe", stderr)
	only := fs.String("device", "", "probe only this device id")
	if fs.Parse(args) != nil {
		return 2
	}
	c, ok := load(*path, stderr)
	if !ok {
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	type result struct {
		s    modbus.Sample
		skip bool
	}
	cfgs := c.ModbusBuses()
	results := make([][]result, len(cfgs))
	var wg sync.WaitGroup
	found := *only == ""
	for i, bc := range cfgs {
		b, err := modbus.NewBus(bc, modbus.Options{})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		results[i] = make([]result, len(bc.Devices))
		for j, d := range bc.Devices {
			if *only != "" && d.ID != *only {
				results[i][j].skip = true
			} else {
				found = true
			}
		}
		wg.Go(func() {
			defer b.Close()
			for j := range bc.Devices {
				if !results[i][j].skip && ctx.Err() == nil {
					results[i][j].s = b.Poll(ctx, j)
				}
			}
		})
	}
	if !found {
		fmt.Fprintf(stderr, "no device %q in %s\n", *only, *path)
		return 1
	}
	wg.Wait()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUS\tDEVICE\tSLAVE\tPROFILE\tRESULT\tTIME\tVALUES OR PROBLEM")
	failed := 0
	for i, bc := range cfgs {
		for j, d := range bc.Devices {
			r := results[i][j]
			if r.skip {
				continue
			}
			s := r.s
			lead := fmt.Sprintf("%s\t%s\t%d\t%s\t", bc.Name, d.ID, d.Slave, d.Profile.Name)
			took := fmt.Sprintf("%.1fms", float64(s.Duration.Microseconds())/1000)
			res := "ok"
			switch {
			case len(s.Readings) == 0:
				res = "FAILED"
				failed++
			case len(s.Errs) > 0:
				res = "partial"
				failed++
			}
			for k := range s.Readings {
				fmt.Fprintf(tw, "%s%s\t%s\t%s\n", lead, res, took, values(&s.Readings[k]))
				lead, took, res = "\t\t\t\t", "", ""
			}
			// The same problem on several requests is told once.
			var hints []string
			count := map[string]int{}
			kinds := map[string]string{}
			for _, e := range s.Errs {
				h := e.Hint()
				if count[h] == 0 {
					hints = append(hints, h)
					kinds[h] = string(e.Kind)
					if e.Kind == modbus.KindException {
						kinds[h] = fmt.Sprintf("exception %d", e.Exception)
					}
				}
				count[h]++
			}
			for _, h := range hints {
				what := kinds[h]
				if res != "" {
					what = res + ": " + what
				}
				if count[h] > 1 {
					h += fmt.Sprintf(" (%d requests)", count[h])
				}
				fmt.Fprintf(tw, "%s%s\t%s\t%s\n", lead, what, took, h)
				lead, took, res = "\t\t\t\t", "", ""
			}
		}
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d device(s) with problems.\n", failed)
		return 1
	}
	return 0
}

// values renders a reading's fields as name=value pairs.
func values(r *devices.Reading) string {
	var parts []string
	for _, f := range r.Set.Fields() {
		v := r.Vals[f]
		var txt string
		switch f.Spec().Type {
		case devices.TypeBool:
			txt = strconv.FormatBool(v != 0)
		case devices.TypeState:
			txt = devices.PileState(v).String()
		default:
			txt = strconv.FormatFloat(v, 'f', -1, 64)
		}
		parts = append(parts, f.String()+"="+txt)
	}
	return strings.Join(parts, " ")
}

// profiles lists the built-in profiles, or prints one's register map.
func profiles(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PROFILE	KIND	DESCRIPTION")
		for _, n := range profile.Names() {
			p := profile.MustLoad(n)
			fmt.Fprintf(tw, "%s\t%s\t%s\n", n, p.Kind, p.Description)
		}
		tw.Flush()
		return 0
	}
	p, err := profile.Load(args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s (%s): %s\nsources: %s\n", p.Name, p.Kind, p.Description, strings.Join(p.Sources, "; "))
	if p.Serial.Baud > 0 {
		fmt.Fprintf(stdout, "factory serial settings: %d %d%s%d\n", p.Serial.Baud, p.Serial.DataBits, p.Serial.Parity, p.Serial.StopBits)
	}
	if p.Ports != nil {
		fmt.Fprintf(stdout, "ports: %d by default, up to %d, every 0x%X registers (addresses below are port 1's)\n", p.Ports.Default, p.Ports.Max, p.Ports.Stride)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tFUNCTION\tADDRESS\tTYPE\tORDER\tSCALE\tUNIT\tTO CONTRACT UNIT")
	for _, r := range p.Registers {
		fmt.Fprintf(tw, "%s\t%02d\t0x%04X (%d)\t%s\t%s/%s\t%v\t%s\tx%v\n", r.Field, r.Function, r.Address, r.Address,
			r.Type, r.WordOrder, r.ByteOrder, r.Scale, r.Unit, r.Factor())
	}
	tw.Flush()
	return 0
}
