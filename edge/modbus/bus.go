package modbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/profile"
)

// Transports.
const (
	TCP = "tcp"
	RTU = "rtu"
)

// Device is one slave on a bus.
type Device struct {
	ID       string
	Slave    uint8 // 1..247
	Profile  *profile.Profile
	Ports    int // ports to read of a multi-port profile; 0 for the profile's default
	Interval time.Duration
	Timeout  time.Duration // for one request
	Retries  int           // further attempts of a failed request
	MaxBlock int           // registers per request; 0 for the profile's limit
}

// BusConfig describes a bus and its devices.
type BusConfig struct {
	Name      string
	Transport string       // TCP or RTU
	Address   string       // TCP: host:port
	Serial    SerialConfig // RTU
	Devices   []Device
}

// Options are a bus's collaborators and tunables.
type Options struct {
	Clock      clock.Clock   // nil for the system clock
	Logger     *slog.Logger  // nil discards
	Metrics    *Metrics      // nil for metrics nobody reads
	DownAfter  int           // failed polls in a row before a device is down; 0 for 3
	BackoffMax time.Duration // longest gap between polls of a down device; 0 for 5 minutes
}

// Sample is the outcome of one poll of a device: its readings (TS and Seq
// not set yet) and the errors met. A poll whose every request failed has
// no readings.
type Sample struct {
	Device   *Device
	Bus      string
	Wall     time.Time     // wall clock when the poll started (possibly unsynchronised)
	Mono     time.Duration // monotonic clock when the poll started
	Duration time.Duration
	Readings []devices.Reading
	Errs     []*PollError
}

// Err returns the first error of the poll, or nil.
func (s *Sample) Err() error {
	if len(s.Errs) == 0 {
		return nil
	}
	return s.Errs[0]
}

// Bus polls the devices of one bus.
type Bus struct {
	cfg   BusConfig
	opt   Options
	port  string // serial device or TCP address
	line  string // serial settings
	conn  conn
	devs  []*devState
	log   *slog.Logger
	m     *Metrics
	clock clock.Clock
}

type devState struct {
	dev    *Device
	ports  int
	blocks []Block
	next   time.Duration // monotonic time of the next poll
	fails  int           // failed polls in a row
	down   bool
	ms     deviceMetrics
}

// NewBus checks cfg and prepares the request plan of every device. It opens
// nothing: the connection is made by the first request.
func NewBus(cfg BusConfig, o Options) (*Bus, error) {
	if o.Clock == nil {
		o.Clock = clock.NewSystem()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if o.DownAfter <= 0 {
		o.DownAfter = 3
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 5 * time.Minute
	}
	b := &Bus{cfg: cfg, opt: o, log: o.Logger.With("bus", cfg.Name), m: o.Metrics, clock: o.Clock}
	switch cfg.Transport {
	case TCP:
		b.conn, b.port = newTCPConn(cfg.Address), cfg.Address
	case RTU:
		b.conn, b.port, b.line = newRTUConn(cfg.Serial), cfg.Serial.Device, cfg.Serial.String()
	default:
		return nil, fmt.Errorf("bus %q: transport %q: use tcp or rtu", cfg.Name, cfg.Transport)
	}
	for i := range cfg.Devices {
		d := &cfg.Devices[i]
		if d.Profile == nil || d.Slave == 0 || d.Slave > 247 || d.Interval <= 0 || d.Timeout <= 0 || d.Retries < 0 {
			return nil, fmt.Errorf("bus %q, device %q: needs a profile, a slave id 1..247, a positive interval and timeout and retries >= 0", cfg.Name, d.ID)
		}
		ports := d.Profile.PortCount(d.Ports)
		b.devs = append(b.devs, &devState{
			dev: d, ports: ports, blocks: Plan(d.Profile, ports, d.MaxBlock),
			ms: b.m.device(cfg.Name, d.ID),
		})
	}
	return b, nil
}

// Name is the bus's name.
func (b *Bus) Name() string { return b.cfg.Name }

// Blocks returns the read requests of device i.
func (b *Bus) Blocks(i int) []Block { return b.devs[i].blocks }

// Close closes the connection.
func (b *Bus) Close() error { return b.conn.close() }

// Run polls the devices, each at its interval, and sends every sample to
// out until ctx is done. The caller must keep receiving from out until Run
// returns. Run closes the connection when it returns.
func (b *Bus) Run(ctx context.Context, out chan<- Sample) error {
	defer b.conn.close()
	if len(b.devs) == 0 {
		<-ctx.Done()
		return nil
	}
	now := b.clock.Mono()
	for _, d := range b.devs {
		d.next = now
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d := b.devs[0]
		for _, x := range b.devs[1:] {
			if x.next < d.next {
				d = x
			}
		}
		if wait := d.next - b.clock.Mono(); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		attempts := 1 + d.dev.Retries
		if d.down {
			attempts = 1
		}
		s := b.poll(ctx, d, attempts)
		if ctx.Err() != nil && len(s.Readings) == 0 {
			return nil
		}
		b.schedule(d, &s)
		out <- s
	}
}

// Poll reads device i once, with its retries, whatever its schedule.
func (b *Bus) Poll(ctx context.Context, i int) Sample {
	d := b.devs[i]
	return b.poll(ctx, d, 1+d.dev.Retries)
}

func (b *Bus) poll(ctx context.Context, d *devState, attempts int) Sample {
	s := Sample{Device: d.dev, Bus: b.cfg.Name, Wall: b.clock.Now(), Mono: b.clock.Mono()}
	start := time.Now()
	rs := make([]devices.Reading, d.ports)
	multi := d.dev.Profile.Ports != nil
	for _, blk := range d.blocks {
		data, err := b.readBlock(ctx, d, &blk, attempts, &s)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if e := s.Errs[len(s.Errs)-1]; e.Kind == KindTimeout || e.Kind == KindConnection ||
				e.Kind == KindException && (e.Exception == 0x0a || e.Exception == 0x0b) {
				// The slave is not there: the other blocks would only fail the same way.
				break
			}
			continue
		}
		for _, it := range blk.Items {
			f := it.Reg.Field
			v, err := it.Reg.Decode(data[2*int(it.Offset) : 2*(int(it.Offset)+it.Reg.Words())])
			if err == nil {
				if reason, ok := devices.CheckValue(f, v); !ok {
					err = fmt.Errorf("%s %v is %s (physical range %v..%v)", f, v, reason, f.Spec().Min, f.Spec().Max)
				}
			}
			if err != nil {
				s.Errs = append(s.Errs, b.pollError(d, &blk, KindBadValue, 0, 1, err))
				d.ms.errors[KindBadValue].Inc()
				b.m.errTotal.Add(1)
				continue
			}
			rs[it.Port-1].Put(f, v)
		}
	}
	for i := range rs {
		if rs[i].Set == 0 {
			continue
		}
		if multi {
			rs[i].Put(devices.FieldPort, float64(i+1))
		}
		s.Readings = append(s.Readings, rs[i])
	}
	s.Duration = time.Since(start)
	b.m.duration.WithLabelValues(b.cfg.Name).Observe(s.Duration.Seconds())
	return s
}

func (b *Bus) readBlock(ctx context.Context, d *devState, blk *Block, attempts int, s *Sample) ([]byte, error) {
	var err error
	for a := 1; a <= attempts; a++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var data []byte
		data, err = b.conn.read(d.dev.Slave, blk.Function, blk.Start, blk.Count, d.dev.Timeout)
		if err == nil {
			return data, nil
		}
		kind, exc := classify(err)
		d.ms.errors[kind].Inc()
		b.m.errTotal.Add(1)
		b.log.Debug("modbus request failed", "device", d.dev.ID, "slave", d.dev.Slave, "function", blk.Function,
			"address", blk.Start, "count", blk.Count, "attempt", a, "kind", kind, "err", err)
		if kind == KindException || a == attempts {
			s.Errs = append(s.Errs, b.pollError(d, blk, kind, exc, a, err))
			return nil, err
		}
	}
	return nil, err
}

func (b *Bus) pollError(d *devState, blk *Block, kind ErrorKind, exc byte, attempts int, err error) *PollError {
	return &PollError{
		Bus: b.cfg.Name, Transport: b.cfg.Transport, Port: b.port, Line: b.line, Device: d.dev.ID, Profile: d.dev.Profile.Name,
		Slave: d.dev.Slave, Function: blk.Function, Address: blk.Start, Count: blk.Count,
		Kind: kind, Exception: exc, Attempts: attempts, Timeout: d.dev.Timeout, Err: err,
	}
}

// schedule records the outcome of a poll and sets the device's next poll.
func (b *Bus) schedule(d *devState, s *Sample) {
	switch {
	case len(s.Readings) == 0:
		d.ms.failed.Inc()
	case len(s.Errs) > 0:
		d.ms.partial.Inc()
	default:
		d.ms.ok.Inc()
	}
	if len(s.Readings) > 0 {
		d.fails = 0
		if d.down {
			d.down = false
			b.log.Info("device answers again", "device", d.dev.ID, "slave", d.dev.Slave)
		}
		d.ms.up.Set(1)
	} else {
		d.fails++
		d.ms.up.Set(0)
		if !d.down && d.fails >= b.opt.DownAfter {
			d.down = true
			msg := "no error"
			if e := s.Errs; len(e) > 0 {
				msg = e[0].Hint()
			}
			b.log.Warn("device is down: polling it once per backoff interval from now on",
				"device", d.dev.ID, "slave", d.dev.Slave, "failed_polls", d.fails, "hint", msg)
		}
	}
	interval := d.dev.Interval
	if d.down {
		shift := min(d.fails-b.opt.DownAfter+1, 16)
		interval = min(interval<<shift, max(b.opt.BackoffMax, d.dev.Interval))
	}
	now := b.clock.Mono()
	d.next += interval
	if d.next < now {
		// The bus cannot keep up with the intervals asked for: poll as soon as possible
		// (devices take turns, earliest first) and say so in the metrics.
		b.m.overruns.WithLabelValues(b.cfg.Name).Inc()
		d.next = now
	}
}
