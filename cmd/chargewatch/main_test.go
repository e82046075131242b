package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) { testenv.Main(m) }

// binary builds chargewatch once per test run: the fault tests drive the
// real process and kill it.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chargewatch-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "chargewatch")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

const testSite = `version: 1
districts: [{id: d1, name: 测试区}]
streets: [{id: s1, name: 测试街道, district: d1}]
communities: [{id: c1, name: 测试社区, street: s1}]
buildings: [{id: b1, name: 一幢, community: c1, lat: 30.28, lon: 120.15}]
units:
  - {id: u1, building: b1, type: residential}
  - {id: u2, building: b1, type: shop, mixed_use: true}
gateways: [{id: gw-t, building: b1}]
devices:
  - {id: m-1, kind: meter, gateway: gw-t, unit: u1, rated_current_a: 16}
  - {id: m-2, kind: meter, gateway: gw-t, unit: u2, rated_current_a: 32}
  - {id: sd-1, kind: smoke, gateway: gw-t, unit: u1}
people:
  - id: gw-wang
    name: 王伟
    roles: [grid_worker]
    communities: [c1]
    contacts: [{channel: sms, address: "13800000001"}]
  - {id: adm, name: 管理员, roles: [admin]}
`

// proc is a chargewatch server process under test.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	cfg  string
	http string
	log  *bytes.Buffer
	env  []string
}

func newServer(t *testing.T, mq *testenv.Mosquitto, inf *testenv.Influx, db string, env ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(site, []byte(testSite), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "registry.db")
	if out, err := exec.Command(binary(t), "devices", "import", "--db", reg, site).CombinedOutput(); err != nil {
		t.Fatalf("devices import: %v\n%s", err, out)
	}
	port := testenv.FreePort()
	cfg := filepath.Join(dir, "chargewatch.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `data_dir: %s
registry: %s
registry_poll: 200ms
http: {listen: "127.0.0.1:%d"}
mqtt: {url: "%s", client_id: "cw-%s", keepalive: 5s}
influxdb: {url: "%s", database: "%s", timeout: 5s}
ingest: {drain_grace: 3s}
`, filepath.Join(dir, "data"), reg, port, mq.URL, db, inf.URL, db), 0o644)
	return &proc{t: t, cfg: cfg, http: fmt.Sprintf("http://127.0.0.1:%d", port), env: env}
}

func (p *proc) start() {
	p.t.Helper()
	p.log = &bytes.Buffer{}
	p.cmd = exec.Command(binary(p.t), "serve", "--config", p.cfg)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("chargewatch not ready:\n%s", p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("chargewatch did not exit after %v:\n%s", sig, p.log.String())
	}
}

// caughtUp reports whether the server's writer has nothing left in its
// telemetry log.
func (p *proc) caughtUp() bool {
	resp, err := http.Get(p.http + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	backlog := -1.0
	for _, line := range strings.Split(string(body), "\n") {
		var v float64
		if strings.HasPrefix(line, `chargewatch_ingest_log_backlog_bytes{consumer="writer",log="telemetry"} `) {
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			backlog = v
		}
	}
	return backlog == 0
}

// publishAcked publishes n meter readings at QoS 1 and returns the seqs the
// broker acknowledged.
func publishAcked(t *testing.T, url string, n int) []uint64 {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("gw-t").SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	base := time.Now().UnixMilli()
	var toks []mqtt.Token
	for i := 1; i <= n; i++ {
		var r devices.Reading
		r.TS, r.Seq = base+int64(i), uint64(i)
		r.Put(devices.FieldPower, float64(100+i%50))
		r.Put(devices.FieldVoltage, 230)
		toks = append(toks, c.Publish("cw/v1/gw-t/m-1/telemetry", 1, false, devices.AppendTelemetry(nil, []devices.Reading{r})))
	}
	var acked []uint64
	for i, tok := range toks {
		if tok.WaitTimeout(20*time.Second) && tok.Error() == nil {
			acked = append(acked, uint64(i+1))
		}
	}
	return acked
}

// missingAfterCrash runs the crash scenario: InfluxDB paused so the log is
// provably non-empty, n readings published and acknowledged, the server
// killed with SIGKILL, then restarted and InfluxDB resumed. It returns how
// many acknowledged readings never reached InfluxDB.
func missingAfterCrash(t *testing.T, env ...string) (acked, missing int) {
	mq := testenv.SharedMosquitto(t)
	inf := testenv.StartInflux(t)
	db := testenv.DBName(t)
	inf.CreateDatabase(t, db)
	p := newServer(t, mq, inf, db, env...)
	p.start()
	if err := inf.Pause(); err != nil {
		t.Fatal(err)
	}
	seqs := publishAcked(t, mq.URL, 2000)
	// Every message was acknowledged to the publisher; wait until the
	// server has taken them (the broker has delivered them) and kill it.
	time.Sleep(300 * time.Millisecond)
	p.signal(syscall.SIGKILL)
	if err := inf.Resume(); err != nil {
		t.Fatal(err)
	}
	p.start()
	want := len(seqs)
	count := func() int {
		rows, err := inf.QueryErr(db, `SELECT count(seq) FROM meter WHERE device='m-1'`)
		if err != nil || len(rows) == 0 {
			return 0
		}
		return int(rows[0].Int(0, "count"))
	}
	// Wait until the restarted server has written its whole log, as its
	// metrics say, or every reading is there.
	deadline := time.Now().Add(20 * time.Second)
	for count() < want && time.Now().Before(deadline) && !p.caughtUp() {
		time.Sleep(100 * time.Millisecond)
	}
	got := map[int64]bool{}
	for _, s := range inf.Query(t, db, `SELECT seq FROM meter WHERE device='m-1'`) {
		for i := range s.Values {
			got[s.Int(i, "seq")] = true
		}
	}
	for _, s := range seqs {
		if !got[int64(s)] {
			missing++
		}
	}
	p.signal(syscall.SIGTERM)
	if missing > 0 && testing.Verbose() {
		t.Logf("server log after restart:\n%s", p.log.String())
	}
	return want, missing
}

// TestKill9LosesNothingAcknowledged: every reading the broker acknowledged
// to the publisher, and so was delivered to chargewatch, survives a kill -9
// of chargewatch while InfluxDB is unreachable.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	acked, missing := missingAfterCrash(t)
	if acked != 2000 {
		t.Fatalf("broker acknowledged %d of 2000", acked)
	}
	if missing != 0 {
		t.Fatalf("%d of %d acknowledged readings lost across kill -9", missing, acked)
	}
}

// TestKill9NegativeControl runs the same scenario with the test-only mode
// that acks before the fsync: it must lose readings, which proves that the
// test above can see a loss.
func TestKill9NegativeControl(t *testing.T) {
	_, missing := missingAfterCrash(t, "CHARGEWATCH_TEST_UNSAFE_ACK_BEFORE_FSYNC=1")
	if missing == 0 {
		t.Fatal("acking before fsync lost nothing: the crash test cannot detect loss")
	}
	t.Logf("negative control lost %d acknowledged readings, as it must", missing)
}

// TestSIGTERMDrainsAndResumes stops the server gracefully while InfluxDB is
// unreachable; what was not written stays on disk and arrives after the
// restart.
func TestSIGTERMDrainsAndResumes(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	inf := testenv.StartInflux(t)
	db := testenv.DBName(t)
	inf.CreateDatabase(t, db)
	p := newServer(t, mq, inf, db)
	p.start()
	if err := inf.Stop(); err != nil {
		t.Fatal(err)
	}
	seqs := publishAcked(t, mq.URL, 500)
	time.Sleep(300 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	if !strings.Contains(p.log.String(), "stays in the durable log") {
		t.Errorf("shutdown did not say that unwritten readings stay on disk:\n%s", p.log.String())
	}
	if err := inf.Start(); err != nil {
		t.Fatal(err)
	}
	p.start()
	rows := inf.WaitFor(t, 20*time.Second, db, `SELECT count(seq) FROM meter`, func(s []testenv.Series) bool {
		return len(s) == 1 && int(s[0].Int(0, "count")) >= len(seqs)
	})
	if got := int(rows[0].Int(0, "count")); got != len(seqs) {
		t.Fatalf("%d readings in InfluxDB, %d acknowledged", got, len(seqs))
	}
	p.signal(syscall.SIGTERM)
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("data_dir: /tmp/x\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("data_dir: /tmp/x\nmqtt: {url: \"localhost\", cleint_id: x}\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"check-config", good}, &out, &errb); code != 0 {
		t.Fatalf("good config: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"check-config", bad}, &out, &errb); code != 1 {
		t.Fatalf("bad config: exit %d", code)
	}
	if !strings.Contains(errb.String(), "cleint_id") {
		t.Errorf("unknown key not named: %s", errb.String())
	}
}

// TestRegistryChangeTakesEffectWithoutRestart: a device unknown to the
// running server is quarantined; once it is imported into the registry,
// the same server accepts its readings.
func TestRegistryChangeTakesEffectWithoutRestart(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	p := newServer(t, mq, inf, db)
	p.start()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("pub-" + db))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	send := func(seq uint64) {
		r := devices.Reading{TS: time.Now().UnixMilli(), Seq: seq}
		r.Put(devices.FieldPower, 5)
		tok := c.Publish("cw/v1/gw-t/m-new/telemetry", 1, false, devices.AppendTelemetry(nil, []devices.Reading{r}))
		tok.WaitTimeout(5 * time.Second)
	}
	send(1)
	inf.WaitFor(t, 10*time.Second, db, `SELECT message, reason FROM rejected WHERE reason='unknown_device'`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 1
	})
	site := filepath.Join(t.TempDir(), "site.yaml")
	withNew := strings.Replace(testSite, "people:", "  - {id: m-new, kind: meter, gateway: gw-t, unit: u2, rated_current_a: 16}\npeople:", 1)
	os.WriteFile(site, []byte(withNew), 0o644)
	reg := filepath.Join(filepath.Dir(p.cfg), "registry.db")
	if out, err := exec.Command(binary(t), "devices", "import", "--db", reg, site).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for seq := uint64(2); ; seq++ {
		send(seq)
		rows, err := inf.QueryErr(db, `SELECT seq, unit FROM meter WHERE device='m-new'`)
		if err == nil && len(rows) == 1 {
			if u := rows[0].String(0, "unit"); u != "u2" {
				t.Fatalf("accepted with unit tag %q, want u2", u)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running server never accepted the newly registered device:\n%s", p.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSmokeAlarmReachesTheAPI: a smoke alarm published over MQTT goes
// through ingest and the alerting engine and is listed, with its place, by
// the API for the community's grid worker.
func TestSmokeAlarmReachesTheAPI(t *testing.T) {
	mq, inf := testenv.SharedMosquitto(t), testenv.SharedInflux(t)
	db := testenv.DBName(t)
	p := newServer(t, mq, inf, db)
	p.start()
	out, err := exec.Command(binary(t), "tokens", "create", "--config", p.cfg, "--name", "test", "--person", "gw-wang").CombinedOutput()
	if err != nil {
		t.Fatalf("tokens create: %v\n%s", err, out)
	}
	token := strings.TrimSpace(string(out))
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("pub-" + db))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	ev := devices.Event{TS: time.Now().UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm}
	c.Publish("cw/v1/gw-t/sd-1/event", 1, false, devices.AppendEvent(nil, &ev)).WaitTimeout(5 * time.Second)

	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", p.http+"/api/v1/alerts?state=firing", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /api/v1/alerts: %d %s", resp.StatusCode, body)
		}
		var list struct {
			Alerts []struct {
				Rule, Severity, State string
				Location              map[string]any
			}
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("alerts response: %v: %s", err, body)
		}
		if len(list.Alerts) > 0 {
			a := list.Alerts[0]
			if len(list.Alerts) != 1 || a.Rule != "smoke" || a.Severity != "critical" || a.State != "firing" {
				t.Fatalf("want one critical firing smoke alert, got %s", body)
			}
			for k, v := range map[string]string{"device": "sd-1", "unit": "u1", "building": "b1", "community": "c1", "street": "s1", "district": "d1"} {
				if a.Location[k] != v {
					t.Errorf("alert location %s = %v, want %s", k, a.Location[k], v)
				}
			}
			// Without a notification config the alert page is served too.
			resp, err := http.Get(p.http + "/alerts/1")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("GET /alerts/1 without notifications: %d, want the alert page", resp.StatusCode)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no smoke alert in the API after 10 s: %s\nserver log:\n%s", body, p.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func execCmd(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
