package mqttauth

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/devices/registry"
)

// site: gateways gw-a (a hash from mosquitto_passwd) and gw-b (a hash made
// here), gw-c without a hash, and sd-1, a smoke detector that connects by
// itself.
func testSite(t *testing.T, hashA, hashB string) string {
	return `version: 1
districts: [{id: d1, name: D}]
streets: [{id: s1, name: S, district: d1}]
communities: [{id: c1, name: C, street: s1}, {id: c2, name: C2, street: s1}]
buildings:
  - {id: b1, name: B1, community: c1, lat: 30.28, lon: 120.15}
  - {id: b2, name: B2, community: c2, lat: 30.29, lon: 120.16}
units: [{id: u1, building: b1, type: residential}, {id: u2, building: b2, type: residential}]
gateways:
  - {id: gw-a, building: b1, password_hash: "` + hashA + `"}
  - {id: gw-b, building: b2, password_hash: "` + hashB + `"}
  - {id: gw-c, building: b2}
devices:
  - {id: m-a, kind: meter, gateway: gw-a, unit: u1, rated_current_a: 16}
  - {id: m-b, kind: meter, gateway: gw-b, unit: u2, rated_current_a: 16}
  - {id: m-c, kind: meter, gateway: gw-c, unit: u2, rated_current_a: 16}
  - {id: sd-1, kind: smoke, gateway: sd-1, unit: u1}
`
}

func snapshot(t *testing.T, yaml string) *registry.Snapshot {
	t.Helper()
	site, err := registry.ParseSite("site.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := registry.OpenDB(ctx, filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := registry.Import(ctx, db, site); err != nil {
		t.Fatal(err)
	}
	snap, err := registry.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func passwdEntries(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, PasswdFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, h, ok := strings.Cut(line, ":")
		if !ok || CheckHash(h) != nil {
			t.Fatalf("passwd line %q", line)
		}
		out[u] = h
	}
	return out
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestWrite(t *testing.T) {
	hashA := mosquittoPasswd(t, "", "gw-a", "secret-of-a")
	hashB, _ := Hash("secret-of-b")
	snap := snapshot(t, testSite(t, hashA, hashB))
	dir := filepath.Join(t.TempDir(), "auth")

	rep, err := Write(dir, snap, Options{ClientID: "cw"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gateways != 2 || rep.Simulated != 0 || strings.Join(rep.Missing, ",") != "gw-c,sd-1" || len(rep.Created) != 2 {
		t.Errorf("report %+v", rep)
	}
	got := passwdEntries(t, dir)
	if len(got) != 4 || got["gw-a"] != hashA || got["gw-b"] != hashB {
		t.Errorf("passwd %v", got)
	}
	telPW, err := ReadSecret(PasswordPath(dir, "cw-telemetry"))
	if err != nil {
		t.Fatal(err)
	}
	evPW, _ := ReadSecret(PasswordPath(dir, "cw-events"))
	if !Verify(got["cw-telemetry"], telPW) || !Verify(got["cw-events"], evPW) || telPW == evPW {
		t.Error("service accounts' hashes do not match their password files, or they share a password")
	}
	for file, want := range map[string]os.FileMode{
		PasswordPath(dir, "cw-telemetry"): 0o600, PasswordPath(dir, "cw-events"): 0o600,
		filepath.Join(dir, PasswdFile): 0o640, filepath.Join(dir, ACLFile): 0o640,
	} {
		if m := mode(t, file); m != want {
			t.Errorf("%s: mode %04o, want %04o", file, m, want)
		}
	}
	acl, _ := os.ReadFile(filepath.Join(dir, ACLFile))
	for _, want := range []string{"pattern write cw/v1/%u/#\n", "pattern read cw/v1/%u/+/cmd\n", "user cw-telemetry\ntopic read cw/v1/+/+/telemetry\n",
		"user cw-events\ntopic read cw/v1/+/+/event\ntopic read cw/v1/+/+/status\ntopic read $SYS/broker/publish/messages/dropped\n"} {
		if !strings.Contains(string(acl), want) {
			t.Errorf("acl lacks %q:\n%s", want, acl)
		}
	}

	// Running it again keeps the service passwords (the running server
	// keeps working); the simulators get one shared password.
	rep, err = Write(dir, snap, Options{ClientID: "cw", Simulators: true})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadSecret(PasswordPath(dir, "cw-telemetry")); again != telPW {
		t.Error("second run changed the ingester's password")
	}
	simPW, err := ReadSecret(filepath.Join(dir, SimulatorsFile))
	if err != nil {
		t.Fatal(err)
	}
	got = passwdEntries(t, dir)
	if rep.Simulated != 2 || len(rep.Missing) != 0 || !Verify(got["gw-c"], simPW) || !Verify(got["sd-1"], simPW) || Verify(got["gw-a"], simPW) {
		t.Errorf("simulators: report %+v", rep)
	}
	if strings.Join(rep.Created, ",") != filepath.Join(dir, SimulatorsFile) {
		t.Errorf("created %v", rep.Created)
	}

	// Rotation makes new service passwords.
	if _, err := Write(dir, snap, Options{ClientID: "cw", RotateService: true}); err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadSecret(PasswordPath(dir, "cw-telemetry")); again == telPW {
		t.Error("rotation kept the ingester's password")
	}

	// A secret file others may read is refused, naming the file and not
	// the secret.
	os.Chmod(PasswordPath(dir, "cw-events"), 0o644)
	_, err = Write(dir, snap, Options{ClientID: "cw"})
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), evPW) {
		t.Errorf("group-readable secret: %v", err)
	}
}

func TestWriteRefusesBadRegistry(t *testing.T) {
	hashB, _ := Hash("b")
	// A gateway hash Mosquitto cannot read; the error names the gateway
	// and not the hash.
	bad := "$7$101$AAAA$BBBB"
	snap := snapshot(t, testSite(t, bad, hashB))
	_, err := Write(t.TempDir(), snap, Options{ClientID: "cw"})
	if err == nil || !strings.Contains(err.Error(), `gateway "gw-a": password_hash`) || strings.Contains(err.Error(), bad) {
		t.Errorf("bad hash: %v", err)
	}
	// A gateway named like the ingester's account would take it over.
	snap = snapshot(t, strings.ReplaceAll(testSite(t, hashB, hashB), "gw-a", "cw-telemetry"))
	_, err = Write(t.TempDir(), snap, Options{ClientID: "cw"})
	if err == nil || !strings.Contains(err.Error(), `gateway "cw-telemetry" has the name of one of the ingester's accounts`) {
		t.Errorf("collision: %v", err)
	}
	if _, err := Write(t.TempDir(), snap, Options{ClientID: "CW/x"}); err == nil {
		t.Error("an invalid client id is accepted")
	}
}
