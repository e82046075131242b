package ingest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// recConn records the writes that reach the socket and reads from in.
type recConn struct {
	net.Conn // nil: only Read, Write, SetWriteDeadline and Close are used
	in       io.Reader
	mu       sync.Mutex
	writes   [][]byte
	closed   bool
	fail     error // returned by Write when set
}

func (c *recConn) Read(p []byte) (int, error) {
	if c.in == nil {
		return 0, io.EOF
	}
	return c.in.Read(p)
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *recConn) SetWriteDeadline(time.Time) error { return nil }
func (c *recConn) Close() error                     { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }

func (c *recConn) all() (n int, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.writes), bytes.Join(c.writes, nil)
}

func TestAppendPuback(t *testing.T) {
	for _, tc := range []struct {
		id   uint16
		want []byte
	}{
		{1, []byte{0x40, 0x02, 0x00, 0x01}},
		{0x1234, []byte{0x40, 0x02, 0x12, 0x34}},
		{0xffff, []byte{0x40, 0x02, 0xff, 0xff}},
	} {
		if got := appendPuback(nil, tc.id); !bytes.Equal(got, tc.want) {
			t.Errorf("appendPuback(%#x) = % x, want % x", tc.id, got, tc.want)
		}
	}
}

// TestAckConnWrites: each write reaches the socket whole and alone (a
// group of PUBACKs is one write), and a failed write closes the connection
// so that paho reconnects.
func TestAckConnWrites(t *testing.T) {
	rc := &recConn{}
	c := newAckConn(rc, nil)
	var group []byte
	for id := range uint16(500) {
		group = appendPuback(group, id)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Write(group); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, got := rc.all()
	if n != 4 || !bytes.Equal(got, bytes.Repeat(group, 4)) {
		t.Fatalf("the socket got %d writes of %d bytes, want 4 whole groups of %d", n, len(got), len(group))
	}
	rc.fail = errors.New("broken pipe")
	if _, err := c.Write(group); err == nil {
		t.Fatal("a failed write reported no error")
	}
	if !rc.closed {
		t.Error("a failed write left the connection open")
	}
}

func publishPacket(topic string, qos byte, id uint16, payload []byte) *packets.PublishPacket {
	p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	p.TopicName, p.Qos, p.MessageID, p.Payload = topic, qos, id, payload
	return p
}

// taken is a PUBLISH handed to take.
type taken struct {
	topic, payload string
	id             uint16
	qos            byte
}

// TestAckConnTakesPublish: on a stream of packets as the broker sends them,
// take sees every PUBLISH in order, with its topic, packet id, QoS and
// payload (also one larger than the read buffer); paho reads, byte for
// byte, every other packet and each PUBLISH take leaves; a stream cut in
// the middle of a packet is an error, not a clean end.
func TestAckConnTakesPublish(t *testing.T) {
	big := bytes.Repeat([]byte("x"), readBuffer+100)
	stream := []packets.ControlPacket{
		&packets.ConnackPacket{FixedHeader: packets.FixedHeader{MessageType: packets.Connack}, SessionPresent: true},
		publishPacket("cw/v1/gw-1/m-1/telemetry", 1, 1, []byte(`{"a":1}`)),
		publishPacket("$SYS/broker/publish/messages/dropped", 0, 0, []byte("7")),
		publishPacket("cw/v1/gw-1/m-1/telemetry", 0, 0, nil),
		&packets.SubackPacket{FixedHeader: packets.FixedHeader{MessageType: packets.Suback}, MessageID: 3, ReturnCodes: []byte{1}},
		publishPacket("cw/v1/gw-1/m-2/telemetry", 1, 65535, big),
		publishPacket("cw/v1/gw-1/m-1/telemetry", 2, 9, []byte("q2")),
		packets.NewControlPacket(packets.Pingresp),
	}
	var in bytes.Buffer
	for _, p := range stream {
		if err := p.Write(&in); err != nil {
			t.Fatal(err)
		}
	}
	wire := in.Bytes()
	in.Write(wire[:3]) // a packet cut short
	var got []taken
	c := newAckConn(&recConn{in: &in}, func(_ *ackConn, topic, payload []byte, id uint16, qos byte) bool {
		if qos > 1 || strings.HasPrefix(string(topic), "$") {
			return false
		}
		got = append(got, taken{string(topic), string(payload), id, qos})
		return true
	})
	var paho []string
	for {
		p, err := packets.ReadPacket(c)
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("a stream cut in a packet ended with %v, want io.ErrUnexpectedEOF", err)
			}
			break
		}
		paho = append(paho, p.String())
	}
	want := []taken{
		{"cw/v1/gw-1/m-1/telemetry", `{"a":1}`, 1, 1},
		{"cw/v1/gw-1/m-1/telemetry", "", 0, 0},
		{"cw/v1/gw-1/m-2/telemetry", string(big), 65535, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("take got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: take got %.60v, want %.60v", i, got[i], want[i])
		}
	}
	var wantPaho []string
	for _, i := range []int{0, 2, 4, 6, 7} {
		wantPaho = append(wantPaho, stream[i].String())
	}
	if strings.Join(paho, "\n") != strings.Join(wantPaho, "\n") {
		t.Errorf("paho read:\n%s\nwant:\n%s", strings.Join(paho, "\n"), strings.Join(wantPaho, "\n"))
	}
}

// TestAckConnMalformedLength: a remaining length of five bytes is an error.
func TestAckConnMalformedLength(t *testing.T) {
	c := newAckConn(&recConn{in: bytes.NewReader([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01})}, func(*ackConn, []byte, []byte, uint16, byte) bool { return true })
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, errMalformedLength) {
		t.Errorf("Read = %v, want errMalformedLength", err)
	}
}
