package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Mosquitto is a running (or stopped) Mosquitto broker on 127.0.0.1. Besides the fields, it
// has the control methods Start, Stop, Kill, Pause, Resume, Reload, Pid, LogTail, LogPath and
// DataDir.
type Mosquitto struct {
	Addr string // "127.0.0.1:port"
	URL  string // "tcp://127.0.0.1:port", for paho's AddBroker
	Port int
	proc
}

const portAttempts = 5

func newMosquitto(bin string, extraConfig []string) (*Mosquitto, error) {
	base, err := newBaseDir("mosquitto")
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(base, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		os.RemoveAll(base)
		return nil, err
	}
	confPath := filepath.Join(base, "mosquitto.conf")
	m := &Mosquitto{proc: proc{
		name:         "mosquitto",
		bin:          bin,
		args:         []string{"-c", confPath},
		base:         base,
		logPath:      filepath.Join(base, "mosquitto.log"),
		startTimeout: 15 * time.Second,
	}}
	m.ready = func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", m.Addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	for attempt := 1; ; attempt++ {
		m.Port = FreePort()
		m.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port))
		m.URL = "tcp://" + m.Addr
		conf, err := renderTemplate("deploy/mosquitto/mosquitto.conf", map[string]string{
			"PORT":     strconv.Itoa(m.Port),
			"DATA_DIR": dataDir,
			"USER":     currentUser(),
		})
		if err != nil {
			os.RemoveAll(base)
			return nil, err
		}
		if len(extraConfig) > 0 {
			conf += "\n# added by testenv.StartMosquitto\n" + strings.Join(extraConfig, "\n") + "\n"
		}
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			os.RemoveAll(base)
			return nil, err
		}
		err = m.Start()
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == portAttempts {
			os.RemoveAll(base)
			return nil, fmt.Errorf("mosquitto: %v", err)
		}
	}
}

// Reload sends the broker SIGHUP, as `kill -HUP` or `systemctl reload mosquitto` do: Mosquitto
// re-reads its password file, ACL and certificates and disconnects the clients the new files no
// longer allow. It returns once the signal is sent, before the broker has acted on it: wait for
// what the reload should cause (a client's connection-lost callback), not for time. A paused
// broker acts on it when resumed.
func (m *Mosquitto) Reload() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.signalLocked(syscall.SIGHUP)
}

// currentUser is the name mosquitto should run as when started as root (its "user" option):
// the user running the tests, so that it can write into the temp dirs they own.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return strconv.Itoa(os.Getuid())
}
