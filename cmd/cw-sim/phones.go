package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chargewatch/chargewatch/simulators/phones"
)

const phonesHelp = `
cw-sim phones stands in for the grid workers' phones in the demo: it receives what
chargewatch's notifiers send (POST /sms from the demo SMS channel, POST /hook/NAME from the
webhook channel), writes a line per message, and acknowledges a share of the alerts through
their personal links after a delay, so the demo shows acknowledged alerts and escalations.

  cw-sim phones --listen 127.0.0.1:9477 --log phones.log --ack-after 3m

See docs/simulators.md.`

func cmdPhones(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("phones", stderr, phonesHelp)
	cfg := phones.Config{Listen: "127.0.0.1:9477", AckShare: 2.0 / 3}
	logPath := fs.String("log", "", "append the messages here (default: standard output)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "host:port to listen on")
	fs.DurationVar(&cfg.AckAfter, "ack-after", 3*time.Minute, "acknowledge through the personal link after this long (0: never)")
	fs.Float64Var(&cfg.AckShare, "ack-share", cfg.AckShare, "share of the personal links acknowledged, 0 to 1 (the rest escalate)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.AckShare <= 0 || cfg.AckShare > 1 {
		return usageError{fmt.Errorf("--ack-share %v: give a share above 0 and at most 1 (--ack-after 0 acknowledges nothing)", cfg.AckShare)}
	}
	cfg.Log = stdout
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Log = f
	}
	fmt.Fprintf(stderr, "cw-sim phones: listening on %s\n", cfg.Listen)
	return phones.New(cfg).Run(ctx)
}
