package modbus_test

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/modbus"
)

// The Debian interpreter: python3-pymodbus lives under it, and the first
// python3 on PATH may be another one.
const debianPython = "/usr/bin/python3"

// cw-edge reads registers served by pymodbus, whose values the server script
// computes with Python's struct: decoding checked against an implementation
// nobody here wrote.
func TestReadsPymodbusServer(t *testing.T) {
	if err := exec.Command(debianPython, "-c", "import pymodbus").Run(); err != nil {
		t.Fatalf("%s cannot import pymodbus (%v): install the Debian package python3-pymodbus (scripts/install-deps.sh does)", debianPython, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command(debianPython, "testdata/pymodbus_server.py", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pymodbus server output:\n%s", out.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pymodbus server did not listen on %s:\n%s", addr, out.String())
		}
	}

	reading := func(kv ...any) devices.Reading {
		var r devices.Reading
		for i := 0; i < len(kv); i += 2 {
			f, _ := devices.FieldByName(kv[i].(string))
			r.Put(f, kv[i+1].(float64))
		}
		return r
	}
	cases := []struct {
		dev  modbus.Device
		want devices.Reading
	}{
		{device("sdm120", 1, "eastron-sdm120"), reading(
			"voltage_v", 230.1, "current_a", 1.5, "power_w", 345.2, "pf", 0.98, "energy_kwh", 1234.56, "freq_hz", 50.0)},
		{device("adw300", 2, "acrel-adw300"), reading(
			"voltage_l1_v", 230.1, "voltage_l2_v", 230.2, "voltage_l3_v", 230.3,
			"current_l1_a", 1.5, "current_l2_a", 1.51, "current_l3_a", 1.52,
			"power_l1_w", 100.0, "power_l2_w", -200.0, "power_l3_w", 300.0, "power_w", -1234.0, "energy_kwh", 1234.56)},
		{device("monitor", 3, "cw-monitor-v1"), reading(
			"leak_ma", 305.0, "temp1_c", -12.5, "temp2_c", 35.0, "temp3_c", 40.2, "temp4_c", 0.0,
			"voltage_v", 229.9, "current_a", 1.23, "power_w", -50.0, "energy_kwh", 30000000.0, "freq_hz", 50.02, "pf", -0.95)},
	}
	var devs []modbus.Device
	for _, c := range cases {
		devs = append(devs, c.dev)
	}
	bus, err := modbus.NewBus(modbus.BusConfig{Name: "pymodbus", Transport: modbus.TCP, Address: addr, Devices: devs}, modbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	for i, c := range cases {
		s := bus.Poll(context.Background(), i)
		if s.Err() != nil {
			t.Fatalf("%s: %v", c.dev.ID, s.Err())
		}
		if len(s.Readings) != 1 {
			t.Fatalf("%s: %d readings", c.dev.ID, len(s.Readings))
		}
		got, want := devices.AppendReading(nil, &s.Readings[0]), devices.AppendReading(nil, &c.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", c.dev.ID, got, want)
		}
	}
}
