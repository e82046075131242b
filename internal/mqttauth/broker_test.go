package mqttauth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/internal/testenv"
)

// brokerConfig returns the lines of deploy/mosquitto/auth.conf for the
// files in dir, as scripts/run.sh renders it.
func brokerConfig(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "mosquitto", "auth.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, strings.ReplaceAll(line, "{{AUTH_DIR}}", dir))
		}
	}
	if len(lines) < 4 {
		t.Fatalf("auth.conf has %d settings", len(lines))
	}
	return lines
}

// recorder collects the messages a client receives.
type recorder struct {
	mu   sync.Mutex
	msgs []string // "topic payload"
}

func (r *recorder) handle(_ mqtt.Client, m mqtt.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m.Topic()+" "+string(m.Payload()))
	r.mu.Unlock()
}

func (r *recorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

type client struct {
	mqtt.Client
	lost chan struct{}
}

// connect logs in; it returns the CONNECT error, if any.
func connect(t *testing.T, url, user, password, clientID string, clean bool, rec *recorder) (*client, error) {
	t.Helper()
	c := &client{lost: make(chan struct{})}
	var once sync.Once
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).SetUsername(user).SetPassword(password).
		SetCleanSession(clean).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetOrderMatters(true).
		SetConnectionLostHandler(func(mqtt.Client, error) { once.Do(func() { close(c.lost) }) })
	if rec != nil {
		o.SetDefaultPublishHandler(rec.handle)
	}
	c.Client = mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("connect as %q timed out", user)
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func mustConnect(t *testing.T, url, user, password, clientID string, clean bool, rec *recorder) *client {
	t.Helper()
	c, err := connect(t, url, user, password, clientID, clean, rec)
	if err != nil {
		t.Fatalf("connect as %q: %v", user, err)
	}
	return c
}

func (c *client) pub(t *testing.T, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func (c *client) sub(t *testing.T, filter string) {
	t.Helper()
	tok := c.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestBrokerEnforcesTheFiles runs real Mosquitto with the files Write
// makes: a gateway publishes only as itself and reads only its own
// commands, cannot take another client's session, and strangers cannot
// connect. Mosquitto acknowledges a denied publish (verified.md), so every
// "cannot" is checked where the message would arrive.
func TestBrokerEnforcesTheFiles(t *testing.T) {
	hashA := mosquittoPasswd(t, "", "gw-a", "secret-of-a") // made by the real tool
	hashB, _ := Hash("secret-of-b")                        // made here
	snap := snapshot(t, testSite(t, hashA, hashB))
	dir := t.TempDir()
	if _, err := Write(dir, snap, Options{ClientID: "cw", Simulators: true}); err != nil {
		t.Fatal(err)
	}
	telPW, _ := ReadSecret(PasswordPath(dir, "cw-telemetry"))
	evPW, _ := ReadSecret(PasswordPath(dir, "cw-events"))
	simPW, _ := ReadSecret(filepath.Join(dir, SimulatorsFile))
	mq := testenv.StartMosquitto(t, brokerConfig(t, dir)...)

	// The ingester's telemetry account, with a persistent session.
	ingest := &recorder{}
	tel := mustConnect(t, mq.URL, "cw-telemetry", telPW, "cw-telemetry", false, ingest)
	tel.sub(t, "cw/v1/+/+/telemetry")
	events := &recorder{}
	ev := mustConnect(t, mq.URL, "cw-events", evPW, "cw-events", false, events)
	ev.sub(t, "cw/v1/+/+/status")
	ev.sub(t, "$SYS/broker/publish/messages/dropped")
	waitUntil(t, "the events account to read $SYS/broker/publish/messages/dropped", func() bool { return events.has("$SYS/broker/publish/messages/dropped") })

	recA, recB := &recorder{}, &recorder{}
	a := mustConnect(t, mq.URL, "gw-a", "secret-of-a", "gw-a", true, recA)
	b := mustConnect(t, mq.URL, "gw-b", "secret-of-b", "gw-b", true, recB)
	a.sub(t, "cw/v1/gw-a/+/cmd")
	a.sub(t, "cw/v1/+/+/telemetry") // others' readings: granted nothing
	a.sub(t, "cw/v1/gw-b/+/cmd")    // B's commands: granted nothing
	a.sub(t, "$SYS/#")

	// A forges B's readings, B's status and a command to B, then publishes
	// its own reading as a marker: messages of one client arrive in order.
	a.pub(t, "cw/v1/gw-b/m-b/telemetry", `forged-reading`)
	a.pub(t, "cw/v1/gw-b/gw-b/status", `forged-status`)
	a.pub(t, "cw/v1/gw-b/m-b/cmd", `forged-cmd`)
	a.pub(t, "cw/v1/gw-a/m-a/telemetry", `marker-a`)
	// B sends its own reading, and the server side (here the test as the
	// events account cannot write) would send B's commands; B writes a
	// command into A's subtree, which must not reach A.
	b.pub(t, "cw/v1/gw-a/m-a/cmd", `b-commands-a`)
	b.pub(t, "cw/v1/gw-b/m-b/telemetry", `marker-b`)
	waitUntil(t, "both markers at the ingester", func() bool { return ingest.has("marker-a") && ingest.has("marker-b") })
	for _, forged := range []string{"forged-reading", "forged-status", "forged-cmd", "b-commands-a"} {
		if ingest.has(forged) || events.has(forged) || recA.has(forged) || recB.has(forged) {
			t.Errorf("%s was delivered", forged)
		}
	}
	// A may write its own commands topic (harmless) and reads it back: the
	// read pattern works. It read nothing else: not B's reading, not $SYS.
	a.pub(t, "cw/v1/gw-a/m-a/cmd", `own-cmd`)
	waitUntil(t, "A's own command", func() bool { return recA.has("own-cmd") })
	var read []string
	for _, m := range recA.all() {
		if !strings.HasPrefix(m, "cw/v1/gw-a/m-a/cmd own-cmd") {
			read = append(read, m)
		}
	}
	if len(read) > 0 {
		t.Errorf("gateway A read %d messages not for it, e.g. %q", len(read), read[:min(5, len(read))])
	}

	// A cannot take the ingester's session: with use_username_as_clientid
	// its client id is its username, so the ingester is not kicked out.
	thief := mustConnect(t, mq.URL, "gw-a", "secret-of-a", "cw-telemetry", false, nil)
	thief.pub(t, "cw/v1/gw-a/m-a/telemetry", `from-the-thief`)
	waitUntil(t, "the thief's own reading", func() bool { return ingest.has("from-the-thief") })
	select {
	case <-tel.lost:
		t.Fatal("a gateway using the ingester's client id disconnected the ingester")
	default:
	}
	// The first gw-a connection was replaced by the second (same client
	// id gw-a): a gateway can only ever displace itself.
	select {
	case <-a.lost:
	case <-time.After(5 * time.Second):
		t.Error("the earlier gw-a connection was not replaced")
	}
	b.pub(t, "cw/v1/gw-b/m-b/telemetry", `still-flowing`)
	waitUntil(t, "readings still reaching the ingester", func() bool { return ingest.has("still-flowing") })

	// Who cannot connect at all.
	for _, c := range []struct{ user, pw, why string }{
		{"", "", "anonymous"},
		{"intruder", "secret-of-a", "unknown account"},
		{"gw-a", "secret-of-b", "wrong password"},
		{"gw-a", "", "no password"},
		{"cw-telemetry", "secret-of-a", "a gateway's password for the ingester's account"},
		{"gw-a", simPW, "the simulators' password for a gateway with its own hash"},
	} {
		if _, err := connect(t, mq.URL, c.user, c.pw, "x-"+c.user, true, nil); err == nil {
			t.Errorf("%s: connected", c.why)
		}
	}
	// Gateways without a hash of their own connect with the simulators'
	// password (Options.Simulators), as themselves only.
	simC := &recorder{}
	gc := mustConnect(t, mq.URL, "gw-c", simPW, "gw-c", true, simC)
	gc.pub(t, "cw/v1/gw-b/m-b/telemetry", `forged-by-c`)
	gc.pub(t, "cw/v1/gw-c/m-c/telemetry", `marker-c`)
	waitUntil(t, "gw-c's marker", func() bool { return ingest.has("marker-c") })
	if ingest.has("forged-by-c") {
		t.Error("a simulated gateway published as another")
	}
	// The ingester's accounts write nothing.
	recA2 := &recorder{}
	a2 := mustConnect(t, mq.URL, "gw-a", "secret-of-a", "gw-a", true, recA2)
	a2.sub(t, "cw/v1/gw-a/+/cmd")
	tel.pub(t, "cw/v1/gw-a/m-a/cmd", `ingester-cmd`)
	ev.pub(t, "cw/v1/gw-b/m-b/telemetry", `ingester-forged`)
	gc.pub(t, "cw/v1/gw-c/m-c/telemetry", `marker-c2`)
	waitUntil(t, "gw-c's second marker", func() bool { return ingest.has("marker-c2") })
	time.Sleep(100 * time.Millisecond)
	if ingest.has("ingester-forged") || recA2.has("ingester-cmd") {
		t.Error("an ingester account published")
	}
}
