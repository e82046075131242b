package ingest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// dialBuffered opens the broker connection for paho with buffered reads and
// coalesced writes. Paho reads each packet's fixed header a byte at a time
// straight from the socket and writes every PUBACK with its own syscall;
// measured here, those syscalls cost more CPU than decoding, validating and
// logging the message. Buffering changes nothing in what is sent: writes
// wait at most writeDelay (or until maxPending bytes are waiting) and go to
// the socket in one syscall. The acker acknowledges a whole group commit at
// once, so a few hundred microseconds turn a syscall per PUBACK into one per
// group; against the 2 ms group commit the delay is small.
func dialBuffered(uri *url.URL, opts mqtt.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: opts.ConnectTimeout}
	var conn net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		conn, err = d.Dial("tcp", uri.Host)
	case "ssl", "tls", "mqtts", "tcps":
		conn, err = (&tls.Dialer{NetDialer: d, Config: opts.TLSConfig}).Dial("tcp", uri.Host)
	default:
		return nil, fmt.Errorf("broker URL %q: scheme %q is not supported: use tcp:// or ssl://", uri.Redacted(), uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return newBufConn(conn), nil
}

// maxPending bounds the bytes waiting to be written; beyond it Write waits
// for the socket.
const maxPending = 1 << 20

// writeDelay is the longest a write waits for others to join it.
const writeDelay = 300 * time.Microsecond

type bufConn struct {
	net.Conn
	r *bufio.Reader

	wmu  sync.Mutex // serialises writes to the socket
	mu   sync.Mutex // guards buf, err, done
	buf  []byte
	out  []byte // the buffer being written; swapped with buf to reuse both
	err  error
	done bool
	kick chan struct{}
	stop chan struct{}
	once sync.Once
	// wait lets a burst of writes join before a flush (writeDelay); false
	// when the connection closed meanwhile. Tests replace it.
	wait func(stop <-chan struct{}) bool
}

// waitWriteDelay waits writeDelay, or until stop closes.
func waitWriteDelay(stop <-chan struct{}) bool {
	t := time.NewTimer(writeDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

func newBufConn(c net.Conn) *bufConn {
	b := &bufConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), kick: make(chan struct{}, 1), stop: make(chan struct{}), wait: waitWriteDelay}
	go b.flusher()
	return b
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if c.done {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.buf = append(c.buf, p...)
	full := len(c.buf) >= maxPending
	c.mu.Unlock()
	if full {
		if err := c.flush(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

// flush writes everything pending.
func (c *bufConn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	out := c.buf
	c.buf = c.out[:0]
	c.out = out
	err := c.err
	c.mu.Unlock()
	if err != nil || len(out) == 0 {
		return err
	}
	c.Conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Conn.Write(out); err != nil {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		c.Conn.Close() // the reader notices and paho reconnects
		return err
	}
	return nil
}

func (c *bufConn) flusher() {
	for {
		select {
		case <-c.kick:
			// Let the rest of a burst (the acks of a group commit) join.
			if !c.wait(c.stop) {
				return
			}
			c.flush()
		case <-c.stop:
			return
		}
	}
}

// Close writes what is pending (a DISCONNECT, say) and closes.
func (c *bufConn) Close() error {
	c.flush()
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.once.Do(func() { close(c.stop) })
	return c.Conn.Close()
}

// noStore is paho's message store for the ingester: none. Paho keeps every
// inbound QoS 1 packet in its store until the PUBACK is sent, and outbound
// packets until they are acknowledged, to resend them on a reconnect. The
// ingester publishes nothing, resubscribes itself on every connection, and
// never acks a message of an earlier connection: the broker redelivers what
// was not acknowledged (the persistent session). A store would only cost a
// map insert and delete under a mutex per message.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
