package publish

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// subscribe collects the messages on filter.
type collector struct {
	mu   sync.Mutex
	msgs []message
}

func (c *collector) last(topic string) (message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].topic == topic {
			return c.msgs[i], true
		}
	}
	return message{}, false
}

func subscribe(t *testing.T, url, filter, user, pass string) *collector {
	t.Helper()
	c := &collector{}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("sub-" + strconv.Itoa(int(time.Now().UnixNano()%1e6))).
		SetUsername(user).SetPassword(pass)
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	tok := cl.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		c.mu.Lock()
		c.msgs = append(c.msgs, message{m.Topic(), m.Retained(), string(m.Payload())})
		c.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return c
}

// proxy forwards TCP connections to addr until cut.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, addr string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go io.Copy(up, c)
			go io.Copy(c, up)
		}
	}()
	t.Cleanup(func() { l.Close(); p.cut() })
	return p
}

// cut breaks every connection without an MQTT DISCONNECT, like a dead link.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// When the link breaks, the broker publishes the Last Will: the gateway's
// retained status turns to {"online":false}.
func TestLastWillWhenTheLinkBreaks(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	gw := "gw-will"
	status := devices.TopicFor(gw, gw, devices.ChannelStatus)
	sub := subscribe(t, mq.URL, status, "", "")
	px := newProxy(t, mq.Addr)
	d := &PahoDialer{URL: "tcp://" + px.l.Addr().String(), Gateway: gw, Username: gw, KeepAlive: 2 * time.Second, ConnectTimeout: 5 * time.Second}
	p := New(Config{Gateway: gw, ReconnectMin: time.Hour}, d, newQueue(t), nil, Options{})
	stop := run(t, p)
	defer stop()
	waitFor(t, "online status", func() bool { m, ok := sub.last(status); return ok && strings.Contains(m.payload, `"online":true`) })
	px.cut()
	waitFor(t, "the Last Will", func() bool { m, ok := sub.last(status); return ok && m.payload == string(devices.LastWill) })
	// Retained: whoever subscribes later learns the gateway is offline.
	late := subscribe(t, mq.URL, status, "", "")
	waitFor(t, "the retained status", func() bool {
		m, ok := late.last(status)
		return ok && m.retained && m.payload == string(devices.LastWill)
	})
}

// MQTT over TLS with a private CA, and username/password: a wrong password is
// refused (and never shown), the right one connects.
func TestTLSAndPassword(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile := writeCerts(t, dir)
	pwFile := filepath.Join(dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-c", "-b", pwFile, "gw-tls", "right-horse-battery").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd (Debian package mosquitto): %v\n%s", err, out)
	}
	exec.Command("mosquitto_passwd", "-b", pwFile, "reader", "reader-pw").Run()
	tlsPort := testenv.FreePort()
	mq := testenv.StartMosquitto(t,
		"allow_anonymous false",
		"password_file "+pwFile,
		"listener "+strconv.Itoa(tlsPort)+" 127.0.0.1",
		"cafile "+caFile, "certfile "+certFile, "keyfile "+keyFile,
	)
	status := devices.TopicFor("gw-tls", "gw-tls", devices.ChannelStatus)
	sub := subscribe(t, mq.URL, status, "reader", "reader-pw")

	tlsCfg, err := TLSFiles(caFile, "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	url := "ssl://127.0.0.1:" + strconv.Itoa(tlsPort)
	var logs lockedBuffer
	wrong := &PahoDialer{URL: url, Gateway: "gw-tls", Username: "gw-tls", Password: "wrong-secret-pw", TLS: tlsCfg, KeepAlive: 5 * time.Second, ConnectTimeout: 5 * time.Second}
	p := New(Config{Gateway: "gw-tls", ReconnectMin: time.Hour}, wrong, newQueue(t), nil,
		Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	stop := run(t, p)
	waitFor(t, "a refused connection", func() bool { return strings.Contains(logs.String(), "cannot connect") })
	stop()
	if strings.Contains(logs.String(), "wrong-secret-pw") {
		t.Fatalf("the password reached the log:\n%s", logs.String())
	}
	t.Logf("refused: %s", strings.TrimSpace(logs.String()))

	// Plain MQTT on the TLS port fails; TLS with the right password works.
	right := *wrong
	right.Password = "right-horse-battery"
	if _, err := (&PahoDialer{URL: "tcp://127.0.0.1:" + strconv.Itoa(tlsPort), Gateway: "gw-x", Username: "gw-tls", Password: right.Password, ConnectTimeout: 2 * time.Second}).Dial(context.Background()); err == nil {
		t.Error("plain MQTT accepted on the TLS listener")
	}
	p = New(Config{Gateway: "gw-tls"}, &right, newQueue(t), nil, Options{})
	stop = run(t, p)
	waitFor(t, "online over TLS", func() bool { m, ok := sub.last(status); return ok && strings.Contains(m.payload, `"online":true`) })
	stop()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// writeCerts makes a CA and a server certificate for 127.0.0.1.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chargewatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	write := func(path, typ string, der []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ca, "CERTIFICATE", caDER)
	write(cert, "CERTIFICATE", srvDER)
	write(key, "EC PRIVATE KEY", keyDER)
	return ca, cert, key
}
