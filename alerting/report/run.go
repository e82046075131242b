package report

import (
	"context"
	"time"

	"github.com/chargewatch/chargewatch/alerting/store"
)

// Runner writes the report of the last Period (all levels, every alert)
// as line protocol through Write, at start and then every Every, until its
// context ends. A failed round is passed to OnError (if set) and retried
// at the next tick.
type Runner struct {
	Store  *store.Store
	Write  func(ctx context.Context, lines []string) error
	Every  time.Duration // default 5 min
	Period time.Duration // default 24 h
	// Escalations, when set, counts escalations since a time (Unix ms).
	Escalations func(ctx context.Context, since int64) (Counts, error)
	Now         func() time.Time // default time.Now
	OnError     func(error)
}

// Run runs until ctx ends and returns its error.
func (r *Runner) Run(ctx context.Context) error {
	every := r.Every
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := r.Once(ctx); err != nil && r.OnError != nil && ctx.Err() == nil {
			r.OnError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Once computes and writes one report.
func (r *Runner) Once(ctx context.Context) error {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	period := r.Period
	if period <= 0 {
		period = 24 * time.Hour
	}
	from := now.Add(-period)
	as, err := Load(ctx, r.Store, nil, from.UnixMilli(), now.UnixMilli())
	if err != nil {
		return err
	}
	var esc func(int64) int
	if r.Escalations != nil {
		c, err := r.Escalations(ctx, from.UnixMilli())
		if err != nil {
			return err
		}
		esc = c.Get
	}
	lines := Points(Compute(as, esc, from, now, now, nil), now)
	if len(lines) == 0 {
		return nil
	}
	return r.Write(ctx, lines)
}
