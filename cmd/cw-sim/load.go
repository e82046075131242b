package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/chargewatch/chargewatch/simulators/load"
	"github.com/chargewatch/chargewatch/simulators/sitegen"
)

const loadHelp = `
cw-sim load publishes synthetic meter telemetry for benchmarks: N meters spread over a few
gateway connections, at a total rate or flat out, single readings or batches of one device's
readings, until a duration or a number of messages. It prints progress every second and a
summary of what was published and acknowledged, and the CPU it used per message.

  cw-sim load --broker tcp://127.0.0.1:1883 --devices 10000 --flat --messages 1000000
  cw-sim load --broker tcp://127.0.0.1:1883 --devices 5000 --batch 32 --rate 5000 --duration 60s
  cw-sim load --devices 10000 --connections 4 --site-out load-site.yaml   # register the devices first

Readings of a device are one second apart and end before the run starts, inside the ingest
window. With --site-out and no --broker it only writes the registry site of the devices.`

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", stderr, loadHelp)
	cfg := load.NewConfig()
	var flat, quiet bool
	var qos int
	var siteOut string
	fs.StringVar(&cfg.Broker, "broker", "", "MQTT broker URL, tcp://host:port")
	fs.IntVar(&cfg.Devices, "devices", cfg.Devices, "number of meters")
	fs.IntVar(&cfg.Connections, "connections", cfg.Connections, "gateway connections (MQTT clients); devices are spread over them")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per second in total")
	fs.BoolVar(&flat, "flat", false, "as fast as the broker acknowledges (instead of --rate)")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "readings per message (one device's batch), 1 to 500")
	fs.IntVar(&qos, "qos", int(cfg.QoS), "0 or 1")
	fs.IntVar(&cfg.Window, "window", cfg.Window, "unacknowledged messages per connection, at most 65535")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long")
	fs.Int64Var(&cfg.Messages, "messages", 0, "stop after this many messages")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "id prefix of the gateways and devices")
	fs.StringVar(&cfg.Password, "password", "", "MQTT password of every connection (visible in ps: prefer --password-file)")
	passwordFile := fs.String("password-file", "", "file holding the MQTT password of every connection")
	fs.StringVar(&siteOut, "site-out", "", "also write the registry site file of the load's devices here")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *passwordFile != "" {
		var err error
		if cfg.Password, err = readPasswordFile(*passwordFile); err != nil {
			return err
		}
	}
	cfg.QoS = byte(qos)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if siteOut != "" {
		f, err := os.Create(siteOut)
		if err != nil {
			return err
		}
		err = sitegen.Write(f, load.Site(cfg), fmt.Sprintf("chargewatch site of cw-sim load --devices %d --connections %d --prefix %s", cfg.Devices, cfg.Connections, cfg.Prefix))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "cw-sim: wrote %s (%d gateways, %d devices)\n", siteOut, cfg.Connections, cfg.Devices)
		if cfg.Broker == "" {
			return nil
		}
	}
	if flat == (cfg.Rate > 0) {
		return usageErr("give either --rate R or --flat")
	}
	pr := newProgress(stderr, quiet)
	cfg.Progress = func(p load.Progress) {
		line := ""
		if p.Target > 0 {
			line = bar(float64(p.Published)/float64(p.Target)) + " "
		} else if cfg.Duration > 0 {
			line = bar(p.Elapsed.Seconds()/cfg.Duration.Seconds()) + " "
		}
		rate := float64(p.Published) / p.Elapsed.Seconds()
		pr.print(false, "%s%s published  %s acked  %s readings  %.0f msgs/s", line, count(p.Published), count(p.Acked), count(p.Readings), rate)
	}
	fmt.Fprintf(stderr, "cw-sim load: %d devices over %d connections to %s, batch %d, qos %d, %s\n", cfg.Devices, cfg.Connections, cfg.Broker, cfg.Batch, cfg.QoS, rateText(cfg))
	sum, err := load.Run(ctx, cfg)
	pr.print(true, "done")
	fmt.Fprintf(stdout, "summary: %s\n", sum)
	return err
}

func rateText(cfg load.Config) string {
	r := "flat out"
	if cfg.Rate > 0 {
		r = fmt.Sprintf("%.0f msgs/s", cfg.Rate)
	}
	switch {
	case cfg.Messages > 0 && cfg.Duration > 0:
		return fmt.Sprintf("%s, %d messages or %s", r, cfg.Messages, cfg.Duration)
	case cfg.Messages > 0:
		return fmt.Sprintf("%s, %d messages", r, cfg.Messages)
	}
	return fmt.Sprintf("%s for %s", r, cfg.Duration.Round(time.Millisecond))
}
