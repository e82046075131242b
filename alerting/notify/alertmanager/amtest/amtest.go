// Package amtest starts a real Prometheus Alertmanager for tests: the
// Debian package's binary (scripts/install-deps.sh installs it) on a free
// loopback port, clustering off, storage in a temp dir, stopped by
// t.Cleanup.
package amtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/internal/testenv"
)

// Server is a running Alertmanager.
type Server struct {
	URL string // http://127.0.0.1:PORT
	dir string
	cmd *exec.Cmd
}

// Binary finds the alertmanager binary.
func Binary() (string, error) {
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("no prometheus-alertmanager binary: run scripts/install-deps.sh (installs the Debian package prometheus-alertmanager)")
}

// spawn starts processes from one locked OS thread, so that Pdeathsig
// (sent when the starting thread exits) fires only when the test binary
// dies.
var spawnCh = func() chan func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread()
		for f := range ch {
			f()
		}
	}()
	return ch
}()

// Start starts an Alertmanager whose global resolve_timeout is
// resolveTimeout and whose only receiver drops everything.
func Start(t testing.TB, resolveTimeout time.Duration) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  resolve_timeout: %s\nroute:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n", resolveTimeout)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 3; try++ {
		port := testenv.FreePort()
		s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir}
		logf, err := os.Create(filepath.Join(dir, "alertmanager.log"))
		if err != nil {
			t.Fatal(err)
		}
		s.cmd = exec.Command(bin,
			"--config.file="+filepath.Join(dir, "alertmanager.yml"),
			"--storage.path="+filepath.Join(dir, "data"),
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
			"--cluster.listen-address=",
			"--log.level=warn",
		)
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		done := make(chan error, 1)
		spawnCh <- func() { done <- s.cmd.Start() }
		err = <-done
		logf.Close()
		if err != nil {
			t.Fatalf("start alertmanager: %v", err)
		}
		exited := make(chan struct{})
		go func() { s.cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			if t.Failed() {
				b, _ := os.ReadFile(filepath.Join(dir, "alertmanager.log"))
				t.Logf("alertmanager log:\n%s", b)
			}
		})
		if s.wait(exited, 15*time.Second) {
			return s
		}
		b, _ := os.ReadFile(filepath.Join(dir, "alertmanager.log"))
		if !strings.Contains(string(b), "address already in use") {
			t.Fatalf("alertmanager did not get ready:\n%s", b)
		}
	}
	t.Fatal("alertmanager: no free port after 3 tries")
	return nil
}

func (s *Server) wait(exited chan struct{}, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Alert is what GET /api/v2/alerts returns of an alert (the parts tests
// look at).
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

// Alerts returns the alerts Alertmanager holds as not resolved.
func (s *Server) Alerts(ctx context.Context) ([]Alert, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v2/alerts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /api/v2/alerts: HTTP %d", resp.StatusCode)
	}
	var out []Alert
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// Find returns the alert with label alert_id = id.
func (s *Server) Find(ctx context.Context, id string) (*Alert, error) {
	as, err := s.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].Labels["alert_id"] == id {
			return &as[i], nil
		}
	}
	return nil, nil
}
