package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"time"
)

// conn is a minimal MQTT 3.1.1 publisher: CONNECT, PUBLISH at QoS 0 or 1,
// PUBACK, PINGREQ and DISCONNECT, nothing else. paho spends about 16 µs of
// CPU per QoS 1 publish on the reference machine (it allocates a packet, a
// token and a channel per message and writes each with its own syscall);
// this writes packets straight into a 256 KiB buffer and reads PUBACKs in
// bulk, at about 1.2 µs per message, which leaves the 2 cores to the broker
// and the ingester under test.
type conn struct {
	nc     net.Conn
	w      *bufio.Writer
	qos    byte
	window int64 // unacknowledged messages at most
	sent   int64 // QoS 1 messages written (writer only)
	pid    uint16
	acked  atomic.Int64
	// Flow control with hysteresis: when the window is full the writer
	// waits until half of it is acknowledged (waitFor holds that ack
	// count), so it wakes once per half window, not once per PUBACK.
	waitFor atomic.Int64
	wake    chan struct{}
	rerr    atomic.Value // error from the reader
	done    chan struct{}
	last    time.Time // last write, for keepalive
	hdr     []byte
}

const keepAlive = 60 * time.Second

// dial connects and sends CONNECT with a clean session; username and
// client id are both id ([MQTT-3.1.3-3]; Mosquitto use_username_as_clientid).
func dial(broker, id, password string, qos byte, window int) (*conn, error) {
	u, err := url.Parse(broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("broker %q: want tcp://host:port", broker)
	}
	if u.Scheme != "tcp" && u.Scheme != "mqtt" {
		return nil, fmt.Errorf("broker %q: only tcp:// is supported by load mode", broker)
	}
	nc, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", u.Host, err)
	}
	c := &conn{nc: nc, w: bufio.NewWriterSize(nc, 256<<10), qos: qos, window: int64(window), done: make(chan struct{}), wake: make(chan struct{}, 1)}
	// CONNECT [MQTT-3.1]: protocol name, level 4, flags, keepalive, payload.
	flags := byte(0x02 | 0x80) // clean session, username
	if password != "" {
		flags |= 0x40
	}
	var body []byte
	body = appendString(body, "MQTT")
	body = append(body, 4, flags, byte(keepAlive/time.Second>>8), byte(keepAlive/time.Second))
	body = appendString(body, id)
	body = appendString(body, id)
	if password != "" {
		body = appendString(body, password)
	}
	pkt := append([]byte{0x10}, appendLength(nil, len(body))...)
	pkt = append(pkt, body...)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(pkt); err != nil {
		nc.Close()
		return nil, fmt.Errorf("send CONNECT: %w", err)
	}
	// CONNACK [MQTT-3.2]: 0x20 0x02 flags return-code.
	var ack [4]byte
	if _, err := io.ReadFull(nc, ack[:]); err != nil {
		nc.Close()
		return nil, fmt.Errorf("read CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[1] != 2 {
		nc.Close()
		return nil, fmt.Errorf("expected CONNACK, got packet type %#x", ack[0])
	}
	if ack[3] != 0 {
		nc.Close()
		return nil, fmt.Errorf("broker refused the connection of %q: %s", id, connackReason(ack[3]))
	}
	nc.SetDeadline(time.Time{})
	c.last = time.Now()
	go c.read()
	return c, nil
}

func connackReason(rc byte) string {
	switch rc {
	case 1:
		return "unacceptable protocol version"
	case 2:
		return "client id rejected"
	case 3:
		return "server unavailable"
	case 4:
		return "bad user name or password"
	case 5:
		return "not authorised"
	}
	return fmt.Sprintf("return code %d", rc)
}

func appendString(b []byte, s string) []byte {
	return append(append(b, byte(len(s)>>8), byte(len(s))), s...)
}

// appendLength appends an MQTT remaining length [MQTT-2.2.3].
func appendLength(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// read consumes PUBACKs and PINGRESPs. It reads in bulk and naps a
// millisecond after a short read, so that acks arrive in batches instead of
// costing a wake-up each.
func (c *conn) read() {
	defer close(c.done)
	buf := make([]byte, 64<<10)
	have := 0
	for {
		n, err := c.nc.Read(buf[have:])
		if err != nil {
			c.rerr.Store(err)
			// wake a writer waiting for a window slot
			return
		}
		have += n
		p := 0
		for p < have {
			switch buf[p] {
			case 0x40: // PUBACK [MQTT-3.4]: 0x40 0x02 id id
				if have-p < 4 {
					goto partial
				}
				p += 4
				c.acked.Add(1)
			case 0xd0: // PINGRESP
				if have-p < 2 {
					goto partial
				}
				p += 2
			default:
				c.rerr.Store(fmt.Errorf("unexpected packet type %#x from the broker", buf[p]))
				c.nc.Close()
				return
			}
		}
	partial:
		have = copy(buf, buf[p:have])
		if w := c.waitFor.Load(); w > 0 && c.acked.Load() >= w && c.waitFor.CompareAndSwap(w, 0) {
			c.wake <- struct{}{}
		}
		if n < 8<<10 {
			time.Sleep(time.Millisecond)
		}
	}
}

func (c *conn) err() error {
	if e, ok := c.rerr.Load().(error); ok {
		return e
	}
	return nil
}

// publish writes one PUBLISH packet; with QoS 1 it first takes a window
// slot, flushing and waiting when the window is full.
func (c *conn) publish(topic, payload []byte) error {
	if c.qos > 0 && c.sent-c.acked.Load() >= c.window {
		if err := c.w.Flush(); err != nil {
			return err
		}
		target := c.sent - c.window/2
		c.waitFor.Store(target)
		if c.acked.Load() >= target && c.waitFor.CompareAndSwap(target, 0) {
			// acknowledged meanwhile: no wake-up will come
		} else {
			timer := time.NewTimer(30 * time.Second)
			select {
			case <-c.wake:
				timer.Stop()
			case <-c.done:
				timer.Stop()
				return fmt.Errorf("connection lost: %w", c.err())
			case <-timer.C:
				return errors.New("no PUBACK for 30 s: the broker stopped acknowledging")
			}
		}
	}
	if c.qos > 0 {
		c.sent++
	}
	h := c.hdr[:0]
	rem := 2 + len(topic) + len(payload)
	if c.qos > 0 {
		h = append(h, 0x32) // PUBLISH, QoS 1 [MQTT-3.3.1]
		rem += 2
	} else {
		h = append(h, 0x30)
	}
	h = appendLength(h, rem)
	h = append(h, byte(len(topic)>>8), byte(len(topic)))
	h = append(h, topic...)
	if c.qos > 0 {
		c.pid++
		if c.pid == 0 {
			c.pid = 1 // packet id 0 is not allowed [MQTT-2.3.1-1]
		}
		h = append(h, byte(c.pid>>8), byte(c.pid))
	}
	c.hdr = h
	if _, err := c.w.Write(h); err != nil {
		return err
	}
	_, err := c.w.Write(payload)
	return err
}

// idle sends a PINGREQ when nothing was written for half the keepalive.
func (c *conn) idle(now time.Time) error {
	if now.Sub(c.last) < keepAlive/2 {
		return nil
	}
	c.last = now
	if err := c.w.WriteByte(0xc0); err != nil {
		return err
	}
	if err := c.w.WriteByte(0); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *conn) flush(now time.Time) error {
	if c.w.Buffered() == 0 {
		return nil
	}
	c.last = now
	return c.w.Flush()
}

// close waits up to grace for outstanding PUBACKs, then sends DISCONNECT.
func (c *conn) close(sent int64, grace time.Duration) {
	c.w.Flush()
	deadline := time.Now().Add(grace)
	for c.qos > 0 && c.acked.Load() < sent && time.Now().Before(deadline) && c.err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	c.w.Write([]byte{0xe0, 0})
	c.w.Flush()
	c.nc.Close()
	<-c.done
}
