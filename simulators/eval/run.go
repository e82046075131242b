package eval

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/chargewatch/chargewatch/alerting/detect"
)

// Options say what to evaluate.
type Options struct {
	Set       Set
	Intervals []time.Duration // reading intervals of meters and plugs
	Model     ModelMaker      // nil: the physics model with default parameters
	Workers   int             // cities simulated at once; 0: GOMAXPROCS
	// RealData is the folder of the real traces (../shared/realdata);
	// "" leaves out the semi-synthetic set.
	RealData string
	// Explain, when set, records every decision of the detector and
	// explains each missed session and false alarm (Outcome.Explain); it
	// holds the parameters the model was made with (their thresholds
	// classify the misses). Slower; off by default.
	Explain *detect.PhysicsParams
	// Features, when set, keeps every candidate step's score features at
	// the ages FeatureAges, labelled (Outcome.Features); the model must
	// trace them (detect.PhysicsParams.ScoreTrace).
	Features bool
	// Progress, when set, receives a line per finished run.
	Progress func(string)
	// Feedback, over 0, simulates the grid workers' verdicts: each alert
	// is visited Feedback after it fired, and one that overlaps no
	// charging of its unit from its estimated start to the visit is
	// closed as a false alarm, which its devices' detectors learn from
	// (detect.Device.NotCharging). 0: no verdicts, the detector alone.
	Feedback time.Duration
}

// Result is an evaluation: the outcome of every city at every interval,
// and of the semi-synthetic set.
type Result struct {
	Set       Set
	Intervals []time.Duration
	Runs      map[time.Duration][]*Outcome // per interval, in the set's city order
	Semi      map[time.Duration]*Outcome   // semi-synthetic, per interval it has
	Readings  int64
	Elapsed   time.Duration
	Feedback  time.Duration // Options.Feedback
}

// Evaluate simulates the set's cities at every interval, feeds every meter
// and plug reading to the charging detector as the alerting engine does,
// and matches the alerts to the ground truth.
func Evaluate(ctx context.Context, o Options) (*Result, error) {
	if o.Model == nil {
		o.Model = Physics(detect.DefaultPhysicsParams())
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		iv  time.Duration
		i   int
		sp  Spec
		out *Outcome
		err error
	}
	var jobs []*job
	for _, iv := range o.Intervals {
		for i, sp := range o.Set.specs(iv) {
			jobs = append(jobs, &job{iv: iv, i: i, sp: sp})
		}
	}
	// the slowest (shortest interval) first, so that workers finish together
	slices.SortStableFunc(jobs, func(a, b *job) int { return int(a.iv - b.iv) })
	started := time.Now()
	ch := make(chan *job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				t := time.Now()
				var tr *tracer
				var on func(unit, dev string, t *detect.ChargingTrace)
				if o.Explain != nil {
					tr = newTracer()
					on = tr.add
				}
				var fc *featCollector
				if o.Features {
					fc = newFeatCollector()
					if on == nil {
						on = fc.add
					} else {
						on = func(unit, dev string, t *detect.ChargingTrace) {
							tr.add(unit, dev, t)
							fc.add(unit, dev, t)
						}
					}
				}
				j.out, j.err = runCity(ctx, j.sp, o.Model, on, o.Feedback)
				if tr != nil && j.err == nil {
					j.out.Explain = tr.explain(j.out, *o.Explain)
				}
				if fc != nil && j.err == nil {
					j.out.Features = fc.label(j.out)
				}
				if o.Progress != nil && j.err == nil {
					mu.Lock()
					o.Progress(fmt.Sprintf("%s: %d readings in %s", j.sp.Name(), j.out.Readings, time.Since(t).Round(100*time.Millisecond)))
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(ch)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Result{Set: o.Set, Intervals: o.Intervals, Runs: map[time.Duration][]*Outcome{}, Semi: map[time.Duration]*Outcome{}, Feedback: o.Feedback}
	var errs []error
	for _, j := range jobs {
		if j.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.sp.Name(), j.err))
			continue
		}
		runs := r.Runs[j.iv]
		if runs == nil {
			runs = make([]*Outcome, len(o.Set.Cities))
			r.Runs[j.iv] = runs
		}
		runs[j.i] = j.out
		r.Readings += j.out.Readings
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.RealData != "" {
		for _, iv := range o.Intervals {
			if iv < time.Minute {
				continue // the real background is sampled once a minute
			}
			var tr *tracer
			var on func(unit, dev string, t *detect.ChargingTrace)
			if o.Explain != nil {
				tr = newTracer()
				on = tr.add
			}
			semi, err := SemiSynthetic(o.RealData, iv, o.Model, on)
			if err != nil {
				return nil, err
			}
			if tr != nil {
				semi.Explain = tr.explain(semi, *o.Explain)
			}
			r.Semi[iv] = semi
			r.Readings += semi.Readings
		}
	}
	r.Elapsed = time.Since(started)
	return r, nil
}

// Figures returns the figures of interval iv for a case (0: all), summed
// over the cities.
func (r *Result) Figures(iv time.Duration, c Cases) Figures {
	return scoreAll(r.Runs[iv], c)
}
