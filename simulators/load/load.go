// Package load is cw-sim's load generator, which the ingest benchmark
// uses: N meters spread over a few gateway connections publish telemetry at
// a given total rate (or as fast as the broker takes it), one reading or a
// batch of readings of one device per message, at QoS 0 or 1, for a
// duration or a number of messages, and it reports what was published and
// acknowledged and what it cost.
//
// Payloads are encoded by package devices from cheap synthetic meter
// values; every reading of a device has its own timestamp (one second
// apart, ending before the run starts, inside the ingest window), so every
// reading is a distinct point downstream. Site returns the registry site of
// the generated devices, to import before a benchmark.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// Config is a load run.
type Config struct {
	Broker      string        // tcp://host:port
	Devices     int           // meters (default 1000)
	Connections int           // gateway connections, each its own MQTT client (default 1: Mosquitto takes most from one)
	Rate        float64       // messages per second in total; 0 for flat out
	Batch       int           // readings per message (1 to 500, default 1)
	QoS         byte          // 0 or 1 (default 1 via NewConfig)
	Window      int           // unacknowledged messages per connection (default 10000, at most 65535)
	Duration    time.Duration // stop after this long (0: no limit)
	Messages    int64         // stop after this many messages in total (0: no limit)
	Prefix      string        // id prefix (default "load"): gateways PREFIX-gw-NN, devices PREFIX-m-NNNNNN
	Password    string        // MQTT password of every connection, if the broker needs one
	Grace       time.Duration // how long to wait for the last acks (default 10s)
	Now         func() time.Time
	// Progress is called about once a second with the counts so far.
	Progress func(Progress)
}

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{Devices: 1000, Connections: 1, Batch: 1, QoS: 1, Window: 10000, Prefix: "load", Grace: 10 * time.Second}
}

// Progress is a snapshot of a running load.
type Progress struct {
	Elapsed   time.Duration
	Published int64
	Acked     int64
	Readings  int64
	Target    int64 // messages to send in total, 0 when bounded by time only
}

// Summary is what a load run did.
type Summary struct {
	Connections int
	Devices     int
	Batch       int
	QoS         byte
	Published   int64         // messages written to the broker
	Acked       int64         // PUBACKs received (QoS 1)
	Readings    int64         // readings in the published messages
	Bytes       int64         // payload bytes
	Elapsed     time.Duration // from the first publish to the last ack (or the end of sending at QoS 0)
	CPU         time.Duration // CPU time of this process during the run
}

// MsgRate returns messages per second.
func (s Summary) MsgRate() float64 { return float64(s.Published) / s.Elapsed.Seconds() }

// ReadingRate returns readings per second.
func (s Summary) ReadingRate() float64 { return float64(s.Readings) / s.Elapsed.Seconds() }

// CPUPerMsg returns this process's CPU time per message.
func (s Summary) CPUPerMsg() time.Duration {
	if s.Published == 0 {
		return 0
	}
	return s.CPU / time.Duration(s.Published)
}

func (s Summary) String() string {
	ack := ""
	if s.QoS > 0 {
		ack = fmt.Sprintf(", %d acked", s.Acked)
	}
	return fmt.Sprintf("%d messages (%d readings, %.1f MB payload) from %d devices over %d connections in %s%s: %.0f msgs/s, %.0f readings/s, %.2f µs CPU/msg",
		s.Published, s.Readings, float64(s.Bytes)/1e6, s.Devices, s.Connections, s.Elapsed.Round(time.Millisecond), ack,
		s.MsgRate(), s.ReadingRate(), float64(s.CPUPerMsg().Nanoseconds())/1000)
}

func (c *Config) check() error {
	var errs []error
	if c.Broker == "" {
		errs = append(errs, errors.New("no broker: give --broker tcp://host:port"))
	}
	if c.Devices < 1 || c.Devices > 10_000_000 {
		errs = append(errs, fmt.Errorf("devices %d: use 1 to 10,000,000", c.Devices))
	}
	if c.Connections < 1 || c.Connections > c.Devices || c.Connections > 10000 {
		errs = append(errs, fmt.Errorf("connections %d: use 1 to min(devices, 10000)", c.Connections))
	}
	if c.Batch < 1 || c.Batch > devices.DefaultLimits().MaxReadings {
		errs = append(errs, fmt.Errorf("batch %d: use 1 to %d readings a message", c.Batch, devices.DefaultLimits().MaxReadings))
	}
	if c.QoS > 1 {
		errs = append(errs, fmt.Errorf("qos %d: use 0 or 1", c.QoS))
	}
	if c.Window < 1 || c.Window > 65535 {
		errs = append(errs, fmt.Errorf("window %d: use 1 to 65535", c.Window))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %v: use 0 (flat out) or more", c.Rate))
	}
	if c.Duration <= 0 && c.Messages <= 0 {
		errs = append(errs, errors.New("give a duration or a number of messages"))
	}
	if !devices.ValidID(c.Prefix + "-m-0000000") {
		errs = append(errs, fmt.Errorf("prefix %q makes invalid ids", c.Prefix))
	}
	return errors.Join(errs...)
}

// GatewayID and DeviceID name the generated clients and meters.
func (c *Config) GatewayID(i int) string { return fmt.Sprintf("%s-gw-%02d", c.Prefix, i) }

// DeviceID names meter i.
func (c *Config) DeviceID(i int) string { return fmt.Sprintf("%s-m-%06d", c.Prefix, i) }

// gatewayOf is the connection of device i.
func (c *Config) gatewayOf(i int) int { return i % c.Connections }

// Site returns the registry site of the load's gateways and meters: one
// district, street, community and building, every meter on it.
func Site(cfg Config) *registry.Site {
	p := cfg.Prefix
	s := &registry.Site{
		Districts:   []registry.DistrictSpec{{ID: p + "-d", Name: "压测区"}},
		Streets:     []registry.StreetSpec{{ID: p + "-st", Name: "压测街道", District: p + "-d"}},
		Communities: []registry.CommunitySpec{{ID: p + "-c", Name: "压测社区", Street: p + "-st"}},
		Buildings:   []registry.BuildingSpec{{ID: p + "-b", Name: "压测楼", Community: p + "-c", Lat: 30.27, Lon: 120.15}},
	}
	for g := 0; g < cfg.Connections; g++ {
		s.Gateways = append(s.Gateways, registry.GatewaySpec{ID: cfg.GatewayID(g), Building: p + "-b"})
	}
	for i := 0; i < cfg.Devices; i++ {
		s.Devices = append(s.Devices, registry.DeviceSpec{ID: cfg.DeviceID(i), Kind: devices.KindMeter, Gateway: cfg.GatewayID(cfg.gatewayOf(i)),
			Building: p + "-b", RatedCurrentA: 32, Interval: time.Minute})
	}
	return s
}

// meter is the synthetic state of one device.
type meter struct {
	topic []byte
	next  int64 // readings sent so far
	base  float64
}

// Run runs the load until its duration or message count, ctx cancellation
// or an error.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if err := cfg.check(); err != nil {
		return Summary{}, err
	}
	sum := Summary{Connections: cfg.Connections, Devices: cfg.Devices, Batch: cfg.Batch, QoS: cfg.QoS}
	// Timestamps: reading k of a device is at t0 + k seconds; the expected
	// readings per device fit before now, and at most 9 days back.
	perDevice := expectedReadings(cfg) / int64(cfg.Devices)
	step := int64(1000)
	horizon := min(perDevice*step, int64(9*24*time.Hour/time.Millisecond))
	if perDevice > 0 && horizon/perDevice < step {
		step = max(1, horizon/perDevice)
	}
	t0 := cfg.Now().UnixMilli() - horizon - 1000

	conns := make([]*conn, cfg.Connections)
	for g := range conns {
		c, err := dial(cfg.Broker, cfg.GatewayID(g), cfg.Password, cfg.QoS, cfg.Window)
		if err != nil {
			for _, o := range conns[:g] {
				o.close(0, 0)
			}
			return sum, fmt.Errorf("gateway %s: %w", cfg.GatewayID(g), err)
		}
		conns[g] = c
	}
	meters := make([][]*meter, cfg.Connections)
	for i := 0; i < cfg.Devices; i++ {
		g := cfg.gatewayOf(i)
		meters[g] = append(meters[g], &meter{
			topic: []byte(devices.TopicFor(cfg.GatewayID(g), cfg.DeviceID(i), devices.ChannelTelemetry)),
			base:  40 + float64(i%97)*9,
		})
	}

	var published, readings, payloadBytes atomic.Int64
	var stop atomic.Bool
	cpu0 := cpuTime()
	start := time.Now()
	progressDone := make(chan struct{})
	if cfg.Progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					var acked int64
					for _, c := range conns {
						acked += c.acked.Load()
					}
					// published is counted in steps of 256: never show fewer than acked
					pub := max(published.Load(), acked)
					cfg.Progress(Progress{Elapsed: time.Since(start), Published: pub, Acked: acked, Readings: max(readings.Load(), acked*int64(cfg.Batch)), Target: cfg.Messages})
				case <-progressDone:
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make([]error, cfg.Connections)
	sent := make([]int64, cfg.Connections)
	for g, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// this connection's share of the messages and of the rate
			quota := int64(math.MaxInt64)
			if cfg.Messages > 0 {
				quota = cfg.Messages / int64(cfg.Connections)
				if int64(g) < cfg.Messages%int64(cfg.Connections) {
					quota++
				}
			}
			rate := cfg.Rate / float64(cfg.Connections)
			n, err := pump(ctx, c, meters[g], quota, rate, cfg, t0, step, start, &stop, &published, &readings, &payloadBytes)
			sent[g], errs[g] = n, err
			if err != nil {
				stop.Store(true)
			}
		}()
	}
	wg.Wait()
	sendEnd := time.Now()
	for g, c := range conns {
		c.close(sent[g], cfg.Grace)
		sum.Acked += c.acked.Load()
	}
	close(progressDone)
	sum.Elapsed = time.Since(start)
	if cfg.QoS == 0 {
		sum.Elapsed = sendEnd.Sub(start)
	}
	sum.CPU = cpuTime() - cpu0
	sum.Published, sum.Readings, sum.Bytes = published.Load(), readings.Load(), payloadBytes.Load()
	err := errors.Join(errs...)
	if err == nil && cfg.QoS > 0 && sum.Acked < sum.Published {
		err = fmt.Errorf("%d of %d messages were not acknowledged within %s", sum.Published-sum.Acked, sum.Published, cfg.Grace)
	}
	if errors.Is(err, context.Canceled) {
		err = nil // stopped by the user: the summary says what was done
	}
	return sum, err
}

// expectedReadings estimates the readings a run sends in total.
func expectedReadings(cfg Config) int64 {
	msgs := cfg.Messages
	if msgs <= 0 {
		rate := cfg.Rate
		if rate <= 0 {
			rate = 250_000 // more than flat out reaches here
		}
		msgs = int64(rate * cfg.Duration.Seconds())
	}
	return msgs * int64(cfg.Batch)
}

// pump publishes one connection's messages.
func pump(ctx context.Context, c *conn, ms []*meter, quota int64, rate float64, cfg Config, t0, step int64, start time.Time,
	stop *atomic.Bool, published, readings, payloadBytes *atomic.Int64) (int64, error) {
	var n int64
	rs := make([]devices.Reading, cfg.Batch)
	var payload []byte
	deadline := time.Time{}
	if cfg.Duration > 0 {
		deadline = start.Add(cfg.Duration)
	}
	k := 0
	var local, localR, localB int64
	commit := func() {
		published.Add(local)
		readings.Add(localR)
		payloadBytes.Add(localB)
		local, localR, localB = 0, 0, 0
	}
	defer commit()
	for n < quota {
		if n%256 == 0 {
			commit()
			if stop.Load() {
				return n, nil
			}
			if err := ctx.Err(); err != nil {
				return n, err
			}
			now := time.Now()
			if !deadline.IsZero() && now.After(deadline) {
				return n, nil
			}
			if err := c.err(); err != nil {
				return n, fmt.Errorf("connection lost: %w", err)
			}
		}
		if rate > 0 && n%16 == 0 {
			// pace: sleep while ahead of the schedule (1 ms granularity)
			for {
				now := time.Now()
				due := int64(now.Sub(start).Seconds() * rate)
				if n < due+16 {
					break
				}
				if err := c.flush(now); err != nil {
					return n, err
				}
				if err := c.idle(now); err != nil {
					return n, err
				}
				if !deadline.IsZero() && now.After(deadline) || stop.Load() || ctx.Err() != nil {
					return n, ctx.Err()
				}
				time.Sleep(time.Millisecond)
			}
		}
		m := ms[k]
		k++
		if k == len(ms) {
			k = 0
		}
		for j := range rs {
			fill(&rs[j], m, t0+m.next*step)
			m.next++
		}
		payload = devices.AppendTelemetry(payload[:0], rs)
		if err := c.publish(m.topic, payload); err != nil {
			return n, fmt.Errorf("publish: %w", err)
		}
		n++
		local++
		localR += int64(len(rs))
		localB += int64(len(payload))
	}
	return n, c.flush(time.Now())
}

// fill makes a plausible meter reading: power wandering around the
// device's base load, short numbers.
func fill(r *devices.Reading, m *meter, ts int64) {
	r.Set = 0
	r.TS = ts
	r.Seq = uint64(m.next + 1)
	w := m.base * (1 + 0.3*math.Sin(float64(m.next)/37))
	w = math.Round(w*10) / 10
	v := 220 + float64(m.next%23)/10
	r.Put(devices.FieldVoltage, v)
	r.Put(devices.FieldCurrent, math.Round(w/v/0.9*1000)/1000)
	r.Put(devices.FieldPower, w)
	r.Put(devices.FieldPF, 0.9)
	r.Put(devices.FieldEnergy, math.Round((1000+float64(m.next)*w/3.6e6)*1000)/1000)
	r.Put(devices.FieldFreq, 50)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
