package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/mqttauth"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/internal/tlsutil"
	"github.com/chargewatch/chargewatch/internal/tlsutil/tlstest"
)

const securitySite = `version: 1
districts: [{id: d1, name: 测试区}]
streets: [{id: s1, name: 测试街道, district: d1}]
communities: [{id: c1, name: 测试社区, street: s1}]
buildings: [{id: b1, name: 一幢, community: c1, lat: 30.28, lon: 120.15}]
units: [{id: u1, building: b1, type: residential}, {id: u2, building: b1, type: residential}]
gateways:
  - {id: gw-a, building: b1, password_hash: "HASH_A"}
  - {id: gw-b, building: b1, password_hash: "HASH_B"}
devices:
  - {id: m-a, kind: meter, gateway: gw-a, unit: u1, rated_current_a: 16}
  - {id: m-b, kind: meter, gateway: gw-b, unit: u2, rated_current_a: 16}
people:
  - {id: adm, name: 管理员, roles: [admin]}
`

// deploySnippet renders deploy/mosquitto/NAME as scripts/run.sh does and
// returns its setting lines.
func deploySnippet(t *testing.T, name string, vars map[string]string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "mosquitto", name))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for k, v := range vars {
			line = strings.ReplaceAll(line, "{{"+k+"}}", v)
		}
		if strings.Contains(line, "{{") {
			t.Fatalf("%s: placeholder left in %q", name, line)
		}
		lines = append(lines, line)
	}
	return lines
}

// runCmd runs the chargewatch binary and returns its stdout; it fails the
// test on a non-zero exit.
func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(binary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chargewatch %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// metric returns one sample of a /metrics body, or -1.
func metric(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestBrokerCredentialsAndTLS runs the real server against real Mosquitto
// with the files `chargewatch mqtt-auth` makes, MQTT over TLS and HTTPS,
// certificates from a throwaway CA: gateway A cannot publish as gateway B,
// cannot take the ingester's client id, strangers cannot connect, and the
// ingester still rejects a device that is not registered under the
// gateway that publishes it.
func TestBrokerCredentialsAndTLS(t *testing.T) {
	inf := testenv.SharedInflux(t)
	db := testenv.DBName(t)
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "chargewatch test CA")
	srvCert := ca.Issue(t, "localhost", 24*time.Hour, "127.0.0.1", "localhost")

	// Gateway secrets as installers make them: A's with mqtt-auth secret,
	// B's with mosquitto_passwd.
	out := runCmd(t, "mqtt-auth", "secret", "gw-a", "--out", filepath.Join(dir, "gw-a.password"))
	m := regexp.MustCompile(`password_hash: "(\$7\$[^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("mqtt-auth secret printed no hash:\n%s", out)
	}
	hashA := m[1]
	passA, err := mqttauth.ReadSecret(filepath.Join(dir, "gw-a.password"))
	if err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "b.passwd")
	if out, err := exec.Command("mosquitto_passwd", "-c", "-b", pwFile, "gw-b", "secret-of-b").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(pwFile)
	hashB := strings.TrimSpace(strings.TrimPrefix(string(b), "gw-b:"))

	site := filepath.Join(dir, "site.yaml")
	os.WriteFile(site, []byte(strings.NewReplacer("HASH_A", hashA, "HASH_B", hashB).Replace(securitySite)), 0o644)
	reg := filepath.Join(dir, "registry.db")
	runCmd(t, "devices", "import", "--db", reg, site)
	auth := filepath.Join(dir, "auth")
	out = runCmd(t, "mqtt-auth", "--db", reg, "--out", auth, "--client-id", "cw-sec")
	if !strings.Contains(out, "2 gateways with their own password") || !strings.Contains(out, "events_username: cw-sec-events") {
		t.Errorf("mqtt-auth said:\n%s", out)
	}

	// The broker as shipped: deploy/mosquitto/mosquitto.conf (testenv),
	// then auth.conf and tls.conf.
	tlsPort := testenv.FreePort()
	extra := deploySnippet(t, "auth.conf", map[string]string{"AUTH_DIR": auth})
	extra = append(extra, deploySnippet(t, "tls.conf", map[string]string{"TLS_PORT": strconv.Itoa(tlsPort), "TLS_BIND": "127.0.0.1",
		"CA_FILE": ca.File, "CERT_FILE": srvCert.CertFile, "KEY_FILE": srvCert.KeyFile})...)
	mq := testenv.StartMosquitto(t, extra...)
	brokerTLS := fmt.Sprintf("ssl://127.0.0.1:%d", tlsPort)

	httpPort := testenv.FreePort()
	cfg := filepath.Join(dir, "chargewatch.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `data_dir: %[1]s/data
registry: %[2]s
registry_poll: 200ms
http:
  listen: "127.0.0.1:%[3]d"
  tls: {cert_file: %[4]s, key_file: %[5]s}
mqtt:
  url: %[6]s
  client_id: cw-sec
  keepalive: 5s
  username: cw-sec-telemetry
  password_file: %[7]s
  events_username: cw-sec-events
  events_password_file: %[8]s
  tls: {ca_file: %[9]s}
influxdb: {url: "%[10]s", database: "%[11]s", timeout: 5s}
ingest: {drain_grace: 3s}
alerting: {enabled: false}
`, dir, reg, httpPort, srvCert.CertFile, srvCert.KeyFile, brokerTLS,
		mqttauth.PasswordPath(auth, "cw-sec-telemetry"), mqttauth.PasswordPath(auth, "cw-sec-events"), ca.File, inf.URL, db), 0o644)
	runCmd(t, "check-config", cfg)

	trusting, err := tlsutil.NewClient(tlsutil.ClientFiles{CAFile: ca.File}, nil)
	if err != nil {
		t.Fatal(err)
	}
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: trusting.Config}, Timeout: 5 * time.Second}
	base := fmt.Sprintf("https://127.0.0.1:%d", httpPort)
	var logBuf bytes.Buffer
	srv := exec.Command(binary(t), "serve", "--config", cfg)
	srv.Stdout, srv.Stderr = &logBuf, &logBuf
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := https.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the server to be ready over HTTPS (both sessions connected over TLS with their accounts)", func() bool {
		code, _ := get("/readyz")
		return code == 200
	})
	// Plain HTTP and clients that do not trust the CA get nothing.
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served")
		}
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/readyz"); err == nil {
		t.Error("a client without the CA accepted the server's certificate")
	}

	gateway := func(user, pass, clientID, url string) (mqtt.Client, error) {
		o := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).SetUsername(user).SetPassword(pass).
			SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetTLSConfig(trusting.Config)
		c := mqtt.NewClient(o)
		tok := c.Connect()
		if !tok.WaitTimeout(10 * time.Second) {
			return nil, fmt.Errorf("connect timed out")
		}
		if tok.Error() != nil {
			return nil, tok.Error()
		}
		t.Cleanup(func() { c.Disconnect(0) })
		return c, nil
	}
	reading := func(seq uint64) []byte {
		r := devices.Reading{TS: time.Now().UnixMilli(), Seq: seq}
		r.Put(devices.FieldPower, float64(seq))
		return devices.AppendTelemetry(nil, []devices.Reading{r})
	}
	publish := func(c mqtt.Client, topic string, payload []byte) {
		t.Helper()
		if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}

	a, err := gateway("gw-a", passA, "gw-a", brokerTLS)
	if err != nil {
		t.Fatalf("gateway A over TLS: %v", err)
	}
	bc, err := gateway("gw-b", "secret-of-b", "gw-b", brokerTLS)
	if err != nil {
		t.Fatalf("gateway B over TLS: %v", err)
	}
	// A forges a reading of B's meter on B's topic (the broker drops it)
	// and publishes B's meter on its own topic (the ingester rejects it),
	// then its own meter; B publishes its own meter.
	publish(a, "cw/v1/gw-b/m-b/telemetry", reading(666))
	publish(a, "cw/v1/gw-a/m-b/telemetry", reading(667))
	publish(a, "cw/v1/gw-a/m-a/telemetry", reading(1))
	publish(bc, "cw/v1/gw-b/m-b/telemetry", reading(1))
	var body string
	waitFor("two readings accepted and one rejected as wrong_gateway", func() bool {
		_, body = get("/metrics")
		return metric(body, `chargewatch_ingest_accepted_total{type="reading"}`) >= 2 &&
			metric(body, `chargewatch_ingest_rejected_total{reason="wrong_gateway"}`) >= 1
	})
	if n := metric(body, `chargewatch_ingest_accepted_total{type="reading"}`); n != 2 {
		t.Errorf("%v readings accepted, want 2: the forged one got through", n)
	}
	if n := metric(body, `chargewatch_ingest_rejected_total{reason="wrong_gateway"}`); n != 1 {
		t.Errorf("%v readings rejected as wrong_gateway, want 1", n)
	}
	inf.WaitFor(t, 10*time.Second, db, `SELECT reason, topic FROM rejected WHERE reason='wrong_gateway'`, func(s []testenv.Series) bool {
		return len(s) == 1 && len(s[0].Values) == 1 && s[0].String(0, "topic") == "cw/v1/gw-a/m-b/telemetry"
	})

	// A takes the ingester's client id: the broker makes it "gw-a", so the
	// ingester's persistent session is not taken over.
	thief, err := gateway("gw-a", passA, "cw-sec-telemetry", brokerTLS)
	if err != nil {
		t.Fatalf("gateway A with another client id: %v", err)
	}
	publish(thief, "cw/v1/gw-a/m-a/telemetry", reading(2))
	// The same on the plain listener (gateways on the local network).
	plainThief, err := gateway("gw-a", passA, "cw-sec-events", mq.URL)
	if err != nil {
		t.Fatalf("gateway A on the plain listener: %v", err)
	}
	publish(plainThief, "cw/v1/gw-a/m-a/telemetry", reading(3))
	publish(bc, "cw/v1/gw-b/m-b/telemetry", reading(2))
	waitFor("readings after the takeover attempt (a timeout here means the gateway took over the ingester's session)", func() bool {
		_, body = get("/metrics")
		return metric(body, `chargewatch_ingest_accepted_total{type="reading"}`) >= 5
	})
	for _, s := range []string{"telemetry", "events"} {
		if n := metric(body, `chargewatch_ingest_reconnects_total{session="`+s+`"}`); n != 0 {
			t.Errorf("the %s session reconnected %v times: a gateway took over its client id", s, n)
		}
		if n := metric(body, `chargewatch_ingest_connected{session="`+s+`"}`); n != 1 {
			t.Errorf("the %s session is not connected", s)
		}
	}

	// Who cannot connect: strangers, anonymous, wrong passwords, the
	// ingester's account with a gateway's password, plain MQTT on the TLS
	// listener.
	for _, c := range []struct{ user, pass, url, why string }{
		{"intruder", passA, brokerTLS, "unknown account"},
		{"", "", brokerTLS, "anonymous"},
		{"gw-b", passA, brokerTLS, "A's password for B"},
		{"cw-sec-telemetry", passA, brokerTLS, "a gateway's password for the ingester's account"},
		{"intruder", "x", mq.URL, "unknown account on the plain listener"},
		{"gw-a", passA, fmt.Sprintf("tcp://127.0.0.1:%d", tlsPort), "plain MQTT on the TLS listener"},
	} {
		if _, err := gateway(c.user, c.pass, "x-test", c.url); err == nil {
			t.Errorf("%s: connected", c.why)
		}
	}

	// Certificate expiry, for alerts before it runs out.
	_, body = get("/metrics")
	for series, want := range map[string]time.Time{
		`chargewatch_tls_certificate_expiry_timestamp_seconds{subject="CN=localhost",use="http"}`:                                  srvCert.Cert.NotAfter,
		`chargewatch_tls_certificate_expiry_timestamp_seconds{subject="CN=chargewatch test CA,O=chargewatch tests",use="mqtt_ca"}`: ca.Cert.NotAfter,
	} {
		if got := metric(body, series); got != float64(want.Unix()) {
			t.Errorf("%s = %v, want %d", series, got, want.Unix())
		}
	}
	// The passwords never reach the log.
	for _, secret := range []string{passA, "secret-of-b"} {
		if strings.Contains(logBuf.String(), secret) {
			t.Error("a password is in the server log")
		}
	}
	telPW, _ := mqttauth.ReadSecret(mqttauth.PasswordPath(auth, "cw-sec-telemetry"))
	if strings.Contains(logBuf.String(), telPW) {
		t.Error("the ingester's password is in its log")
	}
}

// TestCheckConfigSecretsAndCertificates: check-config names each key whose
// file is missing, readable by others, or not a certificate.
func TestCheckConfigSecretsAndCertificates(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.password")
	os.WriteFile(open, []byte("hunter2-very-secret\n"), 0o644)
	notCert := filepath.Join(dir, "notcert.pem")
	os.WriteFile(notCert, []byte("hello\n"), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `data_dir: %[1]s
http: {tls: {cert_file: %[2]s, key_file: %[2]s}}
mqtt:
  url: ssl://127.0.0.1:8883
  username: u
  password_file: %[3]s
  events_username: e
  events_password_file: %[1]s/missing.password
  tls: {ca_file: %[2]s}
`, dir, notCert, open), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"check-config", cfg}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"mqtt.password_file", "chmod 600", "mqtt.events_password_file", "missing.password", "mqtt.tls", "no PEM certificate", "http.tls"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check-config does not say %q:\n%s", want, errb.String())
		}
	}
	if strings.Contains(errb.String(), "hunter2") {
		t.Error("check-config printed the secret")
	}
	// Keys that go together.
	os.WriteFile(cfg, []byte("data_dir: /tmp/x\nmqtt: {url: tcp://127.0.0.1:1883, username: u, tls: {cert_file: x}}\nhttp: {tls: {cert_file: y}}\n"), 0o644)
	errb.Reset()
	run([]string{"check-config", cfg}, &out, &errb)
	for _, want := range []string{"mqtt.events_username", "plain MQTT: use ssl://", "cert_file and key_file go together", "http.tls"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check-config does not say %q:\n%s", want, errb.String())
		}
	}
}

// The hash command matches what the broker accepts.
func TestMQTTAuthHashAndSecret(t *testing.T) {
	var out, errb bytes.Buffer
	if code := mqttAuth(t.Context(), []string{"hash"}, strings.NewReader("pw-1\n"), &out, &errb); code != 0 {
		t.Fatalf("hash: %d %s", code, errb.String())
	}
	if h := strings.TrimSpace(out.String()); !mqttauth.Verify(h, "pw-1") {
		t.Errorf("hash %q does not verify", h)
	}
	dir := t.TempDir()
	out.Reset()
	if code := mqttAuth(t.Context(), []string{"secret", "gw-9", "--out", filepath.Join(dir, "p")}, nil, &out, &errb); code != 0 {
		t.Fatalf("secret: %d %s", code, errb.String())
	}
	st, _ := os.Stat(filepath.Join(dir, "p"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	// It never overwrites a password file (it may be a gateway's current one).
	errb.Reset()
	if code := mqttAuth(t.Context(), []string{"secret", "gw-9", "--out", filepath.Join(dir, "p")}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "exists") {
		t.Errorf("overwrite: %d %s", code, errb.String())
	}
	for _, bad := range [][]string{{"secret", "GW/1"}, {"secret"}, {"--out", dir}, {"--db", "x"}} {
		if code := mqttAuth(t.Context(), bad, nil, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", bad, code)
		}
	}
	errb.Reset()
	if code := mqttAuth(t.Context(), []string{"--db", filepath.Join(dir, "none.db"), "--out", dir}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "import a site file first") {
		t.Errorf("missing registry: %d %s", code, errb.String())
	}
}
