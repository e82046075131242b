package mqttauth

import (
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/internal/testenv"
)

// TestBrokerConfinesAdapterAccounts runs real Mosquitto with the files
// Write makes for adapter accounts (adapterAccounts): each account may
// publish only on its own foreign topics, reads nothing of the others',
// cannot publish contract messages as a gateway, and the ingester's events
// account reads every adapter filter while its telemetry account reads
// none. Mosquitto acknowledges a denied publish (verified.md), so every
// "cannot" is checked where the message would arrive, after a marker the
// same client published later.
func TestBrokerConfinesAdapterAccounts(t *testing.T) {
	snap := snapshot(t, testSite(t, hashGwA, hashGwB))
	dir := t.TempDir()
	o := adapterOptions(t, adapterAccounts)
	if _, err := Write(dir, snap, o); err != nil {
		t.Fatal(err)
	}
	telPW, _ := ReadSecret(PasswordPath(dir, "cw-telemetry"))
	evPW, _ := ReadSecret(PasswordPath(dir, "cw-events"))
	mq := testenv.StartMosquitto(t, brokerConfig(t, dir)...)

	// The ingester: its events session subscribes to the adapters'
	// filters, as the server does; its telemetry session to the contract
	// telemetry and, to show it was not granted them, to the same filters.
	events := &recorder{}
	ev := mustConnect(t, mq.URL, "cw-events", evPW, "cw-events", false, events)
	for _, f := range o.AdapterFilters {
		ev.sub(t, f)
	}
	telemetry := &recorder{}
	tel := mustConnect(t, mq.URL, "cw-telemetry", telPW, "cw-telemetry", false, telemetry)
	tel.sub(t, "cw/v1/+/+/telemetry")
	for _, f := range o.AdapterFilters {
		tel.sub(t, f)
	}

	// What each account publishes on its own topics (one topic per filter
	// the ingester reads), and where it would forge: the others' topics
	// and a gateway's contract topic.
	type account struct {
		user, own, prefix string // prefix: where everything it may read or write lies
		readsOwn          bool   // may read what it publishes (Tasmota: only its commands)
		recv              *recorder
		c                 *client
	}
	accts := []*account{
		{user: "z2m-a", own: "zigbee2mqtt/a/0x00158d0001d64498", prefix: "zigbee2mqtt/a/", readsOwn: true},
		{user: "plug-athomspv3a", own: "tele/athomspv3a/SENSOR", prefix: "cmnd/athomspv3a/"},
		{user: "shelly-80646fd031f8", own: "shellyplusplugs-80646fd031f8/status/switch:0", prefix: "shellyplusplugs-80646fd031f8/", readsOwn: true},
		{user: "tb-b", own: "sites/b/v1/gateway/telemetry", prefix: "sites/b/", readsOwn: true},
	}
	for _, a := range accts {
		a.recv = &recorder{}
		a.c = mustConnect(t, mq.URL, a.user, adapterPasswords[a.user], a.user, true, a.recv)
		a.c.sub(t, "#") // granted only its own topics
	}
	for _, a := range accts {
		for _, b := range accts {
			if a != b {
				a.c.pub(t, b.own, "forged-by-"+a.user)
			}
		}
		a.c.pub(t, "cw/v1/gw-a/m-a/telemetry", "forged-by-"+a.user) // a gateway's reading
		a.c.pub(t, "cw/v1/gw-a/m-a/cmd", "forged-by-"+a.user)       // a command to a gateway
		a.c.pub(t, "cmnd/athomspv3a/POWER", "forged-by-"+a.user)    // the Tasmota plug's commands
		a.c.pub(t, "zigbee2mqtt/b/0x00158d0001d64498", "forged-by-"+a.user)
		a.c.pub(t, a.own, "marker-"+a.user)
	}
	// Every forgery was handled before these (each publish waits for its
	// PUBACK): on each connection, what a forgery would have delivered
	// comes before them.
	for _, a := range accts {
		a.c.pub(t, a.own, "final-"+a.user)
	}
	for _, a := range accts {
		waitUntil(t, a.user+"'s messages at the ingester's events account", func() bool {
			return events.has(a.own+" marker-"+a.user) && events.has(a.own+" final-"+a.user)
		})
		if a.readsOwn {
			waitUntil(t, a.user+" reading its own messages back", func() bool { return a.recv.has(a.own + " final-" + a.user) })
		}
	}
	// A gateway's reading after the forgeries: the telemetry session has
	// received whatever was going to reach it.
	gw := mustConnect(t, mq.URL, "gw-a", "secret-of-a", "gw-a", true, nil)
	gw.pub(t, "cw/v1/gw-a/m-a/telemetry", "marker-gw-a")
	waitUntil(t, "gw-a's reading at the ingester", func() bool { return telemetry.has("marker-gw-a") })

	for _, m := range append(events.all(), telemetry.all()...) {
		if strings.Contains(m, "forged-by-") {
			t.Errorf("delivered to the ingester: %q", m)
		}
	}
	for _, m := range telemetry.all() {
		if !strings.HasPrefix(m, "cw/v1/") {
			t.Errorf("the telemetry account read an adapter's topic: %q", m)
		}
	}
	for _, a := range accts {
		for _, m := range a.recv.all() {
			topic, payload, _ := strings.Cut(m, " ")
			if !strings.HasPrefix(topic, a.prefix) || (payload != "marker-"+a.user && payload != "final-"+a.user) {
				t.Errorf("%s read %q: not its own", a.user, m)
			}
		}
	}

	// Adapter accounts log in only with their own password.
	for _, c := range []struct{ user, pw string }{
		{"z2m-a", adapterPasswords["tb-b"]},
		{"z2m-a", ""},
		{"gw-a", adapterPasswords["z2m-a"]},
	} {
		if _, err := connect(t, mq.URL, c.user, c.pw, "x-"+c.user, true, nil); err == nil {
			t.Errorf("%s connected with another account's password", c.user)
		}
	}
}
