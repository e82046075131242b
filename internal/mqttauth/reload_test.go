package mqttauth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/internal/testenv"
)

// accountIDs are the accounts of reloadSite: three gateways and sd-1, a
// smoke detector that connects by itself and has a gateways entry of its
// own id only for its password_hash (docs/security.md).
var accountIDs = []string{"gw-a", "gw-b", "gw-c", "sd-1"}

// reloadSite is a site with the accounts of accountIDs; one whose hash is ""
// has no password_hash (no account).
func reloadSite(hashes map[string]string) string {
	var gws strings.Builder
	for _, id := range accountIDs {
		where := "building: b1"
		if id == "sd-1" {
			where = "unit: u1"
		}
		if h := hashes[id]; h != "" {
			fmt.Fprintf(&gws, "  - {id: %s, %s, password_hash: %q}\n", id, where, h)
		} else {
			fmt.Fprintf(&gws, "  - {id: %s, %s}\n", id, where)
		}
	}
	return `version: 1
districts: [{id: d1, name: D}]
streets: [{id: s1, name: S, district: d1}]
communities: [{id: c1, name: C, street: s1}]
buildings: [{id: b1, name: B1, community: c1, lat: 30.28, lon: 120.15}]
units: [{id: u1, building: b1, type: residential}]
gateways:
` + gws.String() + `devices:
  - {id: m-a, kind: meter, gateway: gw-a, unit: u1, rated_current_a: 16}
  - {id: m-b, kind: meter, gateway: gw-b, unit: u1, rated_current_a: 16}
  - {id: m-c, kind: meter, gateway: gw-c, unit: u1, rated_current_a: 16}
  - {id: sd-1, kind: smoke, gateway: sd-1, unit: u1}
`
}

// roundTrip publishes a marker on the client's own command topic, which it
// may both write and read, and waits until the broker delivers it back: the
// connection is up and authorised now.
func (c *client) roundTrip(t *testing.T, rec *recorder, gw, marker string) {
	t.Helper()
	c.pub(t, "cw/v1/"+gw+"/m/cmd", marker)
	waitUntil(t, gw+"'s "+marker, func() bool { return rec.has(marker) })
}

// TestBrokerReloadRevokes is the revocation control of docs/security.md
// ("Rotating credentials"): the files are written again by Write (what
// `chargewatch mqtt-auth` runs) after a gateway lost its password_hash and
// another got a new one; Mosquitto gets SIGHUP. Both gateways' connections
// are cut at once and their old passwords are refused, while the untouched
// gateway and the ingester stay connected. Before the SIGHUP nothing
// changes: the disconnection is the reload's doing, not the new files'.
// A self-connected device with a password_hash is an account like a
// gateway's.
func TestBrokerReloadRevokes(t *testing.T) {
	hashes := map[string]string{}
	for _, id := range accountIDs {
		h, err := Hash("old-secret-of-" + id)
		if err != nil {
			t.Fatal(err)
		}
		hashes[id] = h
	}
	dir := t.TempDir()
	if _, err := Write(dir, snapshot(t, reloadSite(hashes)), Options{ClientID: "cw"}); err != nil {
		t.Fatal(err)
	}
	telPW, err := ReadSecret(PasswordPath(dir, "cw-telemetry"))
	if err != nil {
		t.Fatal(err)
	}
	mq := testenv.StartMosquitto(t, brokerConfig(t, dir)...)

	ingest := &recorder{}
	tel := mustConnect(t, mq.URL, "cw-telemetry", telPW, "cw-telemetry", false, ingest)
	tel.sub(t, "cw/v1/+/+/telemetry")
	gws := map[string]*client{}
	recs := map[string]*recorder{}
	for _, id := range accountIDs {
		recs[id] = &recorder{}
		gws[id] = mustConnect(t, mq.URL, id, "old-secret-of-"+id, id, true, recs[id])
		gws[id].sub(t, "cw/v1/"+id+"/+/cmd")
		gws[id].roundTrip(t, recs[id], id, "before")
	}

	// The installer revokes gw-a (its password_hash removed) and rotates
	// gw-c's password; mqtt-auth rewrites the files.
	delete(hashes, "gw-a")
	if hashes["gw-c"], err = Hash("new-secret-of-gw-c"); err != nil {
		t.Fatal(err)
	}
	rep, err := Write(dir, snapshot(t, reloadSite(hashes)), Options{ClientID: "cw"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Missing, ",") != "gw-a" || rep.Gateways != 3 || len(rep.Created) != 0 {
		t.Fatalf("second Write: %+v", rep)
	}
	if got := passwdEntries(t, dir); got["gw-a"] != "" || !Verify(got["gw-c"], "new-secret-of-gw-c") {
		t.Fatalf("passwd after the change: %v", got)
	}
	// Mosquitto does not watch its files: until the reload every
	// connection still works.
	for _, id := range accountIDs {
		gws[id].roundTrip(t, recs[id], id, "files-rewritten")
	}

	if err := mq.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gw-a", "gw-c"} {
		select {
		case <-gws[id].lost:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s is still connected 10 s after the reload; broker log:\n%s", id, mq.LogTail(20))
		}
	}
	// Mosquitto checks every client in one pass after re-reading the
	// files, so once the two are gone it has passed the others.
	for _, id := range []string{"gw-b", "sd-1"} {
		select {
		case <-gws[id].lost:
			t.Fatalf("%s, whose account did not change, was disconnected by the reload", id)
		default:
		}
		gws[id].roundTrip(t, recs[id], id, "after-reload")
	}
	gws["gw-b"].pub(t, "cw/v1/gw-b/m-b/telemetry", "reading-after-reload")
	gws["sd-1"].pub(t, "cw/v1/sd-1/sd-1/telemetry", "detector-after-reload")
	waitUntil(t, "readings at the ingester", func() bool {
		return ingest.has("reading-after-reload") && ingest.has("detector-after-reload")
	})
	select {
	case <-tel.lost:
		t.Fatal("the reload disconnected the ingester")
	default:
	}

	// The old passwords are refused; the rotated one works.
	for _, c := range []struct{ user, pw, why string }{
		{"gw-a", "old-secret-of-gw-a", "revoked gateway"},
		{"gw-c", "old-secret-of-gw-c", "rotated gateway's old password"},
	} {
		if _, err := connect(t, mq.URL, c.user, c.pw, c.user, true, nil); err == nil {
			t.Errorf("%s: connected after the reload", c.why)
		}
	}
	recC := &recorder{}
	c := mustConnect(t, mq.URL, "gw-c", "new-secret-of-gw-c", "gw-c", true, recC)
	c.sub(t, "cw/v1/gw-c/+/cmd")
	c.roundTrip(t, recC, "gw-c", "new-password")
}
