// Package config reads and checks cw-edge's YAML configuration. Decoding is
// strict: unknown keys, duplicate keys and values of the wrong type are
// errors. Every problem in a file is reported, not only the first, each with
// its line and column and the bus and device it belongs to, like
//
//	edge.yaml:14:18: bus "rs485-1", device "m-17": retries -1: cannot be negative
//
// docs/edge.md documents every key; testdata/sample.yaml is a commented
// example.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/edge/queue"
)

// Config is a gateway's configuration.
type Config struct {
	// Gateway is the gateway's registered id ([a-z0-9][a-z0-9._-]{0,63});
	// also its MQTT client id and default username. Default: required.
	Gateway string `yaml:"gateway"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Metrics is the local HTTP endpoint: /metrics (Prometheus) and
	// /healthz (status JSON).
	Metrics Metrics `yaml:"metrics"`
	// MQTT is the connection to chargewatch's broker.
	MQTT MQTT `yaml:"mqtt"`
	// Queue is the store-and-forward queue on disk that keeps readings
	// until the broker has acknowledged them.
	Queue Queue `yaml:"queue"`
	// Clock is the wall clock's sanity check: readings are held, not
	// stamped, while the clock is not synchronised.
	Clock Clock `yaml:"clock"`
	// Defaults are the polling settings every bus inherits, unless set
	// there (and every device from its bus).
	Defaults Polling `yaml:"defaults"`
	// ProfileFiles are extra profile YAML files (name = file name), for
	// models not built in.
	ProfileFiles []string `yaml:"profile_files"`
	// Buses are the RS-485 lines and Modbus TCP endpoints to poll, each
	// with its devices. Default: required (at least one).
	Buses []Bus `yaml:"buses"`

	// Profiles holds every profile a device uses, by name, once Load succeeded.
	Profiles map[string]*profile.Profile `yaml:"-"`
}

// Metrics configures the local HTTP endpoint.
type Metrics struct {
	// Listen is host:port of /metrics and /healthz; "off" disables it.
	Listen string `yaml:"listen"`
}

// MQTT configures the connection to the broker.
type MQTT struct {
	// URL is the broker: tcp:// or mqtt:// (plain), ssl://, tls:// or
	// mqtts:// (TLS); credentials may not be in the URL. Default: required.
	URL string `yaml:"url"`
	// Username is the gateway's broker account (chargewatch mqtt-auth
	// makes one per gateway, named as the gateway). Default: the gateway id.
	Username string `yaml:"username"`
	// Password is the account's password, written in this config file; prefer
	// password_file. Set one of the two, not both. Default: none.
	Password string `yaml:"password"`
	// PasswordFile holds the password on its first line (mode 0600; others
	// are refused), as `chargewatch mqtt-auth secret` writes it. Default: none.
	PasswordFile string `yaml:"password_file"`
	// TLS is for ssl://, tls:// and mqtts:// URLs: a private CA, a client
	// certificate, the name to verify.
	TLS *TLS `yaml:"tls"`
	// KeepAlive is the MQTT keepalive interval: the client pings an idle
	// connection this often.
	KeepAlive time.Duration `yaml:"keepalive"`
	// ConnectTimeout bounds one connection attempt (TCP, TLS and CONNECT).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ReconnectMin is the first wait before reconnecting; the wait doubles
	// (with jitter) up to reconnect_max.
	ReconnectMin time.Duration `yaml:"reconnect_min"`
	// ReconnectMax is the longest wait between reconnection attempts.
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// AckTimeout: a publish not acknowledged by then breaks the connection;
	// readings are republished.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// BatchWait is how long readings are gathered before publishing.
	BatchWait time.Duration `yaml:"batch_wait"`
	// MaxBatch is readings per message (contract limit 500; messages are
	// also kept under 64 KiB).
	MaxBatch int `yaml:"max_batch"`
	// MaxInflight: a round reads up to max_batch x max_inflight readings
	// and publishes them (one message per device at least) before waiting
	// for the PUBACKs.
	MaxInflight int `yaml:"max_inflight"`
	// StatusInterval is how often the retained status with health fields
	// is published.
	StatusInterval time.Duration `yaml:"status_interval"`
}

// TLS configures TLS to the broker.
type TLS struct {
	// CAFile holds the CA certificates (PEM) to verify the broker with.
	// Default: the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile is a client certificate (PEM), with key_file. Default: none.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the client certificate's private key (PEM). Default: none.
	KeyFile string `yaml:"key_file"`
	// ServerName is the name to verify in the broker's certificate.
	// Default: the host of mqtt.url.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify skips verifying the broker's certificate: for a
	// bench test only, never in the field.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Queue configures the store-and-forward queue.
type Queue struct {
	// Dir is the queue's directory (segments and acknowledgement cursor).
	Dir string `yaml:"dir"`
	// MaxBytes bounds the queue on disk (at least 1MiB); at the bound the
	// oldest segment is dropped whole and counted. Default: room for
	// max_age of the configured devices' readings (printed by cw-edge check).
	MaxBytes ByteSize `yaml:"max_bytes"`
	// MaxAge drops readings older than this; must be shorter than the
	// ingest window (10 days).
	MaxAge time.Duration `yaml:"max_age"`
	// Fsync is the fsync policy: always, interval or never (docs/edge.md,
	// "Durability": what a kill -9 or a power cut can lose with each).
	Fsync string `yaml:"fsync"`
	// FsyncInterval is how often the queue is synced with fsync: interval.
	FsyncInterval time.Duration `yaml:"fsync_interval"`
}

// Clock configures the clock sanity check.
type Clock struct {
	// Floor: a wall clock before this is not synchronised.
	Floor Date `yaml:"floor"`
	// MaxHeld is how many readings are held in memory while the clock is
	// not synchronised; beyond it they are dropped and counted
	// (chargewatch_edge_held_dropped_readings_total).
	MaxHeld int `yaml:"max_held"`
}

// Polling holds the settings a bus or device may inherit.
type Polling struct {
	// Interval is how often each device is read. Default: inherited from
	// the level above (defaults, then the bus).
	Interval time.Duration `yaml:"interval"`
	// Timeout is how long to wait for one answer. Default: inherited from
	// the level above (defaults, then the bus).
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many further attempts a failed request gets.
	// Default: inherited from the level above (defaults, then the bus).
	Retries *int `yaml:"retries"`
}

// Bus is one RS-485 line or one Modbus TCP endpoint.
type Bus struct {
	// Name names the bus in logs, metrics and errors, e.g. rs485-1.
	// Default: required.
	Name string `yaml:"name"`
	// Transport is rtu (RS-485 serial) or tcp (Modbus TCP). Default: required.
	Transport string `yaml:"transport"`
	// Address is host:port of a TCP meter or an RS-485-to-TCP gateway.
	// Default: required for tcp.
	Address string `yaml:"address"`
	// Port is the serial device, e.g. /dev/ttyS1. Default: required for rtu.
	Port string `yaml:"port"`
	// Baud is the line speed: 1200 to 115200, the devices' setting.
	// Default: required for rtu.
	Baud int `yaml:"baud"`
	// DataBits is 8 or 7 (rtu). Default: 8.
	DataBits int `yaml:"data_bits"`
	// Parity is N (none), E (even) or O (odd) (rtu). Default: N.
	Parity string `yaml:"parity"`
	// StopBits is 1 or 2 (rtu). Default: 1.
	StopBits int `yaml:"stop_bits"`
	Polling  `yaml:",inline"`
	// Devices are the slaves on the bus. Default: required (at least one).
	Devices []Device `yaml:"devices"`
}

func (b *Bus) context(_ string, i int, m map[string]string) string {
	if n := m["name"]; n != "" {
		return fmt.Sprintf("bus %q", n)
	}
	return fmt.Sprintf("bus #%d", i+1)
}

// Device is one slave on a bus.
type Device struct {
	// ID is the device id registered on the server, unique per gateway.
	// Default: required.
	ID string `yaml:"id"`
	// Profile is the register map: a built-in profile or one of
	// profile_files. Default: required.
	Profile string `yaml:"profile"`
	// Slave is the Modbus address: 1-247 (rtu), 0-255 (tcp unit id),
	// unique per bus. Default: required.
	Slave int `yaml:"slave"`
	// Function 3 or 4 overrides the profile's function codes, for firmware
	// that answers the other one. Default: the profile's.
	Function int `yaml:"function"`
	// Ports is how many ports of a multi-port profile (a pile controller)
	// are read. Default: the profile's.
	Ports int `yaml:"ports"`
	// MaxBlock is registers per request (2-125), for devices that cannot
	// answer 125. Default: 125.
	MaxBlock int `yaml:"max_block"`
	Polling  `yaml:",inline"`
}

func (d *Device) context(parent string, i int, m map[string]string) string {
	if id := m["id"]; id != "" {
		return fmt.Sprintf("%s, device %q", parent, id)
	}
	return fmt.Sprintf("%s, device #%d", parent, i+1)
}

// Defaults.
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = time.Second
	DefaultRetries  = 2
	DefaultMaxAge   = 7 * 24 * time.Hour
	DefaultQueueDir = "/var/lib/cw-edge/queue"
	DefaultMetrics  = "127.0.0.1:9108"
	DefaultMaxHeld  = 20000
)

var baudRates = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}

// Load reads, checks and completes the config file at path. On failure the
// error is an Errors listing every problem.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), filepath.Dir(path), b)
}

// Parse checks and completes a config. name is the file name errors are
// reported against; dir resolves relative profile_files.
func Parse(name, dir string, data []byte) (*Config, error) {
	d := &decoder{file: name, nodes: map[string]*yaml.Node{}, bad: map[string]bool{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		var te *yaml.TypeError
		msg := err.Error()
		if errors.As(err, &te) {
			msg = strings.Join(te.Errors, "; ")
		}
		return nil, Errors{{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
	}
	c := &Config{}
	if root.Kind == 0 {
		return nil, Errors{{File: name, Msg: "the file is empty: see docs/edge.md for a sample config"}}
	}
	d.decode(&root, reflectValue(c), "", "")
	v := &validator{decoder: d, dir: dir}
	if !d.bad[""] {
		v.checkPollings(c) // before the defaults copy them down
		c.applyDefaults()
		v.check(c)
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, d.errs
	}
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Metrics.Listen == "" {
		c.Metrics.Listen = DefaultMetrics
	}
	m := &c.MQTT
	if m.Username == "" {
		m.Username = c.Gateway
	}
	setDur(&m.KeepAlive, 30*time.Second)
	setDur(&m.ConnectTimeout, 10*time.Second)
	setDur(&m.ReconnectMin, time.Second)
	setDur(&m.ReconnectMax, 2*time.Minute)
	setDur(&m.AckTimeout, 20*time.Second)
	setDur(&m.BatchWait, time.Second)
	setDur(&m.StatusInterval, time.Minute)
	if m.MaxBatch == 0 {
		m.MaxBatch = devices.DefaultLimits().MaxReadings
	}
	if m.MaxInflight == 0 {
		m.MaxInflight = 16
	}
	q := &c.Queue
	if q.Dir == "" {
		q.Dir = DefaultQueueDir
	}
	setDur(&q.MaxAge, DefaultMaxAge)
	if q.Fsync == "" {
		q.Fsync = string(queue.SyncInterval)
	}
	setDur(&q.FsyncInterval, time.Second)
	if c.Clock.Floor.IsZero() {
		c.Clock.Floor = Date{clock.Floor}
	}
	if c.Clock.MaxHeld == 0 {
		c.Clock.MaxHeld = DefaultMaxHeld
	}
	setDur(&c.Defaults.Interval, DefaultInterval)
	setDur(&c.Defaults.Timeout, DefaultTimeout)
	if c.Defaults.Retries == nil {
		r := DefaultRetries
		c.Defaults.Retries = &r
	}
	for i := range c.Buses {
		b := &c.Buses[i]
		inherit(&b.Polling, c.Defaults)
		if b.Transport == modbus.RTU {
			if b.DataBits == 0 {
				b.DataBits = 8
			}
			if b.StopBits == 0 {
				b.StopBits = 1
			}
			if b.Parity == "" {
				b.Parity = "N"
			}
		}
		for j := range b.Devices {
			inherit(&b.Devices[j].Polling, b.Polling)
		}
	}
}

func setDur(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func inherit(p *Polling, from Polling) {
	setDur(&p.Interval, from.Interval)
	setDur(&p.Timeout, from.Timeout)
	if p.Retries == nil {
		p.Retries = from.Retries
	}
}

// validator checks the meaning of a decoded config.
type validator struct {
	*decoder
	dir string
}

// at returns the node of a path, or of its key, for error positions.
func (v *validator) at(path string) *yaml.Node {
	if n, ok := v.nodes[path]; ok {
		return n
	}
	for path != "" {
		if n, ok := v.nodes[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			path = ""
			break
		}
		path = path[:i]
	}
	return v.nodes[""]
}

// fail reports a problem with the value at path, unless that value already
// failed to decode (one error per mistake).
func (v *validator) fail(path, ctx, format string, args ...any) {
	for p := path; ; {
		if v.bad[p] {
			return
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	v.errAt(v.at(path), ctx, format, args...)
}

// checkPollings checks interval, timeout and retries where they are written,
// before defaults are inherited.
func (v *validator) checkPollings(c *Config) {
	v.checkPolling("defaults", "defaults", c.Defaults)
	for i := range c.Buses {
		b := &c.Buses[i]
		bp := fmt.Sprintf("buses[%d]", i)
		ctx := b.context("", i, map[string]string{"name": b.Name})
		v.checkPolling(bp, ctx, b.Polling)
		for j := range b.Devices {
			d := &b.Devices[j]
			v.checkPolling(fmt.Sprintf("%s.devices[%d]", bp, j), d.context(ctx, j, map[string]string{"id": d.ID}), d.Polling)
		}
	}
}

func (v *validator) check(c *Config) {
	if c.Gateway == "" {
		v.fail("gateway", "", "gateway: missing: set the gateway id the broker knows this gateway by")
	} else if !devices.ValidID(c.Gateway) {
		v.fail("gateway", "", "gateway %q: ids are lower case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 long", c.Gateway)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		v.fail("log_level", "", "log_level %q: use debug, info, warn or error", c.LogLevel)
	}
	if l := c.Metrics.Listen; l != "off" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			v.fail("metrics.listen", "metrics", "listen %q: use host:port, e.g. 127.0.0.1:9108, or off", l)
		}
	}
	v.checkMQTT(&c.MQTT)
	v.checkQueue(&c.Queue)
	if c.Clock.MaxHeld < 0 {
		v.fail("clock.max_held", "clock", "max_held %d cannot be negative", c.Clock.MaxHeld)
	}
	c.Profiles = map[string]*profile.Profile{}
	custom := v.loadProfileFiles(c)
	if len(c.Buses) == 0 {
		v.fail("buses", "", "buses: none configured: add at least one bus with its devices")
	}
	busNames := map[string]bool{}
	ids := map[string]string{} // device id -> where it was first seen
	for i := range c.Buses {
		b := &c.Buses[i]
		bp := fmt.Sprintf("buses[%d]", i)
		ctx := b.context("", i, map[string]string{"name": b.Name})
		if v.bad[bp] {
			continue
		}
		v.checkBus(b, bp, ctx, busNames)
		slaves := map[int]string{}
		if len(b.Devices) == 0 {
			v.fail(bp+".devices", ctx, "devices: none configured on this bus")
		}
		for j := range b.Devices {
			dv := &b.Devices[j]
			dp := fmt.Sprintf("%s.devices[%d]", bp, j)
			dctx := dv.context(ctx, j, map[string]string{"id": dv.ID})
			if v.bad[dp] {
				continue
			}
			v.checkDevice(c, b, dv, dp, dctx, custom)
			if dv.ID != "" {
				if first, dup := ids[dv.ID]; dup {
					v.fail(dp+".id", dctx, "id %q is already used by a device of %s: device ids are unique per gateway", dv.ID, first)
				} else {
					ids[dv.ID] = ctx
				}
			}
			if dv.Slave != 0 {
				if other, dup := slaves[dv.Slave]; dup {
					v.fail(dp+".slave", dctx, "slave %d is also device %q on this bus: every device on a bus needs its own slave id", dv.Slave, other)
				} else {
					slaves[dv.Slave] = dv.ID
				}
			}
		}
	}
}

func (v *validator) checkMQTT(m *MQTT) {
	const ctx = "mqtt"
	if m.URL == "" {
		v.fail("mqtt.url", ctx, "url: missing: set the broker, e.g. tcp://broker.example.com:1883 or ssl://broker.example.com:8883")
	} else if u, err := url.Parse(m.URL); err != nil || u.Host == "" || u.Port() == "" {
		v.fail("mqtt.url", ctx, "url %q: write it as scheme://host:port, e.g. tcp://broker.example.com:1883", m.URL)
	} else {
		switch u.Scheme {
		case "tcp", "mqtt", "ssl", "tls", "mqtts":
		default:
			v.fail("mqtt.url", ctx, "url %q: scheme %q: use tcp (or mqtt) for plain MQTT, ssl (or tls, mqtts) for MQTT over TLS", m.URL, u.Scheme)
		}
		if u.User != nil {
			v.fail("mqtt.url", ctx, "url: put the user name and password in username and password (or password_file), not in the URL")
		}
	}
	if _, set := v.nodes["mqtt.username"]; set && !devices.ValidID(m.Username) {
		// The broker's ACL confines a gateway to cw/v1/<username>/#.
		v.fail("mqtt.username", ctx, "username %q is not a valid gateway id (the broker ACL matches it against the topic)", m.Username)
	}
	if m.Password != "" && m.PasswordFile != "" {
		v.fail("mqtt.password_file", ctx, "password and password_file are both set: keep one")
	}
	if m.PasswordFile != "" {
		if _, err := readLimited(m.PasswordFile, maxSecretFile); err != nil {
			v.fail("mqtt.password_file", ctx, "password_file: %v", errText(err))
		}
	}
	if t := m.TLS; t != nil {
		for _, f := range []struct{ key, path string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
			if f.path == "" {
				continue
			}
			if _, err := os.Stat(f.path); err != nil {
				v.fail("mqtt.tls."+f.key, "mqtt.tls", "%s: %v", f.key, errText(err))
			}
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			v.fail("mqtt.tls", "mqtt.tls", "cert_file and key_file go together: set both for a client certificate, or neither")
		}
		if u, err := url.Parse(m.URL); err == nil && (u.Scheme == "tcp" || u.Scheme == "mqtt") {
			v.fail("mqtt.tls", "mqtt.tls", "tls is set but url %q is plain MQTT: use ssl://", m.URL)
		}
	}
	pos := func(key string, d time.Duration, minimum time.Duration) {
		if d < minimum {
			v.fail("mqtt."+key, ctx, "%s %s: must be at least %s", key, fmtDuration(d), fmtDuration(minimum))
		}
	}
	pos("keepalive", m.KeepAlive, time.Second)
	pos("connect_timeout", m.ConnectTimeout, 100*time.Millisecond)
	pos("reconnect_min", m.ReconnectMin, 10*time.Millisecond)
	pos("ack_timeout", m.AckTimeout, 100*time.Millisecond)
	pos("batch_wait", m.BatchWait, 0)
	pos("status_interval", m.StatusInterval, time.Second)
	if m.ReconnectMax < m.ReconnectMin {
		v.fail("mqtt.reconnect_max", ctx, "reconnect_max %s is shorter than reconnect_min %s", fmtDuration(m.ReconnectMax), fmtDuration(m.ReconnectMin))
	}
	if lim := devices.DefaultLimits().MaxReadings; m.MaxBatch < 1 || m.MaxBatch > lim {
		v.fail("mqtt.max_batch", ctx, "max_batch %d: a message carries 1 to %d readings", m.MaxBatch, lim)
	}
	if m.MaxInflight < 1 || m.MaxInflight > 1000 {
		v.fail("mqtt.max_inflight", ctx, "max_inflight %d: use 1 to 1000 messages", m.MaxInflight)
	}
}

func (v *validator) checkQueue(q *Queue) {
	const ctx = "queue"
	if q.MaxBytes != 0 && q.MaxBytes < 1<<20 {
		v.fail("queue.max_bytes", ctx, "max_bytes %s: at least 1MiB, or leave it out for room for max_age of readings", formatSize(int64(q.MaxBytes)))
	}
	window := devices.DefaultLimits().MaxPast
	if q.MaxAge <= 0 || q.MaxAge >= window {
		v.fail("queue.max_age", ctx, "max_age %s: must be positive and shorter than the ingest window of %s, beyond which the server rejects readings", fmtDuration(q.MaxAge), fmtDuration(window))
	}
	switch queue.SyncPolicy(q.Fsync) {
	case queue.SyncAlways, queue.SyncInterval, queue.SyncNever:
	default:
		v.fail("queue.fsync", ctx, "fsync %q: use always, interval or never (see docs/edge.md for what a power cut can lose)", q.Fsync)
	}
	if q.FsyncInterval < 10*time.Millisecond {
		v.fail("queue.fsync_interval", ctx, "fsync_interval %s: must be at least 10ms", fmtDuration(q.FsyncInterval))
	}
}

func (v *validator) checkPolling(path, ctx string, p Polling) {
	if p.Interval != 0 && p.Interval < 10*time.Millisecond {
		v.fail(path+".interval", ctx, "interval %s: must be at least 10ms", fmtDuration(p.Interval))
	}
	if p.Timeout != 0 && p.Timeout < 10*time.Millisecond {
		v.fail(path+".timeout", ctx, "timeout %s: must be at least 10ms", fmtDuration(p.Timeout))
	}
	if p.Retries != nil && (*p.Retries < 0 || *p.Retries > 10) {
		msg := "at most 10"
		if *p.Retries < 0 {
			msg = "cannot be negative"
		}
		v.fail(path+".retries", ctx, "retries %d: %s", *p.Retries, msg)
	}
}

func (v *validator) checkBus(b *Bus, bp, ctx string, names map[string]bool) {
	switch {
	case b.Name == "":
		v.fail(bp+".name", ctx, "name: missing: name the bus, e.g. rs485-1")
	case names[b.Name]:
		v.fail(bp+".name", ctx, "name %q is used by another bus", b.Name)
	}
	names[b.Name] = true
	rtuOnly := func() {
		for _, k := range []struct {
			key string
			set bool
		}{{"port", b.Port != ""}, {"baud", b.Baud != 0}, {"data_bits", b.DataBits != 0}, {"parity", b.Parity != ""}, {"stop_bits", b.StopBits != 0}} {
			if k.set {
				v.fail(bp+"."+k.key+"#key", ctx, "%s is a serial (rtu) setting: a tcp bus takes address", k.key)
			}
		}
	}
	switch b.Transport {
	case modbus.TCP:
		rtuOnly()
		if b.Address == "" {
			v.fail(bp+".address", ctx, "address: missing: set host:port of the Modbus TCP device or gateway, e.g. 192.168.1.50:502")
		} else if _, port, err := net.SplitHostPort(b.Address); err != nil || port == "" {
			v.fail(bp+".address", ctx, "address %q: write it as host:port, e.g. 192.168.1.50:502", b.Address)
		}
	case modbus.RTU:
		if b.Address != "" {
			v.fail(bp+".address#key", ctx, "address is a tcp setting: an rtu bus takes port (the serial device)")
		}
		if b.Port == "" {
			v.fail(bp+".port", ctx, "port: missing: set the serial device, e.g. /dev/ttyS1 or /dev/ttyUSB0")
		}
		if !slices.Contains(baudRates, b.Baud) {
			v.fail(bp+".baud", ctx, "baud %d: use one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200 (the device's setting)", b.Baud)
		}
		if b.DataBits != 7 && b.DataBits != 8 {
			v.fail(bp+".data_bits", ctx, "data_bits %d: use 8 (or 7)", b.DataBits)
		}
		if b.Parity != "N" && b.Parity != "E" && b.Parity != "O" {
			v.fail(bp+".parity", ctx, "parity %q: use N (none), E (even) or O (odd)", b.Parity)
		}
		if b.StopBits != 1 && b.StopBits != 2 {
			v.fail(bp+".stop_bits", ctx, "stop_bits %d: use 1 or 2", b.StopBits)
		}
	case "":
		v.fail(bp+".transport", ctx, "transport: missing: use rtu (RS-485 serial) or tcp (Modbus TCP)")
	default:
		v.fail(bp+".transport", ctx, "transport %q: use rtu (RS-485 serial) or tcp (Modbus TCP)", b.Transport)
	}
}

func (v *validator) checkDevice(c *Config, b *Bus, d *Device, dp, ctx string, custom map[string]*profile.Profile) {
	if d.ID == "" {
		v.fail(dp+".id", ctx, "id: missing: set the device id registered on the server")
	} else if !devices.ValidID(d.ID) {
		v.fail(dp+".id", ctx, "id %q: ids are lower case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 long", d.ID)
	}
	lo, hi := 1, 247
	if b.Transport == modbus.TCP {
		lo, hi = 0, 255
	}
	switch {
	case d.Slave == 0 && v.nodes[dp+".slave"] == nil:
		v.fail(dp, ctx, "slave: missing: set the device's Modbus address (%d-%d)", max(lo, 1), hi)
	case d.Slave < lo || d.Slave > hi:
		v.fail(dp+".slave", ctx, "slave %d: Modbus %s addresses are %d-%d", d.Slave, b.Transport, lo, hi)
	}
	if d.Function != 0 && d.Function != 3 && d.Function != 4 {
		v.fail(dp+".function", ctx, "function %d: use 3 (holding registers) or 4 (input registers)", d.Function)
	}
	if d.MaxBlock != 0 && (d.MaxBlock < 2 || d.MaxBlock > profile.MaxRegisters) {
		v.fail(dp+".max_block", ctx, "max_block %d: use 2 to %d registers", d.MaxBlock, profile.MaxRegisters)
	}
	if d.Profile == "" {
		v.fail(dp+".profile", ctx, "profile: missing: use one of %s", strings.Join(profileNames(custom), ", "))
		return
	}
	p := custom[d.Profile]
	if p == nil {
		var err error
		if p, err = profile.Load(d.Profile); err != nil {
			v.fail(dp+".profile", ctx, "profile %q is unknown: use one of %s", d.Profile, strings.Join(profileNames(custom), ", "))
			return
		}
	}
	c.Profiles[d.Profile] = p
	switch {
	case d.Ports != 0 && p.Ports == nil:
		v.fail(dp+".ports", ctx, "ports: profile %s has one port", p.Name)
	case d.Ports != 0 && (d.Ports < 1 || d.Ports > p.Ports.Max):
		v.fail(dp+".ports", ctx, "ports %d: profile %s has room for 1 to %d", d.Ports, p.Name, p.Ports.Max)
	}
}

func (v *validator) loadProfileFiles(c *Config) map[string]*profile.Profile {
	m := map[string]*profile.Profile{}
	for i, f := range c.ProfileFiles {
		path := f
		if !filepath.IsAbs(path) {
			path = filepath.Join(v.dir, path)
		}
		where := v.at(fmt.Sprintf("profile_files[%d]", i))
		b, err := readLimited(path, maxProfileFile)
		if err != nil {
			v.errAt(where, "profile_files", "%s: %v", f, errText(err))
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		p, err := profile.Parse(name, b)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				v.errAt(where, "profile_files", "%s: %s", f, line)
			}
			continue
		}
		m[name] = p
	}
	return m
}

func profileNames(custom map[string]*profile.Profile) []string {
	names := profile.Names()
	for n := range custom {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v", pe.Path, pe.Err)
	}
	return err.Error()
}

// --- what the rest of cw-edge needs --------------------------------------------------------

// ModbusBuses returns the bus configurations for edge/modbus.
func (c *Config) ModbusBuses() []modbus.BusConfig {
	var out []modbus.BusConfig
	for _, b := range c.Buses {
		bc := modbus.BusConfig{Name: b.Name, Transport: b.Transport, Address: b.Address,
			Serial: modbus.SerialConfig{Device: b.Port, Baud: b.Baud, DataBits: b.DataBits, Parity: b.Parity, StopBits: b.StopBits}}
		for _, d := range b.Devices {
			bc.Devices = append(bc.Devices, modbus.Device{
				ID: d.ID, Slave: uint8(d.Slave), Profile: c.Profiles[d.Profile].WithFunction(uint8(d.Function)),
				Ports: d.Ports, Interval: d.Interval, Timeout: d.Timeout, Retries: *d.Retries, MaxBlock: d.MaxBlock,
			})
		}
		out = append(out, bc)
	}
	return out
}

// ReadingsPerDay estimates the readings the devices produce in a day.
func (c *Config) ReadingsPerDay() float64 {
	var n float64
	for _, b := range c.Buses {
		for _, d := range b.Devices {
			p := c.Profiles[d.Profile]
			n += float64(p.PortCount(d.Ports)) * float64(24*time.Hour) / float64(d.Interval)
		}
	}
	return n
}

// QueueMaxBytes is queue.max_bytes, or when it is not set, room for
// queue.max_age of the configured devices' readings on disk.
func (c *Config) QueueMaxBytes() int64 {
	if c.Queue.MaxBytes > 0 {
		return int64(c.Queue.MaxBytes)
	}
	var perDay float64
	for _, b := range c.Buses {
		for _, d := range b.Devices {
			p := c.Profiles[d.Profile]
			// Queue record: 16 bytes of header, the id, ~16 bytes of ts, seq and field
			// set, 8 bytes a value (port included).
			size := 16 + len(d.ID) + 18 + 8*(len(p.Registers)+1)
			perDay += float64(size) * float64(p.PortCount(d.Ports)) * float64(24*time.Hour) / float64(d.Interval)
		}
	}
	days := c.Queue.MaxAge.Hours() / 24
	return max(int64(perDay*days*1.1), 1<<20)
}

// Password returns the MQTT password, read from password_file if set.
func (c *Config) Password() (string, error) {
	if c.MQTT.PasswordFile == "" {
		return c.MQTT.Password, nil
	}
	b, err := readLimited(c.MQTT.PasswordFile, maxSecretFile)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Limits on files a config names, so that a path like /dev/zero gives an
// error instead of a hang.
const (
	maxSecretFile  = 4 << 10
	maxProfileFile = 1 << 20
)

// readLimited reads a file that must not be larger than max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: is it the right file?", path, max)
	}
	return b, nil
}

// Summary describes a valid config in a few lines, for cw-edge check.
func (c *Config) Summary() string {
	var b strings.Builder
	n := 0
	for _, bus := range c.Buses {
		n += len(bus.Devices)
	}
	fmt.Fprintf(&b, "gateway %s: %d buses, %d devices, about %.0f readings a day\n", c.Gateway, len(c.Buses), n, c.ReadingsPerDay())
	for _, bus := range c.Buses {
		where := bus.Address
		if bus.Transport == modbus.RTU {
			where = fmt.Sprintf("%s %d %d%s%d", bus.Port, bus.Baud, bus.DataBits, bus.Parity, bus.StopBits)
		}
		fmt.Fprintf(&b, "  bus %s (%s %s):", bus.Name, bus.Transport, where)
		for _, d := range bus.Devices {
			fmt.Fprintf(&b, " %s=%s@%d", d.ID, d.Profile, d.Slave)
		}
		b.WriteByte('\n')
	}
	bound := "set by max_bytes"
	if c.Queue.MaxBytes == 0 {
		bound = fmt.Sprintf("room for %s of readings", fmtDuration(c.Queue.MaxAge))
	}
	fmt.Fprintf(&b, "  mqtt %s as %s\n", c.MQTT.URL, c.MQTT.Username)
	fmt.Fprintf(&b, "  queue %s: at most %s (%s), readings older than %s dropped, fsync %s\n",
		c.Queue.Dir, formatSize(c.QueueMaxBytes()), bound, fmtDuration(c.Queue.MaxAge), c.Queue.Fsync)
	return b.String()
}
