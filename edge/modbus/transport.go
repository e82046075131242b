package modbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	gb "github.com/goburrow/modbus"
	"github.com/goburrow/serial"
)

// conn reads registers from the slaves of one bus. It is used by one
// goroutine at a time.
type conn interface {
	read(slave, fc uint8, addr, qty uint16, timeout time.Duration) ([]byte, error)
	close() error
}

// readRegisters issues one read through a goburrow client and checks that
// the answer holds exactly the registers asked for.
func readRegisters(c gb.Client, fc uint8, addr, qty uint16) ([]byte, error) {
	var b []byte
	var err error
	switch fc {
	case 3:
		b, err = c.ReadHoldingRegisters(addr, qty)
	case 4:
		b, err = c.ReadInputRegisters(addr, qty)
	default:
		return nil, fmt.Errorf("function %d is not a register read", fc)
	}
	if err == nil && len(b) != 2*int(qty) {
		err = fmt.Errorf("%w: %d bytes of data for %d registers", errFraming, len(b), qty)
	}
	return b, err
}

func isException(err error) bool {
	var me *gb.ModbusError
	return errors.As(err, &me)
}

// --- TCP -----------------------------------------------------------------------------------

// tcpConn is Modbus TCP through github.com/goburrow/modbus v0.1.0.
//
// Workaround for a v0.1.0 defect: its TCP transporter keeps the connection
// after a read timeout, so the late answer is read as the answer to the next
// request, whose transaction id then does not match ("response transaction
// id '7' does not match request '8'"), and every later request is one answer
// behind. Any error other than a Modbus exception therefore closes the
// connection; the next request dials a fresh one.
type tcpConn struct {
	h *gb.TCPClientHandler
	c gb.Client
}

func newTCPConn(addr string) *tcpConn {
	h := gb.NewTCPClientHandler(addr)
	h.IdleTimeout = 5 * time.Minute
	return &tcpConn{h: h, c: gb.NewClient(h)}
}

func (t *tcpConn) read(slave, fc uint8, addr, qty uint16, timeout time.Duration) ([]byte, error) {
	t.h.SlaveId = slave
	t.h.Timeout = timeout // also the dial timeout
	b, err := readRegisters(t.c, fc, addr, qty)
	if err != nil && !isException(err) {
		t.h.Close()
	}
	return b, err
}

func (t *tcpConn) close() error { return t.h.Close() }

// --- RTU -----------------------------------------------------------------------------------

// rtuConn is Modbus RTU with github.com/goburrow/modbus v0.1.0 framing (its
// RTU packager encodes requests and checks slave id and CRC) over a
// transporter of ours on a github.com/goburrow/serial port.
//
// Workaround for a v0.1.0 defect: its RTU transporter tests for an exception
// answer with `function & 0x80` on the request's function code, which is
// always 0 for a read, so an exception frame (5 bytes) is taken for the
// first 4 bytes of a normal one. Depending on timing the client then reports
// a CRC error instead of the exception, and the fifth byte stays in the
// input to corrupt the next answer. rtuTransport reads the function code of
// the answer: request function | 0x80 is an exception (5 bytes), the request
// function is a normal answer whose length follows from its byte count.
// After any failure the port is closed and, when reopened, input is drained
// until the line has been quiet, so a late answer cannot be taken for the
// answer to the next request.
type rtuConn struct {
	h *gb.RTUClientHandler // the packager only; its transporter is not used
	t *rtuTransport
	c gb.Client
}

// SerialConfig is the line setting of an RTU bus.
type SerialConfig struct {
	Device   string // e.g. /dev/ttyS1, /dev/ttyUSB0
	Baud     int
	DataBits int
	Parity   string // N, E or O
	StopBits int
}

// String renders the settings like "9600 8N1".
func (s SerialConfig) String() string {
	return fmt.Sprintf("%d %d%s%d", s.Baud, s.DataBits, s.Parity, s.StopBits)
}

// readSlice bounds each blocking read on the serial port, so the overall
// answer timeout is kept to within this much.
const readSlice = 20 * time.Millisecond

func newRTUConn(sc SerialConfig) *rtuConn {
	h := gb.NewRTUClientHandler(sc.Device)
	t := &rtuTransport{
		cfg: serial.Config{
			Address: sc.Device, BaudRate: sc.Baud, DataBits: sc.DataBits,
			Parity: sc.Parity, StopBits: sc.StopBits, Timeout: readSlice,
		},
		frameGap: frameGap(sc.Baud),
	}
	return &rtuConn{h: h, t: t, c: gb.NewClient2(h, t)}
}

func (r *rtuConn) read(slave, fc uint8, addr, qty uint16, timeout time.Duration) ([]byte, error) {
	r.h.SlaveId = slave
	r.t.timeout = timeout
	b, err := readRegisters(r.c, fc, addr, qty)
	if err != nil && !isException(err) {
		r.t.close()
	}
	return b, err
}

func (r *rtuConn) close() error { return r.t.close() }

// frameGap is the silent interval between RTU frames: 3.5 character times,
// 1.75 ms above 19200 baud (MODBUS over Serial Line V1.02, 2.5.1.1).
func frameGap(baud int) time.Duration {
	if baud <= 0 || baud > 19200 {
		return 1750 * time.Microsecond
	}
	return time.Duration(3.5*11*float64(time.Second)) / time.Duration(baud)
}

// rtuTransport implements github.com/goburrow/modbus.Transporter.
type rtuTransport struct {
	cfg      serial.Config
	port     serial.Port
	timeout  time.Duration
	frameGap time.Duration
	drain    bool      // discard input before the next request
	last     time.Time // end of the last frame on the line
	buf      [260]byte
}

// quiet is how long the line must be silent for a drain to end.
const quiet = 50 * time.Millisecond

func (t *rtuTransport) Send(req []byte) ([]byte, error) {
	if t.port == nil {
		p, err := serial.Open(&t.cfg)
		if err != nil {
			return nil, err
		}
		t.port, t.drain = p, true
	}
	if t.drain {
		t.flush()
		t.drain = false
	}
	if gap := t.frameGap - time.Since(t.last); gap > 0 {
		time.Sleep(gap)
	}
	if _, err := t.port.Write(req); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(t.timeout)
	qty := int(binary.BigEndian.Uint16(req[4:]))
	var stray error // an answer that was not ours, seen while waiting for ours
	n := 0
	for {
		// Slave address, function code and the byte count or exception code.
		var err error
		if n, err = t.readAtLeast(n, 3, deadline); err != nil {
			return nil, orStray(err, stray)
		}
		id, fc := t.buf[0], t.buf[1]
		want := 0 // length of the frame in the buffer, if it can be told
		switch {
		case fc&0x80 != 0:
			// Exception: address, function | 0x80, exception code, CRC (2).
			want = 5
		case fc == 3 || fc == 4:
			want = 3 + int(t.buf[2]) + 2
		}
		ours := id == req[0] && (fc == req[1] || fc == req[1]|0x80) && (fc&0x80 != 0 || int(t.buf[2]) == 2*qty)
		if ours {
			if n, err = t.readAtLeast(n, want, deadline); err != nil {
				return nil, orStray(err, stray)
			}
			t.last = time.Now()
			if n > want {
				t.drain = true // trailing bytes: the line is noisy or out of step
			}
			return append([]byte(nil), t.buf[:want]...), nil
		}
		// A late answer to an earlier request, another slave using our id, or noise:
		// skip it and keep waiting for our answer until the deadline.
		switch {
		case id != req[0]:
			stray = fmt.Errorf("%w: slave %d answered a request to slave %d", errWrongSlave, id, req[0])
		case fc == req[1]:
			stray = fmt.Errorf("%w: %d bytes of data in the answer to a read of %d registers", errFraming, t.buf[2], qty)
		default:
			stray = fmt.Errorf("%w: function code 0x%02X in the answer to function 0x%02X", errFraming, fc, req[1])
		}
		if want == 0 || want > len(t.buf) {
			t.flush()
			n = 0
			continue
		}
		if n, err = t.readAtLeast(n, want, deadline); err != nil {
			return nil, orStray(err, stray)
		}
		n = copy(t.buf[:], t.buf[want:n])
	}
}

// orStray prefers the explanation of a stray answer to a bare timeout.
func orStray(err, stray error) error {
	if stray != nil && errors.Is(err, errTimeout) {
		return stray
	}
	return err
}

// readAtLeast reads into t.buf[n:] until it holds want bytes or the deadline passes.
func (t *rtuTransport) readAtLeast(n, want int, deadline time.Time) (int, error) {
	for n < want {
		if time.Now().After(deadline) {
			if n == 0 {
				return n, errTimeout
			}
			return n, fmt.Errorf("%w: %d of %d bytes arrived", errTimeout, n, want)
		}
		m, err := t.port.Read(t.buf[n:])
		n += m
		if err != nil && !errors.Is(err, serial.ErrTimeout) {
			return n, err
		}
	}
	return n, nil
}

// flush discards input until the line has been quiet for a while (at most
// ten times that long in all).
func (t *rtuTransport) flush() {
	var junk [256]byte
	start, lastData := time.Now(), time.Now()
	for time.Since(lastData) < quiet && time.Since(start) < 10*quiet {
		m, err := t.port.Read(junk[:])
		if m > 0 {
			lastData = time.Now()
		}
		if err != nil && !errors.Is(err, serial.ErrTimeout) {
			return
		}
	}
}

func (t *rtuTransport) close() error {
	if t.port == nil {
		return nil
	}
	err := t.port.Close()
	t.port = nil
	return err
}
