package ingest

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// recConn records the writes that reach the socket.
type recConn struct {
	net.Conn // nil: only Write, SetWriteDeadline and Close are used
	mu       sync.Mutex
	writes   [][]byte
	closed   bool
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
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

// TestBufConnCoalesces: a burst of PUBACKs (the acks of one group commit)
// written while the flusher waits reaches the socket in one write, in
// order; Close writes what is pending. TestWaitWriteDelay checks the wait.
func TestBufConnCoalesces(t *testing.T) {
	rc := &recConn{}
	release := make(chan struct{})
	waited := make(chan struct{}, 10)
	c := &bufConn{Conn: rc, kick: make(chan struct{}, 1), stop: make(chan struct{}),
		// The flusher waits until the test has written the whole burst.
		wait: func(stop <-chan struct{}) bool {
			waited <- struct{}{}
			select {
			case <-release:
				return true
			case <-stop:
				return false
			}
		}}
	go c.flusher()
	var want []byte
	for i := range 500 {
		ack := []byte{0x40, 0x02, byte(i >> 8), byte(i)} // PUBACK of packet id i
		want = append(want, ack...)
		if _, err := c.Write(ack); err != nil {
			t.Fatal(err)
		}
	}
	select { // the flusher was kicked by the first write and waits
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the flusher did not wait for the burst")
	}
	if n, _ := rc.all(); n != 0 {
		t.Fatalf("%d writes reached the socket before the delay", n)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, got := rc.all(); len(got) == len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	n, got := rc.all()
	if !bytes.Equal(got, want) {
		t.Fatalf("the socket got %d bytes, want the %d written, in order", len(got), len(want))
	}
	if n != 1 {
		t.Errorf("500 PUBACKs written during the delay took %d writes to the socket, want 1", n)
	}
	// What is written just before Close still goes out.
	c.Write([]byte{0xe0, 0x00}) // DISCONNECT
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, got := rc.all(); !bytes.HasSuffix(got, []byte{0xe0, 0x00}) || !rc.closed {
		t.Errorf("Close did not write the pending DISCONNECT before closing")
	}
}

func TestWaitWriteDelay(t *testing.T) {
	stop := make(chan struct{})
	if !waitWriteDelay(stop) {
		t.Error("the wait reported a close that did not happen")
	}
	close(stop)
	if waitWriteDelay(stop) {
		t.Error("the wait did not notice the close")
	}
}
