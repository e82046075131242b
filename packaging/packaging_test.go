package packaging

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/edge/config"
	"github.com/chargewatch/chargewatch/internal/server"
)

const repo = ".."

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed", tool)
			}
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: CI must have it (Debian's dpkg)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// stubBinaries writes stand-ins for the binaries: the package's layout,
// units and scripts are under test here, not the programs (make package
// cross-builds the real ones; scripts/test.sh cross-builds cw-edge).
func stubBinaries(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range []string{"chargewatch", "cw-edge"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho "+name+" stub\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func build(t *testing.T, name, arch, bin, out string) string {
	t.Helper()
	p, err := Build(Spec{Name: name, Arch: arch, Version: "0.2.0+git3.abc1234", BinDir: bin, Repo: repo, MTime: time.Unix(1767225600, 0)}, out)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// entry is one line of dpkg-deb -c.
type entry struct{ mode, owner string }

func contents(t *testing.T, deb string) map[string]entry {
	out := run(t, "dpkg-deb", "-c", deb)
	m := map[string]entry{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		m[strings.TrimPrefix(strings.TrimSuffix(f[5], "/"), ".")] = entry{f[0], f[1]}
	}
	return m
}

func TestPackages(t *testing.T) {
	need(t, "dpkg-deb")
	bin, out := stubBinaries(t), t.TempDir()
	for _, tc := range []struct {
		name, arch, file, debArch string
		files                     map[string]string // path: mode
		conffile                  string
	}{
		{"chargewatch", "amd64", "chargewatch_0.2.0+git3.abc1234_amd64.deb", "amd64", map[string]string{
			"/usr/bin/chargewatch":                                     "-rwxr-xr-x",
			"/lib/systemd/system/chargewatch.service":                  "-rw-r--r--",
			"/usr/lib/sysusers.d/chargewatch.conf":                     "-rw-r--r--",
			"/etc/chargewatch":                                         "drwxr-x---",
			"/etc/chargewatch/chargewatch.yaml":                        "-rw-r-----",
			"/usr/share/chargewatch/prometheus/chargewatch.rules.yml":  "-rw-r--r--",
			"/usr/share/chargewatch/examples/demo-site.yaml":           "-rw-r--r--",
			"/usr/share/chargewatch/examples/adapters.yaml":            "-rw-r--r--",
			"/usr/share/chargewatch/mosquitto/mosquitto.conf.template": "-rw-r--r--",
			"/usr/share/doc/chargewatch/operations.md":                 "-rw-r--r--",
			"/usr/share/doc/chargewatch/adapters.md":                   "-rw-r--r--",
		}, "/etc/chargewatch/chargewatch.yaml"},
		{"cw-edge", "arm7", "cw-edge_0.2.0+git3.abc1234_armhf.deb", "armhf", map[string]string{
			"/usr/bin/cw-edge":                    "-rwxr-xr-x",
			"/lib/systemd/system/cw-edge.service": "-rw-r--r--",
			"/usr/lib/sysusers.d/cw-edge.conf":    "-rw-r--r--",
			"/etc/cw-edge/edge.yaml":              "-rw-r-----",
			"/usr/share/doc/cw-edge/edge.md":      "-rw-r--r--",
		}, "/etc/cw-edge/edge.yaml"},
		{"cw-edge", "arm64", "cw-edge_0.2.0+git3.abc1234_arm64.deb", "arm64", nil, "/etc/cw-edge/edge.yaml"},
	} {
		t.Run(tc.name+"_"+tc.arch, func(t *testing.T) {
			deb := build(t, tc.name, tc.arch, bin, out)
			if filepath.Base(deb) != tc.file {
				t.Errorf("package file %s, want %s", filepath.Base(deb), tc.file)
			}
			fields := run(t, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture")
			want := "Package: " + tc.name + "\nVersion: 0.2.0+git3.abc1234\nArchitecture: " + tc.debArch + "\n"
			if fields != want {
				t.Errorf("control fields:\n%s\nwant:\n%s", fields, want)
			}
			info := run(t, "dpkg-deb", "-I", deb)
			for _, s := range []string{"postinst", "prerm", "postrm", "conffiles"} {
				if !strings.Contains(info, s) {
					t.Errorf("control archive lacks %s:\n%s", s, info)
				}
			}
			if cf := run(t, "dpkg-deb", "--info", deb, "conffiles"); strings.TrimSpace(cf) != tc.conffile {
				t.Errorf("conffiles: %q, want %s", cf, tc.conffile)
			}
			have := contents(t, deb)
			for path, mode := range tc.files {
				e, ok := have[path]
				if !ok {
					t.Errorf("%s is not in the package", path)
					continue
				}
				if e.mode != mode || e.owner != "root/root" {
					t.Errorf("%s: %s %s, want %s root/root", path, e.mode, e.owner, mode)
				}
			}
			for path := range have {
				if strings.HasPrefix(path, "/var/") {
					t.Errorf("%s: state is made by the postinst (owned by the service user), not shipped", path)
				}
			}
		})
	}
}

// TestInstallIntoThrowawayRoot installs both packages with dpkg into an
// empty root, running their maintainer scripts chrootless (DPKG_ROOT), then
// upgrades, removes and purges them: users, ownership and modes are what
// the services need, and purging keeps the data.
func TestInstallIntoThrowawayRoot(t *testing.T) {
	need(t, "dpkg", "dpkg-deb", "systemd-sysusers")
	if os.Geteuid() != 0 {
		t.Skip("installing with dpkg --root needs root (for chown); the contents are checked by TestPackages")
	}
	bin, out := stubBinaries(t), t.TempDir()
	debs := []string{build(t, "chargewatch", "amd64", bin, out), build(t, "cw-edge", "amd64", bin, out)}
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\ndialout:x:20:\n"), 0o644)
	dpkg := func(args ...string) string {
		return run(t, "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--log=/dev/null"}, args...)...)
	}
	dpkg(append([]string{"-i"}, debs...)...)
	ids := func(file, name string) (int, bool) {
		b, _ := os.ReadFile(filepath.Join(root, file))
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Split(l, ":")
			if len(f) >= 3 && f[0] == name {
				n, _ := strconv.Atoi(f[2])
				return n, true
			}
		}
		return 0, false
	}
	for _, tc := range []struct{ user, state, etc, conf string }{
		{"chargewatch", "var/lib/chargewatch", "etc/chargewatch", "etc/chargewatch/chargewatch.yaml"},
		{"cw-edge", "var/lib/cw-edge", "etc/cw-edge", "etc/cw-edge/edge.yaml"},
	} {
		uid, ok := ids("etc/passwd", tc.user)
		gid, gok := ids("etc/group", tc.user)
		if !ok || !gok || uid == 0 {
			t.Fatalf("user %s not created in the root: %v %v", tc.user, ok, gok)
		}
		checkOwner(t, filepath.Join(root, tc.state), uid, gid, 0o750|os.ModeDir)
		checkOwner(t, filepath.Join(root, tc.etc), 0, gid, 0o750|os.ModeDir)
		checkOwner(t, filepath.Join(root, tc.conf), 0, gid, 0o640)
	}
	checkOwner(t, filepath.Join(root, "etc/chargewatch/secrets"), must(ids("etc/passwd", "chargewatch")), must(ids("etc/group", "chargewatch")), 0o750|os.ModeDir)
	if g, _ := os.ReadFile(filepath.Join(root, "etc/group")); !regexp.MustCompile(`(?m)^dialout:x:20:.*cw-edge`).Match(g) {
		t.Errorf("cw-edge is not in group dialout:\n%s", g)
	}
	// An edited configuration survives an upgrade (conffile), and the
	// postinst runs again without failing.
	conf := filepath.Join(root, "etc/chargewatch/chargewatch.yaml")
	os.WriteFile(conf, []byte("data_dir: /srv/chargewatch\n"), 0o640)
	debs2 := []string{}
	for _, n := range []string{"chargewatch", "cw-edge"} {
		p, err := Build(Spec{Name: n, Arch: "amd64", Version: "0.2.1", BinDir: bin, Repo: repo}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		debs2 = append(debs2, p)
	}
	dpkg(append([]string{"--force-confold", "-i"}, debs2...)...)
	if b, _ := os.ReadFile(conf); string(b) != "data_dir: /srv/chargewatch\n" {
		t.Errorf("the upgrade replaced the edited configuration: %q", b)
	}
	if s := dpkg("-s", "chargewatch"); !strings.Contains(s, "Version: 0.2.1") {
		t.Errorf("after upgrade:\n%s", s)
	}
	os.WriteFile(filepath.Join(root, "var/lib/chargewatch/registry.db"), []byte("data"), 0o640)
	dpkg("-P", "chargewatch", "cw-edge")
	if _, err := os.Stat(filepath.Join(root, "var/lib/chargewatch/registry.db")); err != nil {
		t.Errorf("purging deleted the data: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/chargewatch")); err == nil {
		t.Error("the binary is still there after purge")
	}
}

func must(n int, ok bool) int {
	if !ok {
		return -1
	}
	return n
}

func checkOwner(t *testing.T, path string, uid, gid int, mode os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if ok && (int(sys.Uid) != uid || int(sys.Gid) != gid) {
		t.Errorf("%s: owner %d:%d, want %d:%d", path, sys.Uid, sys.Gid, uid, gid)
	}
	if st.Mode()&(os.ModePerm|os.ModeDir) != mode {
		t.Errorf("%s: mode %v, want %v", path, st.Mode(), mode)
	}
}

// TestUnits checks the systemd units: `systemd-analyze verify` must have
// nothing to say (unknown keys, bad values, missing commands), the
// hardening must keep systemd's exposure score low, and the units must
// restart on failure as a dedicated user.
func TestUnits(t *testing.T) {
	for _, name := range []string{"chargewatch", "cw-edge"} {
		t.Run(name, func(t *testing.T) {
			unit, err := os.ReadFile(filepath.Join(repo, "packaging", name, name+".service"))
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string][]string{}
			for _, l := range strings.Split(string(unit), "\n") {
				if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
					keys[k] = append(keys[k], v)
				}
			}
			for k, v := range map[string]string{
				"User": name, "Group": name, "Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
				"ProtectHome": "yes", "PrivateTmp": "yes", "StateDirectory": name, "CapabilityBoundingSet": "",
				"WantedBy": "multi-user.target", "SystemCallFilter": "@system-service",
			} {
				if len(keys[k]) == 0 || keys[k][0] != v {
					t.Errorf("%s=%q, want %q", k, keys[k], v)
				}
			}
			if _, err := exec.LookPath("systemd-analyze"); err != nil {
				t.Log("systemd-analyze is not installed: structural checks only")
				return
			}
			// verify resolves ExecStart on this machine: point it at a stub.
			dir := t.TempDir()
			stub := filepath.Join(dir, name)
			os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755)
			u := strings.ReplaceAll(string(unit), "/usr/bin/"+name, stub)
			path := filepath.Join(dir, name+".service")
			os.WriteFile(path, []byte(u), 0o644)
			cmd := exec.Command("systemd-analyze", "verify", "--man=no", path)
			msg, err := cmd.CombinedOutput()
			if err != nil || len(bytes.TrimSpace(msg)) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s", err, msg)
			}
			// The exposure score, offline, from a root holding the unit.
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "lib/systemd/system"), 0o755)
			os.WriteFile(filepath.Join(root, "lib/systemd/system", name+".service"), unit, 0o644)
			msg, err = exec.Command("systemd-analyze", "security", "--offline=true", "--root="+root, "--no-pager", name+".service").CombinedOutput()
			m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(msg)
			if err != nil || m == nil {
				t.Fatalf("systemd-analyze security: %v\n%s", err, msg)
			}
			if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 2.5 {
				t.Errorf("exposure %.1f: the unit lost hardening (want at most 2.5)\n%s", score, msg)
			} else {
				t.Logf("%s.service exposure %.1f", name, score)
			}
		})
	}
}

// TestDefaultConfigs: the server's packaged configuration is valid as
// shipped; the gateway's is a template that cw-edge check explains, and is
// valid once the installer fills in the gateway, the broker and a bus.
func TestDefaultConfigs(t *testing.T) {
	if _, err := server.LoadConfig(filepath.Join(repo, "examples", "chargewatch.yaml")); err != nil {
		t.Errorf("/etc/chargewatch/chargewatch.yaml as shipped: %v", err)
	}
	tmpl, err := os.ReadFile(filepath.Join(repo, "packaging", "cw-edge", "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Parse("edge.yaml", t.TempDir(), tmpl)
	if err == nil || !strings.Contains(err.Error(), "gateway") || !strings.Contains(err.Error(), "url") {
		t.Errorf("the template should say what to fill in: %v", err)
	}
	filled := strings.NewReplacer(`gateway: ""`, "gateway: gw-dt-01", `url: ""`, "url: tcp://127.0.0.1:1883",
		"buses: []", "buses:\n  - {name: rs485-1, transport: rtu, port: /dev/ttyUSB0, baud: 9600, devices: [{id: m-101, profile: chint-ddsu666, slave: 1}]}").Replace(string(tmpl))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mqtt-password"), []byte("x"), 0o600)
	filled = strings.ReplaceAll(filled, "/etc/cw-edge/mqtt-password", filepath.Join(dir, "mqtt-password"))
	if _, err := config.Parse("edge.yaml", dir, []byte(filled)); err != nil {
		t.Errorf("the template filled in: %v", err)
	}
}

func TestMaintainerScripts(t *testing.T) {
	scripts, _ := filepath.Glob(filepath.Join(repo, "packaging", "*", "*.sh"))
	if len(scripts) != 6 {
		t.Fatalf("scripts: %v", scripts)
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
		if _, err := exec.LookPath("shellcheck"); err == nil {
			if out, err := exec.Command("shellcheck", "-s", "sh", s).CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s:\n%s", s, out)
			}
		}
	}
}

func TestDebVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v0.1.0": "0.1.0", "v0.1.0-5-g3f2a1bc": "0.1.0+git5.3f2a1bc", "v0.1.0-dirty": "0.1.0+dirty",
		"v1.2.3-12-gabcdef0-dirty": "1.2.3+git12.abcdef0.dirty",
	} {
		if got, err := DebVersion(in); err != nil || got != want {
			t.Errorf("DebVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := DebVersion("abc123"); err == nil {
		t.Error("a describe without a tag was accepted")
	}
	if _, _, err := GoEnv("mips"); err == nil {
		t.Error("GoEnv(mips)")
	}
}
