package modbus_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/simulators/modbussim"
)

// needTool fails the test when a Debian package the tests use is missing:
// scripts/install-deps.sh installs it. Tests are not skipped for want of one.
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install the Debian package %s (scripts/install-deps.sh does)", name, pkg)
	}
	return p
}

// ptyPair connects two pseudo-terminals with socat, a null-modem cable in
// software, and returns their paths.
func ptyPair(t testing.TB) (string, string) {
	t.Helper()
	socat := needTool(t, "socat", "socat")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "master"), filepath.Join(dir, "slave")
	cmd := exec.Command(socat, "-d", "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ea := os.Stat(a)
		_, eb := os.Stat(b)
		if ea == nil && eb == nil {
			return a, b
		}
		if time.Now().After(deadline) {
			t.Fatalf("socat did not create %s and %s", a, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// faults hands out injections to the RTU slave: queued ones first, per unit.
type faults struct {
	mu    sync.Mutex
	queue map[uint8][]modbussim.Injection
}

func (f *faults) push(unit uint8, inj ...modbussim.Injection) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue == nil {
		f.queue = map[uint8][]modbussim.Injection{}
	}
	f.queue[unit] = append(f.queue[unit], inj...)
}

func (f *faults) next(unit, fc uint8, addr, qty uint16) modbussim.Injection {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue[unit]
	if len(q) == 0 {
		return modbussim.Injection{}
	}
	f.queue[unit] = q[1:]
	return q[0]
}

// serveRTU runs simulated slaves on the pty at path until the test ends.
func serveRTU(t testing.TB, path string, f *faults, units ...modbussim.Unit) {
	t.Helper()
	port, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- modbussim.ServeRTU(ctx, port, modbussim.RTUConfig{Units: units, Inject: f.next}) }()
	t.Cleanup(func() {
		cancel()
		port.Close()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("rtu slave: %v", err)
		}
	})
}

func meterReading(v, p float64) devices.Reading {
	var r devices.Reading
	r.Put(devices.FieldVoltage, v)
	r.Put(devices.FieldCurrent, p/v)
	r.Put(devices.FieldPower, p)
	r.Put(devices.FieldPF, 0.98)
	r.Put(devices.FieldFreq, 50)
	r.Put(devices.FieldEnergy, 1234.5)
	return r
}

// same reports whether got equals what a client should read of served.
func same(t testing.TB, p *profile.Profile, got []devices.Reading, served ...devices.Reading) bool {
	t.Helper()
	if len(got) != len(served) {
		t.Errorf("%d readings, want %d", len(got), len(served))
		return false
	}
	ok := true
	for i := range served {
		want, err := modbussim.Expected(p, served[i])
		if err != nil {
			t.Fatal(err)
		}
		g, w := string(devices.AppendReading(nil, &got[i])), string(devices.AppendReading(nil, &want))
		if g != w {
			t.Errorf("reading %d:\n got %s\nwant %s", i, g, w)
			ok = false
		}
	}
	return ok
}

func device(id string, slave uint8, prof string) modbus.Device {
	return modbus.Device{ID: id, Slave: slave, Profile: profile.MustLoad(prof), Interval: time.Second, Timeout: 200 * time.Millisecond}
}

func pollErr(t testing.TB, s modbus.Sample) *modbus.PollError {
	t.Helper()
	pe, ok := s.Err().(*modbus.PollError)
	if !ok {
		t.Fatalf("poll error %v (%T), want a *PollError", s.Err(), s.Err())
	}
	return pe
}
