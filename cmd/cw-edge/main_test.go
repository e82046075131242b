package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/modbussim"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func cwEdge(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheck(t *testing.T) {
	good := writeFile(t, "edge.yaml", `gateway: gw-1
mqtt: {url: "tcp://127.0.0.1:1883", password: hunter2-secret}
queue: {dir: /tmp/cw-edge-test-queue}
buses:
  - name: rs485-1
    transport: rtu
    port: /dev/ttyS1
    baud: 9600
    devices:
      - {id: m-1, profile: chint-ddsu666, slave: 1}
`)
	code, out, errs := cwEdge("check", "-config", good)
	if code != 0 || !strings.Contains(out, "OK") || !strings.Contains(out, "m-1=chint-ddsu666@1") {
		t.Fatalf("check of a good config: %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, "hunter2-secret") {
		t.Error("check printed the MQTT password")
	}
	bad := writeFile(t, "edge.yaml", "gateway: gw-1\nmqtt: {url: \"tcp://127.0.0.1:1883\", password: hunter2-secret}\nbuses:\n  - {name: b, transport: rtu, port: /dev/ttyS1, baud: 9601, devices: [{id: m-1, profile: x, slave: 1}]}\n")
	code, out, errs = cwEdge("check", "-config", bad)
	if code != 1 || !strings.Contains(errs, `edge.yaml:4:55: bus "b": baud 9601`) || !strings.Contains(errs, `device "m-1": profile "x" is unknown`) {
		t.Fatalf("check of a bad config: %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, "hunter2-secret") {
		t.Error("check printed the MQTT password")
	}
	if code, _, _ := cwEdge("nope"); code != 2 {
		t.Error("unknown command accepted")
	}
	if code, out, _ := cwEdge("version"); code != 0 || !strings.HasPrefix(out, "cw-edge ") {
		t.Error("version")
	}
}

func meterReading() devices.Reading {
	var r devices.Reading
	r.Put(devices.FieldVoltage, 229.5)
	r.Put(devices.FieldCurrent, 0.75)
	r.Put(devices.FieldPower, 160)
	r.Put(devices.FieldPF, 0.93)
	r.Put(devices.FieldFreq, 50)
	r.Put(devices.FieldEnergy, 321.5)
	return r
}

// The commissioning tool: every device once, values or a plain explanation.
func TestProbe(t *testing.T) {
	var p1, p2 devices.Reading
	p1.Put(devices.FieldPort, 1)
	p1.Put(devices.FieldState, float64(devices.PileCharging))
	p1.Put(devices.FieldPower, 150.5)
	p2.Put(devices.FieldPort, 2)
	p2.Put(devices.FieldState, float64(devices.PileIdle))
	sim, err := modbussim.NewServer(modbussim.Config{Units: []modbussim.Unit{
		{ID: 1, Profile: profile.MustLoad("chint-ddsu666"), Values: modbussim.Constant(meterReading())},
		{ID: 2, Profile: profile.MustLoad("eastron-sdm120"), Values: modbussim.Constant(meterReading())},
		{ID: 3, Profile: profile.MustLoad("cw-pile-v1"), Ports: 2, Values: modbussim.Constant(p1, p2)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	cfg := writeFile(t, "edge.yaml", fmt.Sprintf(`gateway: gw-1
mqtt: {url: "tcp://127.0.0.1:1883"}
defaults: {timeout: 300ms, retries: 0}
buses:
  - name: net
    transport: tcp
    address: %s
    devices:
      - {id: m-1, profile: chint-ddsu666, slave: 1}
      - {id: m-2, profile: chint-ddsu666, slave: 2}
      - {id: pile-1, profile: cw-pile-v1, slave: 3, ports: 2}
      - {id: m-9, profile: chint-ddsu666, slave: 9}
`, sim.Addr()))
	code, out, errs := cwEdge("probe", "-config", cfg)
	t.Logf("cw-edge probe:\n%s%s", out, errs)
	if code != 1 {
		t.Errorf("exit %d with failing devices, want 1", code)
	}
	for _, want := range []string{
		"m-1     1      chint-ddsu666  ok",
		"voltage_v=229.5 current_a=0.75 power_w=160 reactive_power_var=0 pf=0.93 energy_kwh=321.5 freq_hz=50",
		"m-2     2      chint-ddsu666  FAILED: exception 1",
		"does not support function 03 (illegal function): the device is not a chint-ddsu666, or its firmware needs function 04 (set function: 4 on the device)",
		"power_w=150.5 pf=0 energy_kwh=0 temp_c=0 port=1 state=charging fault=false",
		"port=2 state=idle",
		"could not reach unit 9",
		"(4 requests)",
		"2 device(s) with problems.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("probe output lacks %q", want)
		}
	}
	code, out, _ = cwEdge("probe", "-config", cfg, "-device", "m-1")
	if code != 0 || strings.Contains(out, "m-2") {
		t.Errorf("probe -device m-1: %d\n%s", code, out)
	}
}

// The real binary, polling 32 simulated meters and publishing to Mosquitto:
// telemetry arrives from every meter, /metrics answers, SIGTERM stops it
// cleanly. It prints the memory it used (docs/edge.md records the figure):
//
//	go test ./cmd/cw-edge -run TestBinary32Meters -v
func TestBinary32Meters(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cw-edge")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const meters = 32
	var units []modbussim.Unit
	for i := 1; i <= meters; i++ {
		units = append(units, modbussim.Unit{ID: uint8(i), Profile: profile.MustLoad("chint-dtsu666"), Values: modbussim.Constant(meterReading())})
	}
	sim, err := modbussim.NewServer(modbussim.Config{Units: units})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	mq := testenv.SharedMosquitto(t)
	metricsPort := testenv.FreePort()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `gateway: gw-rss
metrics: {listen: "127.0.0.1:%d"}
mqtt: {url: %q, batch_wait: 200ms, status_interval: 1s}
queue: {dir: %q}
defaults: {interval: 1s, timeout: 500ms}
buses:
  - name: net
    transport: tcp
    address: %s
    devices:
`, metricsPort, mq.URL, t.TempDir(), sim.Addr())
	for i := 1; i <= meters; i++ {
		fmt.Fprintf(&cfg, "      - {id: m-%02d, profile: chint-dtsu666, slave: %d}\n", i, i)
	}
	path := writeFile(t, "edge.yaml", cfg.String())

	var mu sync.Mutex
	seen := map[string]int{}
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("sub-gw-rss"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer sub.Disconnect(100)
	sub.Subscribe("cw/v1/gw-rss/+/telemetry", 1, func(_ mqtt.Client, m mqtt.Message) {
		tp, _ := devices.ParseTopic(m.Topic())
		mu.Lock()
		seen[tp.Device]++
		mu.Unlock()
	}).Wait()

	var logs bytes.Buffer
	cmd := exec.Command(bin, "run", "-config", path)
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("cw-edge log:\n%s", logs.String())
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		min := 1 << 30
		for _, c := range seen {
			min = minInt(min, c)
		}
		mu.Unlock()
		if n == meters && min >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("telemetry from %d of %d meters after 20 s", n, meters)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rss, hwm := procMemory(t, cmd.Process.Pid)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		t.Fatal(err)
	}
	metrics := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			metrics[f[0]] = f[1]
		}
	}
	resp.Body.Close()
	for _, name := range []string{"process_resident_memory_bytes", "chargewatch_edge_published_readings_total", "chargewatch_edge_mqtt_connected"} {
		if metrics[name] == "" {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("cw-edge exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("cw-edge did not stop within 15 s of SIGTERM")
	}
	if !strings.Contains(logs.String(), "cw-edge stopped") {
		t.Errorf("no clean stop in the log")
	}
	t.Logf("cw-edge (%s/%s) polling %d DTSU666 meters (14 values, 4 requests each) every second: VmRSS %.1f MiB, VmHWM %.1f MiB; published %s readings",
		runtime.GOOS, runtime.GOARCH, meters, float64(rss)/(1<<20), float64(hwm)/(1<<20), metrics["chargewatch_edge_published_readings_total"])
	if hwm > 30<<20 {
		t.Errorf("peak RSS %.1f MiB exceeds the 30 MiB budget", float64(hwm)/(1<<20))
	}
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// procMemory reads VmRSS and VmHWM (peak) of a process, in bytes.
func procMemory(t *testing.T, pid int) (rss, hwm int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm
}
