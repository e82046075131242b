package mqttauth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/ingest/adapters/accounts"
)

// Fixed hashes (PBKDF2-SHA512, 101 iterations, as mosquitto_passwd makes
// them, with constant salts) so that the written files can be compared
// with golden files; adapterPasswords holds their passwords.
const (
	hashGwA    = "$7$101$AQEBAQEBAQEBAQEB$pxsdw1qNmuXQ3hq2ztJiA4LBTIg8gsbKKND3QySSPeZ0Clzvus1yvhCqi65lx14up4iHr1tODiKA+5VIkApQAQ=="
	hashGwB    = "$7$101$AgICAgICAgICAgIC$1S+aWkI2UiqfFk0m3Kukz7WYl5HuGMm7+XgPvmNu0bAgUVms3rhsSvB2aPVL1gveZxoahLklWCFGHCb8/xsSuQ=="
	hashZ2M    = "$7$101$AwMDAwMDAwMDAwMD$c8R8AG/DcIRGsUOMZ0V9e9/O/ppY95j9FDM8KdAq/PzpOnrioZIdAbLS4S+4yeVqrd9Aao3YastU+MEHzj55rg=="
	hashTas    = "$7$101$BAQEBAQEBAQEBAQE$mBk+ngUcj8z6GXmPGvBtmHoRPwxWcBzh+5CrH7dTBNZ/KoKPJmkc4vQwxJY4IHAs/0jEYs12sC9Qe3PQX3CeyQ=="
	hashShelly = "$7$101$BQUFBQUFBQUFBQUF$mo8zBvY5qIpruCXltMMYxt2diANhq8MnLTdku0OGxguYr3SYT3fB2ZjdiQwWfQ08xNn8KYxFzDTVQYx4ymukpA=="
	hashTB     = "$7$101$BgYGBgYGBgYGBgYG$1DoSTt5cEWW4P5elDm6leitf9HOeb1onSCAm5szxhpMf3+pbhH9/oi46CKDhHoMQ1lZniMLWNOJB7XBMkvWukQ=="
)

// adapterPasswords are the passwords of the adapter accounts of
// adapterAccounts.
var adapterPasswords = map[string]string{
	"z2m-a":               "pw-z2m",
	"plug-athomspv3a":     "pw-tasmota",
	"shelly-80646fd031f8": "pw-shelly",
	"tb-b":                "pw-tb",
}

// adapterAccounts is an accounts file with one account of each adapter,
// tied to the gateways of testSite: a Zigbee2MQTT instance and a Tasmota
// plug at gw-a, a Shelly and a ThingsBoard gateway (behind a bridge that
// adds sites/b/) at gw-b.
const adapterAccounts = `accounts:
  - username: z2m-a
    gateway: gw-a
    password_hash: "` + hashZ2M + `"
    zigbee2mqtt:
      base_topic: zigbee2mqtt/a
      devices: {"0x00158d0001d64498": sd-a}
  - username: plug-athomspv3a
    gateway: gw-a
    password_hash: "` + hashTas + `"
    tasmota:
      devices: {athomspv3a: plug-a}
  - username: shelly-80646fd031f8
    gateway: gw-b
    password_hash: "` + hashShelly + `"
    shelly:
      devices: {shellyplusplugs-80646fd031f8: plug-b}
  - username: tb-b
    gateway: gw-b
    password_hash: "` + hashTB + `"
    thingsboard:
      topic_prefix: sites/b/
      devices: {Panel 1: m-b}
`

// adapterOptions returns the options mqtt-auth gives Write for an
// accounts file.
func adapterOptions(t *testing.T, file string) Options {
	t.Helper()
	f, err := accounts.Parse("accounts.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	filters, err := f.Filters()
	if err != nil {
		t.Fatal(err)
	}
	return Options{ClientID: "cw", Adapters: f.ACL(), AdapterFilters: filters}
}

// adapterGolden compares got with testdata/NAME; CHARGEWATCH_UPDATE_GOLDEN=1
// rewrites it.
func adapterGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("CHARGEWATCH_UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (CHARGEWATCH_UPDATE_GOLDEN=1 writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (CHARGEWATCH_UPDATE_GOLDEN=1 rewrites it after review):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// TestWriteAdapterAccounts checks the password and ACL lines Write makes
// for adapter accounts against golden files: each account's hash, each
// account's own foreign topics (Tasmota: write tele and stat, read cmnd;
// Shelly, Zigbee2MQTT and ThingsBoard: readwrite under their prefix), and
// the ingester's events account reading the adapters' filters.
func TestWriteAdapterAccounts(t *testing.T) {
	snap := snapshot(t, testSite(t, hashGwA, hashGwB))
	dir := t.TempDir()
	rep, err := Write(dir, snap, adapterOptions(t, adapterAccounts))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Adapters != 4 || len(rep.AdaptersMissing) != 0 || rep.Gateways != 2 || strings.Join(rep.Missing, ",") != "gw-c,sd-1" {
		t.Errorf("report %+v", rep)
	}
	acl, err := os.ReadFile(filepath.Join(dir, ACLFile))
	if err != nil {
		t.Fatal(err)
	}
	adapterGolden(t, "adapters/acl", acl)

	// The service accounts' hashes are salted at random: check them, then
	// compare the rest.
	passwd, err := os.ReadFile(filepath.Join(dir, PasswdFile))
	if err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	for _, line := range strings.SplitAfter(string(passwd), "\n") {
		user, h, _ := strings.Cut(strings.TrimSpace(line), ":")
		if user == "cw-telemetry" || user == "cw-events" {
			pw, err := ReadSecret(PasswordPath(dir, user))
			if err != nil || !Verify(h, pw) {
				t.Errorf("%s: hash does not match its password file (%v)", user, err)
			}
			continue
		}
		rest.WriteString(line)
	}
	adapterGolden(t, "adapters/passwd", rest.Bytes())
	got := passwdEntries(t, dir)
	for user, pw := range adapterPasswords {
		if !Verify(got[user], pw) {
			t.Errorf("adapter account %s: its password does not verify against its line %q", user, got[user])
		}
	}
}

// TestWriteAdapterAccountsRefused: what Write refuses in adapter accounts,
// each error naming the account and what to do, and what it only reports.
func TestWriteAdapterAccountsRefused(t *testing.T) {
	snap := snapshot(t, testSite(t, hashGwA, hashGwB))
	entry := func(user, gateway, hash string) accounts.ACLEntry {
		return accounts.ACLEntry{Username: user, Gateway: gateway, PasswordHash: hash, Access: "readwrite", Topic: "zigbee2mqtt/" + user + "/#"}
	}
	for _, c := range []struct {
		name    string
		entries []accounts.ACLEntry
		filters []string
		want    []string // in the error; none: no error
		missing string   // Report.AdaptersMissing, joined
	}{
		{name: "valid", entries: []accounts.ACLEntry{entry("z2m-a", "gw-a", hashZ2M)}},
		{name: "no password_hash: reported, no line", entries: []accounts.ACLEntry{entry("z2m-a", "gw-a", ""), entry("z2m-b", "gw-b", hashZ2M)}, missing: "z2m-a"},
		{name: "unregistered gateway", entries: []accounts.ACLEntry{entry("z2m-x", "gw-x", hashZ2M)},
			want: []string{`adapter account "z2m-x"`, `gateway "gw-x" is not registered`, "chargewatch devices import", "tie the account to a registered gateway"}},
		{name: "username is a gateway id", entries: []accounts.ACLEntry{entry("gw-b", "gw-a", hashZ2M)},
			want: []string{`adapter account "gw-b"`, "is a gateway's id", "username of its own"}},
		{name: "username is the ingester's", entries: []accounts.ACLEntry{entry("cw-events", "gw-a", hashZ2M)},
			want: []string{`adapter account "cw-events"`, "ingester's accounts"}},
		{name: "bad hash", entries: []accounts.ACLEntry{entry("z2m-a", "gw-a", "$7$101$bm90$aGFzaA")},
			want: []string{`adapter account "z2m-a": password_hash`}},
		{name: "username breaks the files", entries: []accounts.ACLEntry{entry("z2m a:b", "gw-a", hashZ2M)},
			want: []string{`adapter account "z2m a:b"`, "not a username"}},
		{name: "bad access", entries: []accounts.ACLEntry{{Username: "z2m-a", Gateway: "gw-a", PasswordHash: hashZ2M, Access: "all", Topic: "zigbee2mqtt/a/#"}},
			want: []string{`adapter account "z2m-a"`, "read, write or readwrite"}},
		{name: "topic of two lines", entries: []accounts.ACLEntry{{Username: "z2m-a", Gateway: "gw-a", PasswordHash: hashZ2M, Access: "write", Topic: "zigbee2mqtt/a/#\ntopic write #"}},
			want: []string{`adapter account "z2m-a"`, "one line"}},
		{name: "filter of two lines", entries: []accounts.ACLEntry{entry("z2m-a", "gw-a", hashZ2M)}, filters: []string{"zigbee2mqtt/a/+\ntopic read #"},
			want: []string{"adapter filter"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Write(dir, snap, Options{ClientID: "cw", Adapters: c.entries, AdapterFilters: c.filters})
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(rep.AdaptersMissing, ","); got != c.missing {
					t.Errorf("adapters missing %q, want %q", got, c.missing)
				}
				if _, ok := passwdEntries(t, dir)[c.entries[0].Username]; ok == (c.missing != "") {
					t.Errorf("password line of %s: present %v", c.entries[0].Username, ok)
				}
				return
			}
			if err == nil {
				t.Fatal("written")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			// Nothing was written: a broker reloading keeps the old files.
			if _, err := os.Stat(filepath.Join(dir, ACLFile)); err == nil {
				t.Error("the ACL was written despite the error")
			}
		})
	}
}
