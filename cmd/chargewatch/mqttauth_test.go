package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/internal/mqttauth"
)

// adapterSite has two gateways; a smoke detector and a plug at gw-a, a
// meter at gw-b.
const adapterSite = `version: 1
districts: [{id: d1, name: D}]
streets: [{id: s1, name: S, district: d1}]
communities: [{id: c1, name: C, street: s1}]
buildings: [{id: b1, name: B1, community: c1, lat: 30.28, lon: 120.15}]
units: [{id: u1, building: b1, type: residential}]
gateways:
  - {id: gw-a, building: b1}
  - {id: gw-b, building: b1}
devices:
  - {id: smk-a, kind: smoke, gateway: gw-a, unit: u1}
  - {id: plug-a, kind: plug, gateway: gw-a, unit: u1, rated_current_a: 10}
  - {id: m-b, kind: meter, gateway: gw-b, unit: u1, rated_current_a: 16}
`

// TestMQTTAuthAdapterAccounts: mqtt-auth checks the adapter accounts of
// the configuration's ingest.adapters against the registry, as the server
// does at start, and writes nothing for an account the registry does not
// back; the error names the account, the gateway or device, and the fix.
func TestMQTTAuthAdapterAccounts(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(site, []byte(adapterSite), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "registry.db")
	var out, errb bytes.Buffer
	if code := run([]string{"devices", "import", "--db", reg, site}, &out, &errb); code != 0 {
		t.Fatalf("devices import: %d\n%s", code, errb.String())
	}
	hash, err := mqttauth.Hash("pw-z2m")
	if err != nil {
		t.Fatal(err)
	}
	z2m := func(user, gateway, device string) string {
		return `  - username: ` + user + `
    gateway: ` + gateway + `
    password_hash: "` + hash + `"
    zigbee2mqtt:
      base_topic: zigbee2mqtt/` + user + `
      devices: {"0x00158d0001d64498": ` + device + `}
`
	}
	for _, c := range []struct {
		name     string
		accounts string
		want     []string // in stderr; none: it succeeds
	}{
		{name: "registered", accounts: z2m("z2m-a", "gw-a", "smk-a")},
		{name: "unknown gateway", accounts: z2m("z2m-a", "gw-a", "smk-a") + z2m("z2m-x", "gw-x", "smk-a"),
			want: []string{"accounts[1] (z2m-x)", `gateway "gw-x" is not registered`, "add it to the site file and import it", "no broker files were written"}},
		{name: "device under another gateway", accounts: z2m("z2m-b", "gw-b", "smk-a"),
			want: []string{"accounts[0] (z2m-b)", `device "smk-a" is registered under gateway "gw-a", not "gw-b"`}},
		{name: "unknown device", accounts: z2m("z2m-a", "gw-a", "smk-zz"),
			want: []string{"accounts[0] (z2m-a)", `device "smk-zz" is not registered`}},
		{name: "username is a gateway id", accounts: z2m("gw-b", "gw-a", "smk-a"),
			want: []string{`username "gw-b" is a gateway's id`}},
		{name: "wrong kind", accounts: z2m("z2m-a", "gw-a", "plug-a"),
			want: []string{`device "plug-a" is a plug`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cdir := t.TempDir()
			acctFile := filepath.Join(cdir, "accounts.yaml")
			if err := os.WriteFile(acctFile, []byte("accounts:\n"+c.accounts), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(cdir, "chargewatch.yaml")
			if err := os.WriteFile(cfg, []byte("data_dir: "+cdir+"\nregistry: "+reg+"\nmqtt: {client_id: cw}\ningest: {adapters: "+acctFile+"}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			authDir := filepath.Join(cdir, "auth")
			var out, errb bytes.Buffer
			code := mqttAuth(t.Context(), []string{"--config", cfg, "--out", authDir}, nil, &out, &errb)
			if len(c.want) == 0 {
				if code != 0 {
					t.Fatalf("exit %d:\n%s", code, errb.String())
				}
				acl, err := os.ReadFile(filepath.Join(authDir, mqttauth.ACLFile))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"\nuser z2m-a\ntopic readwrite zigbee2mqtt/z2m-a/#\n", "\nuser cw-events\ntopic read zigbee2mqtt/z2m-a/0x00158d0001d64498\n"} {
					if !strings.Contains(string(acl), want) {
						t.Errorf("acl lacks %q:\n%s", want, acl)
					}
				}
				passwd, _ := os.ReadFile(filepath.Join(authDir, mqttauth.PasswdFile))
				if !strings.Contains(string(passwd), "\nz2m-a:"+hash+"\n") {
					t.Errorf("passwd lacks the adapter account:\n%s", passwd)
				}
				if !strings.Contains(out.String(), "1 adapter accounts") {
					t.Errorf("stdout:\n%s", out.String())
				}
				return
			}
			if code != 1 {
				t.Errorf("exit %d, want 1; stdout:\n%s", code, out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, errb.String())
				}
			}
			if _, err := os.Stat(authDir); err == nil {
				t.Errorf("%s was made despite the error", authDir)
			}
		})
	}
}
