// Command cw-sim simulates chargewatch's devices: a city of households,
// e-bike chargers, charging piles, electrical-fire monitors and smoke
// detectors publishing over MQTT per the wire contract, with the labelled
// ground truth of every injected episode; and the load generator of the
// ingest benchmark.
//
//	cw-sim run   --scenario FILE | --site FILE  [--broker URL] [--out DIR] [--truth FILE] ...
//	cw-sim site  --scenario FILE -o site.yaml
//	cw-sim load  --broker URL --devices N (--rate R | --flat) (--duration D | --messages M) ...
//	cw-sim check --scenario FILE
//	cw-sim phones [--listen ADDR] [--log FILE] [--ack-after D]
//	cw-sim eval  [--seeds heldout|tuning|N,...] [--intervals 10s,1m,5m] [--features FILE] ...
//	cw-sim bgstats [--seeds tuning|N,...] [--days D] [--realdata DIR|none]
//	cw-sim fit-score --in FILE [--test FILE] [--interval S] [--model gbdt [--go FILE]]
//	cw-sim example
//
// See docs/simulators.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

const usage = `cw-sim simulates chargewatch devices and generates load.

Usage:
  cw-sim run       simulate a city: publish to MQTT, write files, write ground truth
  cw-sim site      write the registry site file of a scenario's city
  cw-sim load      publish synthetic meter telemetry at a rate, for benchmarks
  cw-sim check     validate a scenario and describe its city
  cw-sim eval      measure the indoor-charging detector against simulated ground truth
  cw-sim bgstats   measure the simulated households' background against a real household
  cw-sim phones    stand in for the grid workers' phones in the demo (SMS and webhooks)
  cw-sim fit-score fit the charging detector's learned score on eval --features rows
  cw-sim example   print a commented example scenario

Run "cw-sim COMMAND -h" for a command's flags. See docs/simulators.md.
`

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "site":
		err = cmdSite(rest, stdout, stderr)
	case "load":
		err = cmdLoad(ctx, rest, stdout, stderr)
	case "check":
		err = cmdCheck(rest, stdout, stderr)
	case "eval":
		err = cmdEval(ctx, rest, stdout, stderr)
	case "bgstats":
		err = cmdBgStats(ctx, rest, stdout, stderr)
	case "phones":
		err = cmdPhones(ctx, rest, stdout, stderr)
	case "fit-score":
		err = cmdFitScore(ctx, rest, stdout, stderr)
	case "example":
		_, err = stdout.Write(exampleScenario())
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "cw-sim: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "cw-sim %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "cw-sim %s: %v\n", cmd, err)
		return 1
	}
}

// usageError is a mistake in the command line or the scenario: exit 2.
type usageError struct{ error }

func usageErr(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func newFlags(name string, stderr io.Writer, help string) *flag.FlagSet {
	fs := flag.NewFlagSet("cw-sim "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\nFlags:\n", strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// progress prints a progress line to stderr at most once a second.
type progress struct {
	w     io.Writer
	last  time.Time
	start time.Time
	quiet bool
	tty   bool
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, start: time.Now(), quiet: quiet}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) print(force bool, format string, args ...any) {
	if p.quiet {
		return
	}
	now := time.Now()
	if !force && now.Sub(p.last) < time.Second {
		return
	}
	p.last = now
	line := fmt.Sprintf(format, args...)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if force {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}

// bar draws a progress bar for a fraction.
func bar(frac float64) string {
	const width = 24
	frac = max(0, min(1, frac))
	n := int(frac * width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + fmt.Sprintf("] %3.0f%%", frac*100)
}

// count formats an integer with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
