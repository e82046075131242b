package modbus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gb "github.com/goburrow/modbus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/simulators/modbussim"
)

func tcpSim(t *testing.T, units ...modbussim.Unit) *modbussim.Server {
	t.Helper()
	s, err := modbussim.NewServer(modbussim.Config{Units: units})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func ddsu(id uint8, r ...float64) modbussim.Unit {
	return modbussim.Unit{ID: id, Profile: profile.MustLoad("chint-ddsu666"), Values: modbussim.Constant(meterReading(r[0], r[1]))}
}

// Documents the goburrow/modbus v0.1.0 TCP defect and shows the workaround:
// after a timeout v0.1.0 keeps the connection, the late answer is read as the
// answer to the next request, and the transaction ids no longer match.
func TestTCPStaleAnswerAfterTimeout(t *testing.T) {
	sim := tcpSim(t, ddsu(1, 230.1, 345))

	h := gb.NewTCPClientHandler(sim.Addr())
	h.Timeout, h.SlaveId = 100*time.Millisecond, 1
	c := gb.NewClient(h)
	sim.SetDelay(1, 250*time.Millisecond)
	if _, err := c.ReadHoldingRegisters(0x2000, 2); err == nil {
		t.Fatal("no timeout")
	}
	time.Sleep(300 * time.Millisecond) // the late answer is now waiting on the connection
	sim.SetDelay(1, 0)
	_, err := c.ReadHoldingRegisters(0x2000, 2)
	h.Close()
	if err == nil || !strings.Contains(err.Error(), "transaction id") {
		t.Fatalf("goburrow v0.1.0 alone: %v; want a transaction id mismatch (has the defect been fixed?)", err)
	}
	t.Logf("goburrow v0.1.0 alone, after a timeout: %v", err)

	d := device("m1", 1, "chint-ddsu666")
	d.Timeout = 100 * time.Millisecond
	bus, err := modbus.NewBus(modbus.BusConfig{Name: "tcp-1", Transport: modbus.TCP, Address: sim.Addr(), Devices: []modbus.Device{d}}, modbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	sim.SetDelay(1, 250*time.Millisecond)
	if pe := pollErr(t, bus.Poll(context.Background(), 0)); pe.Kind != modbus.KindTimeout {
		t.Fatalf("error %v, want a timeout", pe)
	}
	time.Sleep(300 * time.Millisecond)
	sim.SetDelay(1, 0)
	s := bus.Poll(context.Background(), 0)
	if s.Err() != nil {
		t.Fatalf("poll after a timeout: %v", s.Err())
	}
	same(t, d.Profile, s.Readings, meterReading(230.1, 345))
}

// A slave that stops answering is marked down and then tried once per
// backoff interval, so its neighbours on the bus keep their poll rate.
func TestDeadSlaveDoesNotStallTheBus(t *testing.T) {
	sim := tcpSim(t, ddsu(1, 230.1, 345), ddsu(2, 231, 100))
	sim.SetDelay(2, time.Hour)
	const interval = 25 * time.Millisecond
	good := device("good", 1, "chint-ddsu666")
	good.Interval = interval
	dead := device("dead", 2, "chint-ddsu666")
	dead.Interval, dead.Timeout, dead.Retries = interval, 50*time.Millisecond, 2
	reg := prometheus.NewRegistry()
	m := modbus.NewMetrics(reg)
	bus, err := modbus.NewBus(modbus.BusConfig{Name: "tcp-1", Transport: modbus.TCP, Address: sim.Addr(), Devices: []modbus.Device{good, dead}},
		modbus.Options{Metrics: m, DownAfter: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	out := make(chan modbus.Sample, 16)
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, out); close(out) }()
	start := time.Now()
	var goodLate, deadLate, deadAttempts int
	for s := range out {
		late := time.Since(start) > 750*time.Millisecond
		switch s.Device.ID {
		case "good":
			if s.Err() != nil {
				t.Errorf("good device: %v", s.Err())
			}
			if late {
				goodLate++
			}
		case "dead":
			if len(s.Readings) > 0 {
				t.Error("the dead device answered")
			}
			if late {
				deadLate++
				deadAttempts += s.Errs[0].Attempts
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// 750 ms at 25 ms is 30 polls; the dead slave, once down, costs one 50 ms timeout per
	// backoff interval (25 ms doubling), so most of them happen.
	if goodLate < 15 {
		t.Errorf("good device polled %d times in the last 750 ms, want at least 15 of 30", goodLate)
	}
	if deadLate > 4 || deadAttempts != deadLate {
		t.Errorf("dead device polled %d times (%d attempts) in the last 750 ms: backoff not applied", deadLate, deadAttempts)
	}
	up := testutil.ToFloat64
	if v := up(m.UpGauge("tcp-1", "dead")); v != 0 {
		t.Errorf("device_up{dead} = %v", v)
	}
	if v := up(m.UpGauge("tcp-1", "good")); v != 1 {
		t.Errorf("device_up{good} = %v", v)
	}
	t.Logf("last 750 ms: good %d polls, dead %d polls; %d errors in all", goodLate, deadLate, m.ErrorsTotal())
}
