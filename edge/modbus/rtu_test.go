package modbus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	gb "github.com/goburrow/modbus"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/simulators/modbussim"
)

// rtuBus starts an RS-485 bus in software: a pty pair, slaves 1 (DDSU666,
// FC03) and 2 (SDM120, FC04) on one end, a bus polling them on the other.
func rtuBus(t *testing.T, devs ...modbus.Device) (*modbus.Bus, *faults, *prometheus.Registry) {
	t.Helper()
	master, slave := ptyPair(t)
	f := &faults{}
	serveRTU(t, slave, f,
		modbussim.Unit{ID: 1, Profile: profile.MustLoad("chint-ddsu666"), Values: modbussim.Constant(meterReading(230.1, 345))},
		modbussim.Unit{ID: 2, Profile: profile.MustLoad("eastron-sdm120"), Values: modbussim.Constant(meterReading(221.7, 1500.5))},
	)
	reg := prometheus.NewRegistry()
	bus, err := modbus.NewBus(modbus.BusConfig{
		Name: "rs485-1", Transport: modbus.RTU,
		Serial:  modbus.SerialConfig{Device: master, Baud: 9600, DataBits: 8, Parity: "N", StopBits: 1},
		Devices: devs,
	}, modbus.Options{Metrics: modbus.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	return bus, f, reg
}

func errCount(reg *prometheus.Registry, dev string, kind modbus.ErrorKind) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "chargewatch_edge_poll_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var d, k string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "device":
					d = l.GetValue()
				case "kind":
					k = l.GetValue()
				}
			}
			if d == dev && k == string(kind) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func TestRTURoundTrip(t *testing.T) {
	bus, f, _ := rtuBus(t, device("m1", 1, "chint-ddsu666"), device("m2", 2, "eastron-sdm120"))
	for range 2 {
		s := bus.Poll(context.Background(), 0)
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		same(t, profile.MustLoad("chint-ddsu666"), s.Readings, meterReading(230.1, 345))
		s = bus.Poll(context.Background(), 1)
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		same(t, profile.MustLoad("eastron-sdm120"), s.Readings, meterReading(221.7, 1500.5))
		// A slave that trickles its answer byte by byte is read all the same.
		f.push(2, modbussim.Injection{ByteGap: 3 * time.Millisecond})
	}
}

func TestRTUCRCErrorIsRetried(t *testing.T) {
	d := device("m1", 1, "chint-ddsu666")
	d.Retries = 1
	bus, f, reg := rtuBus(t, d)
	f.push(1, modbussim.Injection{Fault: modbussim.FaultCRC})
	s := bus.Poll(context.Background(), 0)
	if s.Err() != nil {
		t.Fatalf("the retry should have read the block: %v", s.Err())
	}
	same(t, d.Profile, s.Readings, meterReading(230.1, 345))
	if n := errCount(reg, "m1", modbus.KindCRC); n != 1 {
		t.Errorf("crc errors = %v, want 1 (a recovered error still counts)", n)
	}

	// Without retries the CRC error is the poll's error, with advice.
	f.push(1, modbussim.Injection{Fault: modbussim.FaultCRC}, modbussim.Injection{Fault: modbussim.FaultCRC})
	bus2, f2, _ := rtuBus(t, device("m1", 1, "chint-ddsu666"))
	f2.push(1, modbussim.Injection{Fault: modbussim.FaultCRC})
	pe := pollErr(t, bus2.Poll(context.Background(), 0))
	if pe.Kind != modbus.KindCRC || !strings.Contains(pe.Hint(), "CRC error") || !strings.Contains(pe.Hint(), "9600 8N1") {
		t.Errorf("kind %s, hint %q", pe.Kind, pe.Hint())
	}
	// The partial reading of the other blocks is kept.
	if s := bus2.Poll(context.Background(), 0); s.Err() != nil {
		t.Fatalf("next poll: %v", s.Err())
	}
}

// A slow slave answering with an exception: goburrow v0.1.0 alone misreads it
// (see TestGoburrowRTUExceptionDefect); the bus reports the exception and the
// next poll is clean.
func TestRTUExceptionRecognised(t *testing.T) {
	bus, f, reg := rtuBus(t, device("m1", 1, "chint-ddsu666"))
	f.push(1, modbussim.Injection{Fault: modbussim.FaultException, Exception: 2, Delay: 40 * time.Millisecond, ByteGap: 4 * time.Millisecond})
	s := bus.Poll(context.Background(), 0)
	pe := pollErr(t, s)
	if pe.Kind != modbus.KindException || pe.Exception != 2 {
		t.Fatalf("error %v, want exception 2", pe)
	}
	if !strings.Contains(pe.Hint(), "illegal data address") || !strings.Contains(pe.Hint(), "chint-ddsu666") {
		t.Errorf("hint %q", pe.Hint())
	}
	// An exception on one block leaves the others: the reading lacks only V, I, P and Q.
	if len(s.Readings) != 1 || s.Readings[0].Set.Has(0) {
		t.Errorf("readings %v", s.Readings)
	}
	s = bus.Poll(context.Background(), 0)
	if s.Err() != nil {
		t.Fatalf("poll after the exception: %v", s.Err())
	}
	same(t, profile.MustLoad("chint-ddsu666"), s.Readings, meterReading(230.1, 345))
	if n := errCount(reg, "m1", modbus.KindException); n != 1 {
		t.Errorf("exception errors = %v, want 1", n)
	}
}

// Documents the goburrow/modbus v0.1.0 RTU defect the bus works around: its
// transporter checks for an exception with `function & 0x80` (always 0), so
// an exception from a slave that answers slowly is cut after 4 bytes and
// reported as something else, and its 5th byte corrupts the next answer.
func TestGoburrowRTUExceptionDefect(t *testing.T) {
	master, slave := ptyPair(t)
	f := &faults{}
	serveRTU(t, slave, f, modbussim.Unit{ID: 1, Profile: profile.MustLoad("chint-ddsu666"), Values: modbussim.Constant(meterReading(230.1, 345))})
	h := gb.NewRTUClientHandler(master)
	h.BaudRate, h.DataBits, h.Parity, h.StopBits, h.SlaveId = 9600, 8, "N", 1, 1
	h.Timeout = 500 * time.Millisecond
	c := gb.NewClient(h)
	defer h.Close()
	f.push(1, modbussim.Injection{Fault: modbussim.FaultException, Exception: 2, Delay: 40 * time.Millisecond, ByteGap: 4 * time.Millisecond})
	_, err := c.ReadHoldingRegisters(0x2000, 2)
	var me *gb.ModbusError
	if errors.As(err, &me) {
		t.Fatalf("goburrow v0.1.0 recognised the slow exception (%v): the workaround may no longer be needed", err)
	}
	t.Logf("goburrow v0.1.0 alone: exception answer read as: %v", err)
	_, err = c.ReadHoldingRegisters(0x2000, 2)
	t.Logf("goburrow v0.1.0 alone: next read: %v", err)
	if err == nil {
		t.Log("(the stray byte was not read into the next answer this time)")
	}
}

func TestRTUSilentSlaveTimesOut(t *testing.T) {
	d := device("m9", 9, "chint-ddsu666") // nobody answers to 9
	d.Timeout = 100 * time.Millisecond
	d.Retries = 1
	bus, _, reg := rtuBus(t, d, device("m1", 1, "chint-ddsu666"))
	start := time.Now()
	s := bus.Poll(context.Background(), 0)
	took := time.Since(start)
	pe := pollErr(t, s)
	if pe.Kind != modbus.KindTimeout || pe.Attempts != 2 {
		t.Fatalf("error %v, want a timeout after 2 attempts", pe)
	}
	// The first block timed out: the other three are not tried.
	if took > time.Second || len(s.Errs) != 1 {
		t.Errorf("poll of a silent slave took %v with %d errors", took, len(s.Errs))
	}
	if !strings.Contains(pe.Hint(), "slave id is 9") || !strings.Contains(pe.Hint(), "A and B") {
		t.Errorf("hint %q", pe.Hint())
	}
	if n := errCount(reg, "m9", modbus.KindTimeout); n != 2 {
		t.Errorf("timeouts = %v, want 2", n)
	}
	if s := bus.Poll(context.Background(), 1); s.Err() != nil {
		t.Fatalf("the neighbour after a timeout: %v", s.Err())
	}
}

// A slave that answers after the master gave up must not have its late
// answer taken for the answer to the next request.
func TestRTULateAnswerIsNotTakenForTheNext(t *testing.T) {
	d := device("m1", 1, "chint-ddsu666")
	d.Timeout = 100 * time.Millisecond
	bus, f, _ := rtuBus(t, d, device("m2", 2, "eastron-sdm120"))
	f.push(1, modbussim.Injection{Fault: modbussim.FaultLate, Delay: 150 * time.Millisecond})
	if pe := pollErr(t, bus.Poll(context.Background(), 0)); pe.Kind != modbus.KindTimeout {
		t.Fatalf("error %v, want a timeout", pe)
	}
	// Slave 1's late answer arrives while slave 2 is asked.
	s := bus.Poll(context.Background(), 1)
	if s.Err() != nil {
		t.Fatalf("poll after a late answer: %v", s.Err())
	}
	same(t, profile.MustLoad("eastron-sdm120"), s.Readings, meterReading(221.7, 1500.5))
}

func TestRTUWrongSlaveAnswers(t *testing.T) {
	bus, f, _ := rtuBus(t, device("m1", 1, "chint-ddsu666"))
	f.push(1, modbussim.Injection{Fault: modbussim.FaultWrongSlave})
	pe := pollErr(t, bus.Poll(context.Background(), 0))
	if pe.Kind != modbus.KindWrongSlave || !strings.Contains(pe.Hint(), "share an id") {
		t.Fatalf("error %v, hint %q", pe, pe.Hint())
	}
	if s := bus.Poll(context.Background(), 0); s.Err() != nil {
		t.Fatalf("next poll: %v", s.Err())
	}
}

func TestRTUMissingPort(t *testing.T) {
	bus, err := modbus.NewBus(modbus.BusConfig{
		Name: "rs485-9", Transport: modbus.RTU,
		Serial:  modbus.SerialConfig{Device: "/dev/does-not-exist", Baud: 9600, DataBits: 8, Parity: "N", StopBits: 1},
		Devices: []modbus.Device{device("m1", 1, "chint-ddsu666")},
	}, modbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pe := pollErr(t, bus.Poll(context.Background(), 0))
	if pe.Kind != modbus.KindConnection || !strings.Contains(pe.Hint(), "/dev/does-not-exist") {
		t.Fatalf("error %v, hint %q", pe, pe.Hint())
	}
}
