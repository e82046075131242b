package testenv

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, mq *Mosquitto, id string) mqtt.Client {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID(id).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s to %s: %v", id, mq.URL, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func wait(t *testing.T, what string, tok mqtt.Token) {
	t.Helper()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: timeout or error %v", what, tok.Error())
	}
}

// subscribeOne subscribes to topic and returns a channel that gets the messages.
func subscribeOne(t *testing.T, c mqtt.Client, topic string) <-chan mqtt.Message {
	t.Helper()
	got := make(chan mqtt.Message, 10)
	wait(t, "subscribe", c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) { got <- m }))
	return got
}

func receive(t *testing.T, got <-chan mqtt.Message, want string) {
	t.Helper()
	select {
	case m := <-got:
		if string(m.Payload()) != want {
			t.Fatalf("got %q on %s, want %q", m.Payload(), m.Topic(), want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no message %q within 5 s", want)
	}
}

func TestSharedMosquittoPubSub(t *testing.T) {
	mq := SharedMosquitto(t)
	if mq2 := SharedMosquitto(t); mq2 != mq {
		t.Fatal("SharedMosquitto returned a second broker")
	}
	topic := "test/" + t.Name()
	sub := connect(t, mq, "sub-"+t.Name())
	got := subscribeOne(t, sub, topic)
	pub := connect(t, mq, "pub-"+t.Name())
	wait(t, "publish", pub.Publish(topic, 1, false, "hello"))
	receive(t, got, "hello")
}

func TestSharedMosquittoPublishesDropped(t *testing.T) {
	// sys_interval 1 in the shipped config: the dropped counter the ingester exports.
	c := connect(t, SharedMosquitto(t), "sys-"+t.Name())
	got := subscribeOne(t, c, "$SYS/broker/publish/messages/dropped")
	select {
	case m := <-got:
		if _, err := fmt.Sscan(string(m.Payload()), new(int)); err != nil {
			t.Fatalf("dropped counter %q is not a number", m.Payload())
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no $SYS/broker/publish/messages/dropped within 3 s")
	}
}

func TestSharedInfluxWriteQuery(t *testing.T) {
	inf := SharedInflux(t)
	db := inf.NewDatabase(t)
	if !strings.HasPrefix(db, "testsharedinfluxwritequery_") {
		t.Errorf("database name %q not derived from the test name", db)
	}
	ts := time.UnixMilli(1_700_000_000_123)
	inf.Write(t, db, "ms", fmt.Sprintf("meter,device=m1,gateway=gw1 voltage_v=230.5,energy_kwh=12i,ok=true,state=\"charging\" %d\n", ts.UnixMilli()))
	rows := inf.Query(t, db, `SELECT voltage_v, energy_kwh, ok, state FROM meter GROUP BY device`)
	if len(rows) != 1 {
		t.Fatalf("got %d series, want 1: %+v", len(rows), rows)
	}
	s := rows[0]
	if s.Name != "meter" || s.Tags["device"] != "m1" || len(s.Values) != 1 {
		t.Fatalf("unexpected series %+v", s)
	}
	if got := s.Float(0, "voltage_v"); got != 230.5 {
		t.Errorf("voltage_v = %v", got)
	}
	if got := s.Int(0, "energy_kwh"); got != 12 {
		t.Errorf("energy_kwh = %v", got)
	}
	if got := s.Value(0, "ok"); got != true {
		t.Errorf("ok = %v", got)
	}
	if got := s.String(0, "state"); got != "charging" {
		t.Errorf("state = %q", got)
	}
	if got := s.Time(0); !got.Equal(ts) {
		t.Errorf("time = %v, want %v", got, ts)
	}
	// A query error fails through QueryErr, not silently.
	if _, err := inf.QueryErr(db, "SELEKT 1"); err == nil {
		t.Error("a bad query returned no error")
	}
	// The v2 write API (influxdb-client-go/v2) works with Flux off.
	resp, err := http.Post(inf.URL+"/api/v2/write?precision=ms&bucket="+db, "text/plain",
		strings.NewReader(fmt.Sprintf("meter,device=m2 voltage_v=1 %d\n", ts.UnixMilli())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("/api/v2/write: %s", resp.Status)
	}
	if rows := inf.Query(t, db, `SHOW SERIES FROM meter`); len(rows) != 1 || len(rows[0].Values) != 2 {
		t.Errorf("SHOW SERIES = %+v, want 2 series", rows)
	}
}

func fluxStatus(t *testing.T, inf *Influx, db string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, inf.URL+"/api/v2/query",
		strings.NewReader(`from(bucket:"`+db+`") |> range(start: 2023-01-01T00:00:00Z) |> count()`))
	req.Header.Set("Content-Type", "application/vnd.flux")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestInfluxFlux(t *testing.T) {
	// Off on shared servers (speed), on with FluxOn: the shipped config's flux-enabled = true.
	shared := SharedInflux(t)
	if code := fluxStatus(t, shared, shared.NewDatabase(t)); code != http.StatusForbidden {
		t.Errorf("flux on the shared server: %d, want 403 (off)", code)
	}
	inf := StartInflux(t, FluxOn)
	db := inf.NewDatabase(t)
	inf.Write(t, db, "s", "smoke,device=s1 smoke=true 1700000000\n")
	if code := fluxStatus(t, inf, db); code != http.StatusOK {
		t.Errorf("flux with FluxOn: %d, want 200", code)
	}
}

func TestMosquittoPauseRestartKeepsRetained(t *testing.T) {
	mq := StartMosquitto(t)
	port := mq.Port
	pub := connect(t, mq, "pub")
	wait(t, "publish retained", pub.Publish("cw/v1/gw1/gw1/status", 1, true, `{"online":true}`))
	pub.Disconnect(100)

	// Paused: TCP still connects (the kernel accepts) but MQTT CONNECT gets no answer.
	if err := mq.Pause(); err != nil {
		t.Fatal(err)
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("paused").
		SetConnectTimeout(300 * time.Millisecond).SetAutoReconnect(false))
	if tok := c.Connect(); tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
		t.Fatal("connected to a paused broker")
	}
	if err := mq.Resume(); err != nil {
		t.Fatal(err)
	}
	connect(t, mq, "resumed")

	// Graceful stop saves the persistence file; the retained message survives.
	pid := mq.Pid()
	if err := mq.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("pid %d still exists after Stop: %v", pid, err)
	}
	if err := mq.Start(); err != nil {
		t.Fatal(err)
	}
	if mq.Port != port {
		t.Fatalf("restarted on port %d, want %d", mq.Port, port)
	}
	if err := mq.Start(); err == nil {
		t.Fatal("Start of a running broker succeeded")
	}
	sub := connect(t, mq, "sub")
	receive(t, subscribeOne(t, sub, "cw/v1/gw1/+/status"), `{"online":true}`)

	// Stopping a paused server works (SIGTERM is acted on once it is continued).
	if err := mq.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := mq.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopping a paused broker took %v", d)
	}
}

func TestInfluxPauseRestartKillKeepsData(t *testing.T) {
	inf := StartInflux(t)
	db := inf.NewDatabase(t)
	inf.Write(t, db, "s", "smoke,device=s1 smoke=true 1700000000\n")

	if err := inf.Pause(); err != nil {
		t.Fatal(err)
	}
	c := http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := c.Get(inf.URL + "/ping"); err == nil {
		resp.Body.Close()
		t.Fatal("a paused influxd answered /ping")
	}
	if err := inf.Resume(); err != nil {
		t.Fatal(err)
	}

	count := func() int64 {
		rows := inf.Query(t, db, `SELECT count(smoke) FROM smoke`)
		if len(rows) != 1 {
			t.Fatalf("got %+v", rows)
		}
		return rows[0].Int(0, "count")
	}
	if n := count(); n != 1 {
		t.Fatalf("count = %d before restart", n)
	}
	if err := inf.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := inf.Start(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("count = %d after restart", n)
	}
	// kill -9 right after an acknowledged write: the WAL brings it back.
	inf.Write(t, db, "s", "smoke,device=s1 smoke=false 1700000001\n")
	if err := inf.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := inf.Start(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("count = %d after kill -9 and restart, want 2", n)
	}
	inf.WaitFor(t, 5*time.Second, db, `SHOW SERIES`, func(s []Series) bool { return len(s) == 1 && len(s[0].Values) == 1 })
}

func TestDBName(t *testing.T) {
	t.Run("Weird Name/with-chars.ÄÖ", func(t *testing.T) {
		a, b := DBName(t), DBName(t)
		if a == b {
			t.Fatalf("DBName not unique: %q", a)
		}
		want := "testdbname_weird_name_with_chars"
		if !strings.HasPrefix(a, want+"_") {
			t.Fatalf("DBName = %q, want prefix %q", a, want)
		}
	})
}

func TestRenderTemplateRefusesLeftovers(t *testing.T) {
	if _, err := renderTemplate("deploy/mosquitto/mosquitto.conf", map[string]string{"PORT": "1"}); err == nil {
		t.Fatal("rendered with DATA_DIR and USER missing")
	}
	s, err := renderTemplate("deploy/influxdb/influxdb.conf", map[string]string{"HTTP_PORT": "1", "RPC_PORT": "2", "DATA_DIR": "/d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`bind-address = "127.0.0.1:1"`, `bind-address = "127.0.0.1:2"`, `wal-dir = "/d/wal"`, `index-version = "tsi1"`} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered influxdb.conf lacks %s", want)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	if _, err := os.Stat(RepoRoot() + "/scripts/install-deps.sh"); err != nil {
		t.Fatal(err)
	}
}
