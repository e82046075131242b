package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
)

// PahoDialer connects with github.com/eclipse/paho.mqtt.golang. Each Dial
// makes a new client with a clean session and no automatic reconnect: the
// queue, not the client, holds what is not yet acknowledged.
type PahoDialer struct {
	URL            string // tcp://host:1883, ssl://host:8883
	Gateway        string // client id and Last Will topic
	Username       string
	Password       string
	TLS            *tls.Config // nil for the defaults (system roots) on ssl:// URLs
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
	WriteTimeout   time.Duration // a publish blocked this long on a stuck connection fails
}

// Dial connects and registers the Last Will {"online":false}, retained, on
// the gateway's status topic.
func (d *PahoDialer) Dial(ctx context.Context) (Conn, error) {
	c := &pahoConn{lost: make(chan struct{})}
	o := mqtt.NewClientOptions().
		AddBroker(d.URL).
		SetClientID(d.Gateway).
		SetUsername(d.Username).
		SetPassword(d.Password).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(d.KeepAlive).
		SetPingTimeout(max(d.KeepAlive/2, time.Second)).
		SetConnectTimeout(d.ConnectTimeout).
		SetWriteTimeout(d.WriteTimeout).
		SetWill(devices.TopicFor(d.Gateway, d.Gateway, devices.ChannelStatus), string(devices.LastWill), 1, true).
		SetConnectionLostHandler(func(mqtt.Client, error) { c.markLost() })
	if d.TLS != nil {
		o.SetTLSConfig(d.TLS)
	}
	c.c = mqtt.NewClient(o)
	t := c.c.Connect()
	select {
	case <-t.Done():
	case <-ctx.Done():
		c.c.Disconnect(0)
		return nil, ctx.Err()
	}
	if err := t.Error(); err != nil {
		// paho's errors name the broker, never the password.
		return nil, fmt.Errorf("connecting to %s as %q: %w", d.URL, d.Username, err)
	}
	return c, nil
}

type pahoConn struct {
	c    mqtt.Client
	lost chan struct{}
	once sync.Once
}

func (c *pahoConn) markLost() { c.once.Do(func() { close(c.lost) }) }

func (c *pahoConn) Publish(topic string, qos byte, retained bool, payload []byte) Token {
	return c.c.Publish(topic, qos, retained, payload)
}

func (c *pahoConn) Lost() <-chan struct{} { return c.lost }

func (c *pahoConn) Close(quiesce time.Duration) {
	c.c.Disconnect(uint(quiesce / time.Millisecond))
	c.markLost()
}

// TLSFiles builds a TLS configuration from PEM files: caFile replaces the
// system roots when set, certFile and keyFile give a client certificate.
func TLSFiles(caFile, certFile, keyFile, serverName string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New(caFile + ": no PEM certificate in it")
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
