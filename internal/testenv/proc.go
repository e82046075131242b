package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	stopTimeout = 20 * time.Second
)

// proc is one server process that can be stopped, paused and started again with the same
// arguments. Methods are safe for concurrent use.
type proc struct {
	name    string // "mosquitto" or "influxd", for messages
	bin     string
	args    []string
	env     []string // nil: inherit
	base    string   // temp dir holding config, data and log
	logPath string
	// ready reports nil once the server answers; called repeatedly until startTimeout.
	ready        func(ctx context.Context) error
	startTimeout time.Duration

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	waitErr error         // valid after done is closed
	paused  bool
}

// errPortInUse marks a start that failed because the port was taken.
var errPortInUse = errors.New("port already in use")

// spawn runs f on one OS thread that never exits. Pdeathsig is delivered when the thread
// that forked the child exits, not the process; forking from a goroutine's borrowed thread
// could kill a server as soon as the Go runtime retires that thread.
func spawn(f func()) {
	spawnerOnce.Do(func() {
		spawnerCh = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for g := range spawnerCh {
				g()
			}
		}()
	})
	done := make(chan struct{})
	spawnerCh <- func() { defer close(done); f() }
	<-done
}

var (
	spawnerOnce sync.Once
	spawnerCh   chan func()
)

// Start starts the server again (same port, same data) after Stop or Kill, and waits until
// it answers. It is an error to Start a running server.
func (p *proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked()
}

func (p *proc) startLocked() error {
	if p.cmd != nil && !isClosed(p.done) {
		return fmt.Errorf("%s is already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== testenv %s: %s %s\n", time.Now().Format(time.RFC3339Nano), p.bin, strings.Join(p.args, " "))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.base
	cmd.Env = p.env
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // own process group: signals reach the whole server
		Pdeathsig: syscall.SIGKILL, // never outlive the test binary
	}
	spawn(func() { err = cmd.Start() })
	logf.Close() // the child has its own copy
	if err != nil {
		return fmt.Errorf("starting %s: %v", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.paused = cmd, done, false
	go func() {
		err := cmd.Wait()
		p.waitErr = err // read only after <-done, which orders it
		close(done)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), p.startTimeout)
	defer cancel()
	var lastErr error
	for {
		select {
		case <-done:
			tail := p.LogTail(20)
			if strings.Contains(strings.ToLower(tail), "address already in use") {
				return fmt.Errorf("%w: %s exited:\n%s", errPortInUse, p.name, tail)
			}
			return fmt.Errorf("%s exited while starting (%v); last lines of %s:\n%s", p.name, p.exitErr(), p.logPath, tail)
		default:
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		lastErr = p.ready(pctx)
		pcancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			p.killLocked()
			return fmt.Errorf("%s not ready after %v (last probe: %v); last lines of %s:\n%s",
				p.name, p.startTimeout, lastErr, p.logPath, p.LogTail(20))
		case <-done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// exitErr returns how the process ended; call it only after done is closed.
func (p *proc) exitErr() error { return p.waitErr }

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !isClosed(p.done)
}

// Pid returns the server's process id, or 0 if it is not running.
func (p *proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.done) {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) signalLocked(sig syscall.Signal) error {
	if p.cmd == nil || isClosed(p.done) {
		return fmt.Errorf("%s is not running", p.name)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling %s: %v", p.name, err)
	}
	return nil
}

// Stop stops the server gracefully (SIGTERM, so it saves its state), or with SIGKILL if it
// has not exited after 20 s. Stopping a stopped server is a no-op.
func (p *proc) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.done) {
		return nil
	}
	if err := p.signalLocked(syscall.SIGTERM); err != nil {
		return err
	}
	if p.paused {
		// A stopped process acts on SIGTERM only once continued.
		_ = p.signalLocked(syscall.SIGCONT)
		p.paused = false
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		p.killLocked()
		return fmt.Errorf("%s did not exit within %v of SIGTERM; killed it", p.name, stopTimeout)
	}
}

// Kill kills the server's process group with SIGKILL, like a crash (the server saves
// nothing on the way out), and waits for it to exit.
func (p *proc) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.done) {
		return fmt.Errorf("%s is not running", p.name)
	}
	p.killLocked()
	return nil
}

func (p *proc) killLocked() {
	if p.cmd == nil || isClosed(p.done) {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.paused = false
}

// Pause freezes the server with SIGSTOP: connections stay open but nothing is answered,
// like a hung server or a network partition that keeps TCP up.
func (p *proc) Pause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.signalLocked(syscall.SIGSTOP); err != nil {
		return err
	}
	p.paused = true
	// kill(2) returns before every thread has stopped; a request sent right away could
	// still be answered. Wait until all threads are in state T.
	return p.waitThreads(true)
}

// waitThreads waits up to 5 s until all threads of the server are stopped (or, with
// stopped false, until none is).
func (p *proc) waitThreads(stopped bool) error {
	pid := p.cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		all, none := true, true
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // thread exited
			}
			// "pid (comm) S ...": comm may contain spaces and parens; the state follows the last ")".
			s := string(b)
			i := strings.LastIndexByte(s, ')')
			if i < 0 || i+2 >= len(s) {
				continue
			}
			if st := s[i+2]; st == 'T' || st == 't' {
				none = false
			} else {
				all = false
			}
		}
		if len(tasks) == 0 || (stopped && all) || (!stopped && none) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d): threads not all %s after 5 s", p.name, pid, map[bool]string{true: "stopped", false: "running"}[stopped])
		}
		time.Sleep(time.Millisecond)
	}
}

// Resume continues a paused server (SIGCONT).
func (p *proc) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.signalLocked(syscall.SIGCONT); err != nil {
		return err
	}
	p.paused = false
	return p.waitThreads(false)
}

// LogTail returns the last n lines of the server's log file.
func (p *proc) LogTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogPath returns the path of the server's log file (stdout and stderr of every run).
func (p *proc) LogPath() string { return p.logPath }

// DataDir returns the directory holding the server's config, data and log.
func (p *proc) DataDir() string { return p.base }
