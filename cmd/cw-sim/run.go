package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/output"
	"github.com/chargewatch/chargewatch/simulators/publish"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/simtime"
	"github.com/chargewatch/chargewatch/simulators/sitegen"
	"github.com/chargewatch/chargewatch/simulators/truth"
)

const runHelp = `
cw-sim run simulates a city and sends its traffic to an MQTT broker, to files, or both,
and writes the ground truth of every injected episode.

  cw-sim run --scenario city.yaml --broker tcp://127.0.0.1:1883 --truth truth.jsonl
  cw-sim run --site examples/demo-site.yaml --broker tcp://127.0.0.1:1883 --clock live --demo
  cw-sim run --scenario city.yaml --clock files --out out/ --format jsonl --truth out/truth.jsonl

--site FILE simulates the devices of a registry site file with the default scenario (live
clock); --scenario FILE reads a scenario. Flags override the scenario's values.
`

type runFlags struct {
	scenario, site, broker, clock, out, format, truthPath, now, password string
	span                                                                 time.Duration
	seed                                                                 int64
	qos, batch, inFlight                                                 int
	demo, quiet                                                          bool
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr, runHelp)
	var f runFlags
	fs.StringVar(&f.scenario, "scenario", "", "scenario file")
	fs.StringVar(&f.site, "site", "", "registry site file to simulate (instead of --scenario)")
	fs.StringVar(&f.broker, "broker", "", "MQTT broker URL, e.g. tcp://127.0.0.1:1883")
	fs.StringVar(&f.clock, "clock", "", "live, backfill or files (default: the scenario's)")
	fs.DurationVar(&f.span, "span", 0, "simulated span (default: the scenario's); days as hours, e.g. 72h")
	fs.Int64Var(&f.seed, "seed", -1, "seed (default: the scenario's)")
	fs.BoolVar(&f.demo, "demo", false, "live: replay 2h of history, then script an episode of each kind every 30 min")
	fs.StringVar(&f.out, "out", "", "write readings, events and status to files in this directory")
	fs.StringVar(&f.format, "format", "", "file format for --out: csv or jsonl (default: the scenario's, csv)")
	fs.StringVar(&f.truthPath, "truth", "", "write the ground truth (JSON Lines) to this file")
	fs.IntVar(&f.qos, "qos", -1, "MQTT QoS for telemetry and events, 0 or 1 (default: the scenario's, 1)")
	fs.IntVar(&f.batch, "batch", 0, "readings per telemetry message (default: the scenario's, 1)")
	fs.IntVar(&f.inFlight, "in-flight", 0, "unacknowledged messages at most (default: the scenario's, 1000)")
	fs.StringVar(&f.password, "password", "", "MQTT password of every gateway, if the broker needs one (visible in ps: prefer --password-file)")
	passwordFile := fs.String("password-file", "", "file holding the MQTT password of every gateway (mqtt-auth's simulators.password)")
	fs.StringVar(&f.now, "now", "", "pretend the run starts at this RFC 3339 time (reproducible backfills)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, site, err := loadCity(f.scenario, f.site)
	if err != nil {
		return err
	}
	if err := f.apply(sc); err != nil {
		return err
	}
	if f.broker == "" && sc.Output.Dir == "" && sc.Output.Truth == "" {
		return usageErr("nothing to do: give --broker, --out or --truth")
	}
	if sc.Clock == scenario.Files && f.broker != "" {
		return usageErr("the files clock simulates any span, outside the ingest window: publish with --clock backfill or live, or write --out files")
	}
	now := time.Now()
	if f.now != "" {
		if now, err = time.Parse(time.RFC3339, f.now); err != nil {
			return usageErr("--now: %v", err)
		}
	}
	from, to := sc.Window(now)
	opts := city.Options{Epoch: from}
	if sc.Demo {
		opts.DemoAt = now
	}
	c, err := city.New(sc, site, opts)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var sinks []func(*city.Message) error
	var pub *publish.Publisher
	if f.broker != "" {
		var pw func(string) string
		if *passwordFile != "" {
			if f.password, err = readPasswordFile(*passwordFile); err != nil {
				return err
			}
		}
		if f.password != "" {
			pw = func(string) string { return f.password }
		}
		pub = publish.New(publish.Config{Broker: f.broker, QoS: sc.MQTT.QoS, InFlight: sc.MQTT.InFlight, Live: sc.Clock == scenario.Live, Password: pw, Log: log})
		if err := pub.Connect(ctx, c.Gateways()); err != nil {
			pub.Close(time.Second)
			return fmt.Errorf("connect to %s: %w", f.broker, err)
		}
		sinks = append(sinks, func(m *city.Message) error { return pub.Publish(ctx, m) })
	}
	var files *output.Writer
	if sc.Output.Dir != "" {
		fm, _ := output.ParseFormat(sc.Output.Format)
		if files, err = output.Create(sc.Output.Dir, fm); err != nil {
			return err
		}
		sinks = append(sinks, files.Write)
	}
	var tw *truth.Writer
	var truthFile *os.File
	if sc.Output.Truth != "" {
		if truthFile, err = os.Create(sc.Output.Truth); err != nil {
			return fmt.Errorf("truth: %w", err)
		}
		tw = truth.NewWriter(truthFile)
	}

	pr := newProgress(stderr, f.quiet)
	started := time.Now()
	fmt.Fprintf(stderr, "cw-sim: %s clock, seed %d, %d gateways, %d devices, %s .. %s\n", sc.Clock, sc.Seed, len(c.Gateways()), len(c.Devices()),
		simtime.Format(from.UnixMilli()), endText(to))
	ro := city.RunOptions{
		From: from, To: to, Batch: sc.MQTT.Batch, StatusEvery: sc.MQTT.StatusEvery,
		Emit: func(m *city.Message) error {
			for _, s := range sinks {
				if err := s(m); err != nil {
					return err
				}
			}
			return nil
		},
		Progress: func(at int64, st *city.Stats) {
			line := fmt.Sprintf("sim %s", simtime.Format(at)[:16])
			if !to.IsZero() && sc.Clock != scenario.Live {
				line = bar(float64(at-from.UnixMilli())/float64(to.Sub(from).Milliseconds())) + " " + line
			}
			line += fmt.Sprintf("  %s readings  %s events", count(st.Readings), count(st.Events))
			if pub != nil {
				ps := pub.Stats()
				line += fmt.Sprintf("  published %s acked %s", count(ps.Published), count(ps.Acked))
			}
			if el := time.Since(started).Seconds(); el > 0 {
				line += fmt.Sprintf("  %.0f msgs/s", float64(st.Messages)/el)
			}
			pr.print(false, "%s", line)
		},
	}
	if tw != nil {
		ro.Truth = func(r *truth.Record) error {
			if err := tw.Write(r); err != nil {
				return err
			}
			if sc.Clock == scenario.Live {
				return tw.Flush() // readable as it happens
			}
			return nil
		}
	}
	if sc.Clock == scenario.Live {
		ro.Wait = func(at int64) error {
			d := time.Until(time.UnixMilli(at))
			if d <= 0 {
				return nil
			}
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	st, runErr := c.Run(ctx, ro)
	if errors.Is(runErr, context.Canceled) {
		runErr = nil // stopped by a signal: finish cleanly
		fmt.Fprintln(stderr, "cw-sim: stopping")
	}
	var ps publish.Stats
	if pub != nil {
		ps = pub.Close(10 * time.Second)
	}
	var closeErrs []error
	if files != nil {
		closeErrs = append(closeErrs, files.Close())
	}
	if tw != nil {
		closeErrs = append(closeErrs, tw.Flush(), truthFile.Close())
	}
	pr.print(true, "done in %s", time.Since(started).Round(time.Millisecond))
	summary(stderr, st, pub != nil, ps, files)
	if runErr != nil {
		return runErr
	}
	return errors.Join(closeErrs...)
}

func endText(to time.Time) string {
	if to.IsZero() {
		return "until stopped"
	}
	return simtime.Format(to.UnixMilli())
}

// apply overrides the scenario with flags and checks the result.
func (f *runFlags) apply(sc *scenario.Scenario) error {
	if f.clock != "" {
		c, ok := scenario.ParseClock(f.clock)
		if !ok {
			return usageErr("--clock %q: use live, backfill or files", f.clock)
		}
		if c != sc.Clock && c != scenario.Live && f.span == 0 && sc.Span == 0 {
			sc.Span = 24 * time.Hour
		}
		sc.Clock = c
	}
	if f.span != 0 {
		sc.Span = f.span
	}
	if f.seed >= 0 {
		sc.Seed = uint64(f.seed)
	}
	if f.demo {
		sc.Demo = true
	}
	if f.out != "" {
		sc.Output.Dir = f.out
	}
	if f.format != "" {
		sc.Output.Format = f.format
	}
	if f.truthPath != "" {
		sc.Output.Truth = f.truthPath
	}
	if f.qos >= 0 {
		sc.MQTT.QoS = byte(f.qos)
	}
	if f.batch > 0 {
		sc.MQTT.Batch = f.batch
	}
	if f.inFlight > 0 {
		sc.MQTT.InFlight = f.inFlight
	}
	if err := sc.Check(); err != nil {
		return usageError{err}
	}
	return nil
}

// loadCity reads the scenario (or the default one for a site file) and
// the site it simulates.
func loadCity(scenarioPath, sitePath string) (*scenario.Scenario, *registry.Site, error) {
	var sc *scenario.Scenario
	switch {
	case scenarioPath != "" && sitePath != "":
		return nil, nil, usageErr("give --scenario or --site, not both (a scenario names its site with site:)")
	case scenarioPath != "":
		var err error
		if sc, err = scenario.Load(scenarioPath); err != nil {
			return nil, nil, usageError{err}
		}
	case sitePath != "":
		sc = scenario.ForSite(sitePath)
	default:
		return nil, nil, usageErr("give --scenario FILE or --site FILE")
	}
	if sc.Site != "" {
		site, err := registry.LoadSite(sc.Site)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("site %s:\n%w", sc.Site, err)}
		}
		return sc, site, nil
	}
	return sc, sitegen.Generate(sc.Seed, *sc.Generate, sc.Intervals), nil
}

func summary(w io.Writer, st city.Stats, mqtt bool, ps publish.Stats, files *output.Writer) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "summary: %s messages: %s readings, %s events, %s status", count(st.Messages), count(st.Readings), count(st.Events), count(st.Statuses))
	if st.Replayed > 0 {
		fmt.Fprintf(&b, "; %s readings replayed after gateway outages", count(st.Replayed))
	}
	if st.Held > 0 {
		fmt.Fprintf(&b, "; %s still queued in offline gateways", count(st.Held))
	}
	b.WriteByte('\n')
	if mqtt {
		fmt.Fprintf(&b, "  mqtt: %s published, %s acked, %s failed\n", count(ps.Published), count(ps.Acked), count(ps.Failed))
	}
	if files != nil {
		fmt.Fprintf(&b, "  files: %s rows\n", count(files.Rows()))
	}
	var kinds []string
	for _, k := range truth.Kinds() {
		if n := st.Episodes[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(kinds) == 0 {
		kinds = []string{"none"}
	}
	fmt.Fprintf(&b, "  episodes: %s\n", strings.Join(kinds, ", "))
	w.Write(b.Bytes())
}

// cmdSite writes the registry site file of a scenario's city.
func cmdSite(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("site", stderr, `
cw-sim site writes the registry site file of a scenario's city, for
"chargewatch devices import". A generated city is generated from the scenario's seed; a
scenario with site: FILE writes that file's city back.

  cw-sim site --scenario city.yaml -o site.yaml`)
	scPath := fs.String("scenario", "", "scenario file")
	outPath := fs.String("o", "", "output file (default stdout)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, site, err := loadCity(*scPath, "")
	if err != nil {
		return err
	}
	var w io.Writer = stdout
	var file *os.File
	if *outPath != "" {
		if file, err = os.Create(*outPath); err != nil {
			return err
		}
		w = file
	}
	header := fmt.Sprintf("chargewatch site of the city of scenario %s (seed %d), written by cw-sim site.\nImport it with: chargewatch devices import --db registry.db FILE", sc.File, sc.Seed)
	err = sitegen.Write(w, site, header)
	if file != nil {
		err = errors.Join(err, file.Close())
	}
	if err == nil && *outPath != "" {
		fmt.Fprintf(stderr, "cw-sim: wrote %s: %d buildings, %d units, %d gateways, %d devices\n", *outPath, len(site.Buildings), len(site.Units), len(site.Gateways), len(site.Devices))
	}
	return err
}

// cmdCheck validates a scenario and describes its city.
func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr, `
cw-sim check validates a scenario (every problem, with its line) and describes its city.`)
	scPath := fs.String("scenario", "", "scenario file")
	sitePath := fs.String("site", "", "registry site file (checks it loads)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, site, err := loadCity(*scPath, *sitePath)
	if err != nil {
		return err
	}
	kinds := map[string]int{}
	self := 0
	for _, d := range site.Devices {
		kinds[d.Kind.String()]++
		if d.Gateway == d.ID {
			self++
		}
	}
	var parts []string
	for _, k := range sortedKeys(kinds) {
		parts = append(parts, fmt.Sprintf("%d %s", kinds[k], k))
	}
	fmt.Fprintf(stdout, "ok: %s clock, seed %d, span %s\ncity: %d buildings, %d units, %d gateways + %d self-connected devices; devices: %s\n",
		sc.Clock, sc.Seed, sc.Span, len(site.Buildings), len(site.Units), len(site.Gateways), self, strings.Join(parts, ", "))
	return nil
}

func exampleScenario() []byte { return scenario.Example() }

// readPasswordFile reads a password kept in a file (trailing newline
// dropped), so that it does not show on the command line.
func readPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("--password-file %s is empty", path)
	}
	return pw, nil
}
