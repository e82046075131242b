// Package benchutil holds what the benchmark commands share: building and
// running the real chargewatch binary against servers started by
// internal/testenv, reading its metrics, and measuring its CPU and memory
// from /proc.
package benchutil

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chargewatch/chargewatch/internal/testenv"
)

// Step prints a progress line.
func Step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

// BuildChargewatch builds the server binary into dir.
func BuildChargewatch(dir string) (string, error) {
	bin := filepath.Join(dir, "chargewatch")
	out, err := exec.Command("go", "build", "-o", bin, filepath.Join(testenv.RepoRoot(), "cmd", "chargewatch")).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Server is a running chargewatch process.
type Server struct {
	Cmd  *exec.Cmd
	HTTP string // http://127.0.0.1:port
	log  *os.File
}

// StartServer writes config (YAML, with %d for the HTTP port) into dir,
// starts the server with env added to the environment, and waits until it
// is ready.
func StartServer(ctx context.Context, bin, dir, config string, env ...string) (*Server, error) {
	port := testenv.FreePort()
	cfgPath := filepath.Join(dir, "chargewatch.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, port), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "chargewatch.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &Server{Cmd: cmd, HTTP: fmt.Sprintf("http://127.0.0.1:%d", port), log: logf}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.HTTP + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("chargewatch not ready at %s; see %s", s.HTTP, s.log.Name())
}

// Stop stops the server gracefully.
func (s *Server) Stop() {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	s.Cmd.Wait()
	s.log.Close()
}

// Pid returns the process id.
func (s *Server) Pid() int { return s.Cmd.Process.Pid }

// Metric reads one sample (name with labels, as exposed) from /metrics.
func (s *Server) Metric(name string) (float64, bool) {
	resp, err := http.Get(s.HTTP + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(line[len(name):]), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// ProcCPU returns the CPU time (user+system) a process has used.
func ProcCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}

// ProcHWM returns a process's peak resident set size in bytes.
func ProcHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Percentile returns the p-th percentile (0-100) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// Sorted returns a sorted copy.
func Sorted(d []time.Duration) []time.Duration {
	out := slices.Clone(d)
	slices.Sort(out)
	return out
}

// NumCPU counts the processors.
func NumCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
