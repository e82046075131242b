package ingest

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// dialConn opens a broker connection for paho on which the session reads
// its PUBLISH packets and writes its PUBACKs itself.
//
// Paho reads each packet's fixed header a byte at a time straight from the
// socket, then hands every PUBLISH through four goroutines (reader, comms,
// forwarder, router) with half a dozen allocations (the packet, the message,
// the ack closure, a store key); every PUBACK took three more hand-offs and
// its own write syscall. Measured here, that cost more CPU than decoding,
// validating and logging the message. So, below paho:
//
//   - reads are buffered;
//   - take (when not nil) sees every PUBLISH first, in the reading
//     goroutine, in arrival order, and handles it there; what take leaves
//     (and every other packet: CONNACK, SUBACK, PINGRESP) is passed to paho
//     byte for byte, so paho still runs the connection: connect, subscribe,
//     keepalive, reconnect, and the handlers of the topics take leaves;
//   - the acker writes the PUBACKs of a whole group commit, in arrival
//     order, in one write, to the connection the messages arrived on.
//
// Paho's own packets are written as they come; each is one Write, and
// writes never interleave. As paho no longer sees the traffic, it sends a
// PINGREQ every keep-alive period under load too: one packet in 30 s.
func dialConn(uri *url.URL, opts mqtt.ClientOptions, take takeFunc) (*ackConn, error) {
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
	return newAckConn(conn, take), nil
}

// takeFunc handles an inbound PUBLISH before paho sees it and reports
// whether it did; false leaves the packet to paho. topic and payload are
// valid only during the call.
type takeFunc func(c *ackConn, topic, payload []byte, id uint16, qos byte) bool

// writeTimeout bounds one write to the broker; beyond it the connection is
// closed and paho reconnects (the broker redelivers what was not acked).
const writeTimeout = 30 * time.Second

// readBuffer is the read buffer; a packet that fits is handled in place.
const readBuffer = 64 << 10

// ackConn is one broker connection: reads buffered, PUBLISH packets taken
// by the session, writes serialised.
type ackConn struct {
	net.Conn
	r    *bufio.Reader
	take takeFunc // nil: every packet goes to paho
	pass []byte   // the rest of a packet left to paho
	buf  []byte   // pass's storage
	wmu  sync.Mutex
}

func newAckConn(c net.Conn, take takeFunc) *ackConn {
	return &ackConn{Conn: c, r: bufio.NewReaderSize(c, readBuffer), take: take}
}

// Read is paho's reader: it returns the packets take leaves.
func (c *ackConn) Read(p []byte) (int, error) {
	if c.take == nil {
		return c.r.Read(p)
	}
	for len(c.pass) == 0 {
		if err := c.readPacket(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.pass)
	c.pass = c.pass[n:]
	return n, nil
}

// errMalformedLength: a remaining length of more than four bytes.
var errMalformedLength = errors.New("mqtt: malformed remaining length")

// readPacket reads one packet [MQTT-2.2]: a PUBLISH that take handles is
// done with; anything else goes to pass.
func (c *ackConn) readPacket() error {
	var hdr [5]byte // type and flags, remaining length (1-4 bytes)
	b, err := c.r.ReadByte()
	if err != nil {
		return err
	}
	hdr[0] = b
	n, rem := 1, 0
	for {
		if n == len(hdr) {
			return errMalformedLength
		}
		if b, err = c.r.ReadByte(); err != nil {
			return noEOF(err)
		}
		hdr[n] = b
		rem |= int(b&0x7f) << (7 * (n - 1))
		n++
		if b&0x80 == 0 {
			break
		}
	}
	var body []byte
	inPlace := rem <= c.r.Size()
	if inPlace {
		body, err = c.r.Peek(rem) // valid until the next read: Discard below
	} else {
		body = make([]byte, rem)
		_, err = io.ReadFull(c.r, body)
	}
	if err != nil {
		return noEOF(err)
	}
	if hdr[0]>>4 != packets.Publish || !c.takePublish(hdr[0], body) {
		c.buf = append(append(c.buf[:0], hdr[:n]...), body...)
		c.pass = c.buf
	}
	if inPlace {
		c.r.Discard(rem)
	}
	return nil
}

// takePublish parses a PUBLISH [MQTT-3.3] and offers it to take. A packet
// it cannot parse is left to paho, which reports it.
func (c *ackConn) takePublish(h byte, b []byte) bool {
	qos := (h >> 1) & 3
	if len(b) < 2 {
		return false
	}
	tl := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+tl {
		return false
	}
	topic, rest := b[2:2+tl], b[2+tl:]
	var id uint16
	if qos > 0 {
		if len(rest) < 2 {
			return false
		}
		id, rest = binary.BigEndian.Uint16(rest), rest[2:]
	}
	return c.take(c, topic, rest, id, qos)
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Write writes one of paho's packets, or a group of PUBACKs.
func (c *ackConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	n, err := c.Conn.Write(p)
	if err != nil {
		c.Conn.Close() // the reader notices and paho reconnects
	}
	return n, err
}

// appendPuback appends the PUBACK of a QoS 1 packet id [MQTT-3.4].
func appendPuback(b []byte, id uint16) []byte {
	return append(b, 0x40, 0x02, byte(id>>8), byte(id))
}

// noStore is paho's message store for the ingester: none. Paho keeps every
// inbound QoS 1 packet in its store until the PUBACK is sent, and outbound
// packets until they are acknowledged, to resend them on a reconnect. The
// ingester publishes nothing, resubscribes itself on every connection, and
// never acks a message of an earlier connection: the broker redelivers what
// was not acknowledged (the persistent session). A store would only cost a
// map insert and delete under a mutex per message; and paho never sees most
// PUBLISH packets nor sends their PUBACKs (ackConn), so it could not keep
// one right anyway.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
