package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chargewatch/chargewatch/internal/tlsutil/tlstest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// serve runs a TLS server with cfg on loopback that answers each
// connection with nothing (the handshake is what counts).
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// servedSerial connects trusting the CA and returns the serial number of
// the server's certificate.
func servedSerial(t *testing.T, addr string, client *tls.Config) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, client)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func TestServerCertificateReloads(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	first := ca.Issue(t, "server", time.Hour, "127.0.0.1")
	k, err := LoadKeyPair(first.CertFile, first.KeyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	k.now = clock.now
	addr := serve(t, ServerConfig(k))
	cl, err := NewClient(ClientFiles{CAFile: ca.File}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, cl.Config); got != first.Cert.SerialNumber.String() {
		t.Fatalf("served %s", got)
	}
	// A client that does not trust the CA is refused.
	if c, err := tls.Dial("tcp", addr, &tls.Config{}); err == nil {
		c.Close()
		t.Error("a client without the CA accepted the certificate")
	}

	// Renewal: the same files get a new certificate.
	second := ca.Issue(t, "server", 48*time.Hour, "127.0.0.1")
	os.Chtimes(second.CertFile, time.Now().Add(time.Second), time.Now().Add(time.Second))
	if got := servedSerial(t, addr, cl.Config); got != first.Cert.SerialNumber.String() {
		t.Error("the files were looked at again before the recheck interval")
	}
	clock.add(recheck)
	if got := servedSerial(t, addr, cl.Config); got != second.Cert.SerialNumber.String() {
		t.Errorf("after renewal served %s, want %s", got, second.Cert.SerialNumber)
	}

	// A broken renewal (a key that does not match) keeps the old pair and
	// is counted.
	other := ca.Issue(t, "other", time.Hour, "127.0.0.1")
	key, _ := os.ReadFile(other.KeyFile)
	os.WriteFile(second.KeyFile, key, 0o600)
	os.Chtimes(second.KeyFile, time.Now().Add(2*time.Second), time.Now().Add(2*time.Second))
	clock.add(recheck)
	if got := servedSerial(t, addr, cl.Config); got != second.Cert.SerialNumber.String() {
		t.Errorf("after a broken renewal served %s", got)
	}
	if k.errs.Load() != 1 {
		t.Errorf("reload errors %d, want 1", k.errs.Load())
	}

	// The expiry metric shows the certificate in use.
	e := NewExpiry()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	e.WatchKeyPair(UseHTTP, k)
	e.Watch(UseMQTTCA, func() []*x509.Certificate { return cl.CAs })
	want := fmt.Sprintf(`
# HELP chargewatch_tls_certificate_expiry_timestamp_seconds When a certificate chargewatch uses expires (its NotAfter), in Unix seconds; use is http, mqtt_ca or mqtt_client.
# TYPE chargewatch_tls_certificate_expiry_timestamp_seconds gauge
chargewatch_tls_certificate_expiry_timestamp_seconds{subject="CN=server",use="http"} %d
chargewatch_tls_certificate_expiry_timestamp_seconds{subject="CN=test CA,O=chargewatch tests",use="mqtt_ca"} %d
# HELP chargewatch_tls_certificate_reload_errors_total Times a changed certificate or key could not be loaded (the previous one stays in use).
# TYPE chargewatch_tls_certificate_reload_errors_total counter
chargewatch_tls_certificate_reload_errors_total{use="http"} 1
`, second.Cert.NotAfter.Unix(), ca.Cert.NotAfter.Unix())
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestClientCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	srv := ca.Issue(t, "server", time.Hour, "127.0.0.1")
	cli := ca.Issue(t, "gw-1", time.Hour)
	k, _ := LoadKeyPair(srv.CertFile, srv.KeyFile, nil)
	pool, _, err := LoadCAs(ca.File)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ServerConfig(k)
	cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if err := c.(*tls.Conn).Handshake(); err != nil {
			peer <- "error: " + err.Error()
			return
		}
		peer <- c.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	c, err := NewClient(ClientFiles{CAFile: ca.File, CertFile: cli.CertFile, KeyFile: cli.KeyFile, ServerName: "127.0.0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", ln.Addr().String(), c.Config)
	if err != nil {
		t.Fatal(err)
	}
	conn.Handshake()
	defer conn.Close()
	if got := <-peer; got != "gw-1" {
		t.Errorf("server saw client %q", got)
	}
}

func TestBadFiles(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	srv := ca.Issue(t, "server", time.Hour, "127.0.0.1")
	dir := t.TempDir()
	empty := dir + "/empty.pem"
	os.WriteFile(empty, []byte("not a certificate\n"), 0o644)
	for _, c := range []struct {
		files ClientFiles
		want  string
	}{
		{ClientFiles{CAFile: dir + "/missing.pem"}, "no such file"},
		{ClientFiles{CAFile: empty}, "no PEM certificate"},
		{ClientFiles{CertFile: srv.CertFile}, "cert_file and key_file go together"},
		{ClientFiles{CertFile: srv.CertFile, KeyFile: ca.File}, "certificate"},
	} {
		if _, err := NewClient(c.files, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.files, err, c.want)
		}
	}
	if _, err := LoadKeyPair(srv.CertFile, srv.CertFile, nil); err == nil {
		t.Error("a certificate as its own key loads")
	}
}
