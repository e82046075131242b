// Package testenv starts real Mosquitto and InfluxDB 1.8.10 servers on free loopback ports
// for integration tests, and stops them. It is the one place tests get servers from: no mocks,
// no Docker.
//
// # Shared servers
//
// One Mosquitto and one InfluxDB per test package (per test binary), started lazily on first
// use and stopped when the tests end. The package must call Main from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		mq := testenv.SharedMosquitto(t)   // mq.URL is "tcp://127.0.0.1:<port>"
//		inf := testenv.SharedInflux(t)     // inf.URL is "http://127.0.0.1:<port>"
//		db := inf.NewDatabase(t)           // unique per test, e.g. "testsomething_1"
//		...
//		rows := inf.Query(t, db, `SELECT * FROM meter`)
//	}
//
// Tests sharing a server must not disturb each other: use a database from NewDatabase (or
// DBName) and topics or client ids derived from t.Name(). Never Stop, Pause or Kill a shared
// server; take a private one for that.
//
// # Private servers
//
// StartMosquitto and StartInflux start a server owned by one test and stopped by t.Cleanup.
// Use them to stop, pause (SIGSTOP), resume, kill -9 and restart a server: Start restarts it on
// the same port with the same data directory, so persisted state survives.
//
// # Binaries
//
// mosquitto is the Debian package's (PATH, /usr/sbin); influxd is REPO/.bin/influxd, built by
// scripts/install-deps.sh from github.com/influxdata/influxdb v1.8.10. If one is missing, the
// helper runs scripts/install-deps.sh once (serialised across test binaries by a file lock),
// except when the environment variable CI is set (to anything but "false" or "0"): then the
// test fails, naming the script. Tests are never skipped for want of a server.
//
// # Configuration
//
// Servers are configured from the same templates the project ships,
// deploy/mosquitto/mosquitto.conf and deploy/influxdb/influxdb.conf, whose {{PLACEHOLDERS}}
// (port, data dir, user) are filled in here as scripts/lib.sh render_template does for the
// demo. One deliberate difference: influxd runs with Flux off (INFLUXDB_HTTP_FLUX_ENABLED=false)
// unless a private server is started with FluxOn, because Flux costs about 4.5 s of CPU at
// every start; InfluxQL, /write, /api/v2/write and /health do not need it.
// Server output goes to a log file next to the data; readiness timeouts and failed
// tests using a private server report its tail.
//
// # Cleanup
//
// Each server runs in its own process group and gets SIGKILL if the test binary dies
// (Pdeathsig), so no server outlives its tests. Data lives in temp dirs named
// chargewatch-testenv-*; ones left by a crashed test binary are removed by the next Main.
package testenv

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// InfluxDBModule and InfluxDBVersion identify the influxd build the project uses.
const (
	InfluxDBModule  = "github.com/influxdata/influxdb"
	InfluxDBVersion = "v1.8.10"
	installScript   = "scripts/install-deps.sh"
	tempPrefix      = "chargewatch-testenv-"
)

var (
	mainCalled atomic.Bool

	sharedMu       sync.Mutex
	sharedMQ       *Mosquitto
	sharedMQErr    error
	sharedInflux   *Influx
	sharedInfluxEr error
)

// Main runs the tests of a package that uses shared servers, stops those servers and exits
// with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	removeStaleTempDirs()
	code := m.Run()
	stopShared()
	os.Exit(code)
}

func stopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedMQ != nil {
		if err := sharedMQ.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping shared mosquitto: %v\n", err)
		}
		os.RemoveAll(sharedMQ.base)
		sharedMQ = nil
	}
	if sharedInflux != nil {
		if err := sharedInflux.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping shared influxd: %v\n", err)
		}
		os.RemoveAll(sharedInflux.base)
		sharedInflux = nil
	}
}

func requireMain(t testing.TB) {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("testenv: shared servers need TestMain: add `func TestMain(m *testing.M) { testenv.Main(m) }` to this package")
	}
}

// SharedMosquitto returns the package's shared broker, starting it on first use.
func SharedMosquitto(t testing.TB) *Mosquitto {
	t.Helper()
	requireMain(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedMQ == nil && sharedMQErr == nil {
		sharedMQ, sharedMQErr = newMosquitto(mosquittoBin(t), nil)
	}
	if sharedMQErr != nil {
		t.Fatalf("testenv: shared mosquitto: %v", sharedMQErr)
	}
	if !sharedMQ.running() {
		t.Fatalf("testenv: the shared mosquitto is not running (did a test stop it? use StartMosquitto for that)\n%s", sharedMQ.LogTail(20))
	}
	return sharedMQ
}

// SharedInflux returns the package's shared InfluxDB, starting it on first use.
func SharedInflux(t testing.TB) *Influx {
	t.Helper()
	requireMain(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedInflux == nil && sharedInfluxEr == nil {
		sharedInflux, sharedInfluxEr = newInflux(influxdBin(t), nil)
	}
	if sharedInfluxEr != nil {
		t.Fatalf("testenv: shared influxd: %v", sharedInfluxEr)
	}
	if !sharedInflux.running() {
		t.Fatalf("testenv: the shared influxd is not running (did a test stop it? use StartInflux for that)\n%s", sharedInflux.LogTail(20))
	}
	return sharedInflux
}

// StartMosquitto starts a broker owned by t, stopped by t.Cleanup. extraConfig lines are
// appended to the rendered deploy/mosquitto/mosquitto.conf; a later setting overrides an
// earlier one (e.g. "allow_anonymous false", "password_file /path").
func StartMosquitto(t testing.TB, extraConfig ...string) *Mosquitto {
	t.Helper()
	m, err := newMosquitto(mosquittoBin(t), extraConfig)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { cleanupPrivate(t, &m.proc) })
	return m
}

// StartInflux starts an InfluxDB owned by t, stopped by t.Cleanup. env entries
// ("INFLUXDB_HTTP_AUTH_ENABLED=true") override settings of deploy/influxdb/influxdb.conf.
// Flux is off unless env contains FluxOn (it costs seconds of CPU per start).
func StartInflux(t testing.TB, env ...string) *Influx {
	t.Helper()
	i, err := newInflux(influxdBin(t), env)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { cleanupPrivate(t, &i.proc) })
	return i
}

func cleanupPrivate(t testing.TB, p *proc) {
	if err := p.Stop(); err != nil {
		t.Errorf("testenv: stopping %s: %v", p.name, err)
	}
	if t.Failed() {
		t.Logf("testenv: last lines of the %s log (%s):\n%s", p.name, p.logPath, p.LogTail(30))
	}
	os.RemoveAll(p.base)
}

// RepoRoot returns the repository root: the nearest directory at or above the working
// directory that holds go.mod. It panics if there is none.
func RepoRoot() string {
	repoRootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			panic(fmt.Sprintf("testenv: %v", err))
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				repoRoot = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				panic("testenv: no go.mod at or above the working directory")
			}
			dir = parent
		}
	})
	return repoRoot
}

var (
	repoRootOnce sync.Once
	repoRoot     string
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Servers started by
// this package retry with another port if it is taken meanwhile.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("testenv: no free port: %v", err))
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	dbSeq       atomic.Int64
	nonNameChar = regexp.MustCompile(`[^a-z0-9_]+`)
)

// DBName returns a database name unique within the test binary, derived from t.Name():
// lower case, [a-z0-9_] only, at most 48 characters plus a sequence number.
func DBName(t testing.TB) string {
	name := strings.Trim(nonNameChar.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(name) > 48 {
		name = name[:48]
	}
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		name = "t" + name
	}
	return fmt.Sprintf("%s_%d", name, dbSeq.Add(1))
}

// --- binaries ------------------------------------------------------------------------------

var (
	binMu       sync.Mutex
	installed   bool // install-deps.sh ran in this process
	installErr  error
	installOut  []byte
	mosquittoAt string
	influxdAt   string
)

// mosquittoBin returns the mosquitto binary, installing it if needed (see package doc).
func mosquittoBin(t testing.TB) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if mosquittoAt == "" {
		path, err := findMosquitto()
		if err != nil {
			ensureInstalled(t, "mosquitto", err)
			if path, err = findMosquitto(); err != nil {
				t.Fatalf("testenv: %v, even after %s", err, installScript)
			}
		}
		mosquittoAt = path
	}
	return mosquittoAt
}

// influxdBin returns REPO/.bin/influxd, building it if needed (see package doc).
func influxdBin(t testing.TB) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if influxdAt == "" {
		path, err := findInfluxd()
		if err != nil {
			ensureInstalled(t, "influxd", err)
			if path, err = findInfluxd(); err != nil {
				t.Fatalf("testenv: %v, even after %s", err, installScript)
			}
		}
		influxdAt = path
	}
	return influxdAt
}

func findMosquitto() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/sbin/mosquitto"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("mosquitto not found on PATH or in /usr/sbin")
}

func findInfluxd() (string, error) {
	p := filepath.Join(RepoRoot(), ".bin", "influxd")
	info, err := buildinfo.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s does not exist", p)
		}
		return "", fmt.Errorf("%s: %v", p, err)
	}
	if info.Main.Path != InfluxDBModule || info.Main.Version != InfluxDBVersion {
		return "", fmt.Errorf("%s is %s %s, want %s %s", p, info.Main.Path, info.Main.Version, InfluxDBModule, InfluxDBVersion)
	}
	return p, nil
}

func ciMode() bool {
	v := strings.TrimSpace(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// ensureInstalled runs scripts/install-deps.sh once per process, under a file lock shared by
// all test binaries, or fails the test under CI. Called with binMu held.
func ensureInstalled(t testing.TB, what string, why error) {
	t.Helper()
	if ciMode() {
		t.Fatalf("testenv: %v; CI is set, so nothing is installed here: run %s first (make deps)", why, installScript)
	}
	if !installed {
		installed = true
		installOut, installErr = runInstallDeps()
	}
	if installErr != nil {
		t.Fatalf("testenv: %s missing (%v) and %s failed: %v\n%s", what, why, installScript, installErr, installOut)
	}
	if len(bytes.TrimSpace(installOut)) > 0 {
		t.Logf("testenv: %s missing (%v); ran %s:\n%s", what, why, installScript, installOut)
	}
}

func runInstallDeps() ([]byte, error) {
	root := RepoRoot()
	binDir := filepath.Join(root, ".bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(binDir, ".testenv-install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("locking %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	cmd := exec.Command("bash", filepath.Join(root, installScript))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return out, err
}

// --- temp dirs -----------------------------------------------------------------------------

const ownerFile = "owner.pid"

// newBaseDir makes a temp dir for one server and records the owning process, so that a
// later Main can remove it if this process dies without cleaning up.
func newBaseDir(name string) (string, error) {
	dir, err := os.MkdirTemp("", tempPrefix+name+"-")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func removeStaleTempDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// --- config templates ----------------------------------------------------------------------

var placeholder = regexp.MustCompile(`\{\{[A-Z_]+\}\}`)

// renderTemplate reads REPO/rel and replaces each {{KEY}} by vars[KEY]. It fails if a
// placeholder is left on a line that is not a comment.
func renderTemplate(rel string, vars map[string]string) (string, error) {
	b, err := os.ReadFile(filepath.Join(RepoRoot(), rel))
	if err != nil {
		return "", err
	}
	s := string(b)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := placeholder.FindString(line); m != "" {
			return "", fmt.Errorf("%s: placeholder %s not substituted", rel, m)
		}
	}
	return s, nil
}

// --- for benchmark commands ------------------------------------------------------------------

// LaunchMosquitto starts a broker for a program that is not a test (a benchmark command).
// The binaries must be installed (make deps); Close stops it and removes its data.
func LaunchMosquitto(extraConfig ...string) (*Mosquitto, error) {
	path, err := findMosquitto()
	if err != nil {
		return nil, fmt.Errorf("%v: run %s (make deps)", err, installScript)
	}
	return newMosquitto(path, extraConfig)
}

// LaunchInflux starts an InfluxDB for a program that is not a test. See LaunchMosquitto.
func LaunchInflux(env ...string) (*Influx, error) {
	path, err := findInfluxd()
	if err != nil {
		return nil, fmt.Errorf("%v: run %s (make deps)", err, installScript)
	}
	return newInflux(path, env)
}

// Close stops a launched broker and removes its data.
func (m *Mosquitto) Close() error {
	err := m.Stop()
	os.RemoveAll(m.base)
	return err
}

// Close stops a launched InfluxDB and removes its data.
func (i *Influx) Close() error {
	err := i.Stop()
	os.RemoveAll(i.base)
	return err
}
