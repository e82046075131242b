package modbus

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	gb "github.com/goburrow/modbus"
	"github.com/goburrow/serial"
)

// ErrorKind classifies a failed poll. The set is fixed: it is the kind label
// of chargewatch_edge_poll_errors_total.
type ErrorKind string

// Error kinds.
const (
	KindTimeout     ErrorKind = "timeout"      // no (complete) answer in time
	KindCRC         ErrorKind = "crc"          // RTU answer with a wrong CRC
	KindException   ErrorKind = "exception"    // the slave answered with a Modbus exception
	KindWrongSlave  ErrorKind = "wrong_slave"  // the answer came from another slave/unit id
	KindBadResponse ErrorKind = "bad_response" // a malformed or out-of-step answer
	KindConnection  ErrorKind = "connection"   // TCP connect or serial port failure
	KindBadValue    ErrorKind = "bad_value"    // a register value that is no valid field value
)

// ErrorKinds lists every kind, for pre-creating metric labels.
var ErrorKinds = []ErrorKind{KindTimeout, KindCRC, KindException, KindWrongSlave, KindBadResponse, KindConnection, KindBadValue}

// Sentinel errors of the RTU transport.
var (
	errTimeout    = errors.New("timeout waiting for the answer")
	errWrongSlave = errors.New("answer from another slave id")
	errFraming    = errors.New("malformed answer")
)

// PollError is a failed read of one register block, or a bad value in it.
type PollError struct {
	Bus       string
	Transport string // "rtu" or "tcp"
	Port      string // serial device or TCP address
	Line      string // serial settings like "9600 8N1"; empty for TCP
	Device    string
	Profile   string
	Slave     uint8
	Function  uint8
	Address   uint16
	Count     uint16
	Kind      ErrorKind
	Exception byte // Modbus exception code, for KindException
	Attempts  int
	Timeout   time.Duration
	Err       error
}

func (e *PollError) Error() string {
	return fmt.Sprintf("bus %q, device %q (slave %d): read of %d registers at 0x%04X with function %02d: %s after %d attempt(s): %v",
		e.Bus, e.Device, e.Slave, e.Count, e.Address, e.Function, e.Kind, e.Attempts, e.Err)
}

func (e *PollError) Unwrap() error { return e.Err }

// exceptionNames follow the Modbus application protocol V1.1b3, section 7.
var exceptionNames = map[byte]string{
	1: "illegal function", 2: "illegal data address", 3: "illegal data value",
	4: "server device failure", 5: "acknowledge", 6: "server device busy",
	8: "memory parity error", 0x0a: "gateway path unavailable", 0x0b: "gateway target device failed to respond",
}

// ExceptionName names a Modbus exception code.
func ExceptionName(code byte) string {
	if n, ok := exceptionNames[code]; ok {
		return n
	}
	return fmt.Sprintf("exception %d", code)
}

// Hint tells an installer in plain words what the error likely means and
// what to check.
func (e *PollError) Hint() string {
	rtu := e.Transport == "rtu"
	switch e.Kind {
	case KindTimeout:
		if rtu {
			return fmt.Sprintf("no answer from slave %d within %s (%d attempts): check that the device is powered, that its slave id is %d, that it runs at %s like the bus, and that the A and B wires are not swapped",
				e.Slave, e.Timeout, e.Attempts, e.Slave, e.Line)
		}
		return fmt.Sprintf("no answer from unit %d at %s within %s (%d attempts): check the unit id and that the device or RS-485 gateway is up",
			e.Slave, e.Port, e.Timeout, e.Attempts)
	case KindCRC:
		return fmt.Sprintf("corrupted answer (CRC error) from slave %d: check that the device runs at %s like the bus, the cable and its 120 ohm termination, and that no two devices share slave id %d",
			e.Slave, e.Line, e.Slave)
	case KindWrongSlave:
		return fmt.Sprintf("an answer came from another slave id while polling slave %d: two devices may share an id, or the adapter echoes what it sends (%v)", e.Slave, e.Err)
	case KindException:
		switch e.Exception {
		case 1:
			alt := 4
			if e.Function == 4 {
				alt = 3
			}
			return fmt.Sprintf("slave %d does not support function %02d (illegal function): the device is not a %s, or its firmware needs function %02d (set function: %d on the device)",
				e.Slave, e.Function, e.Profile, alt, alt)
		case 2:
			return fmt.Sprintf("slave %d has no registers 0x%04X-0x%04X (illegal data address): the device is not a %s, or another model or firmware variant; check the profile",
				e.Slave, e.Address, int(e.Address)+int(e.Count)-1, e.Profile)
		case 0x0a, 0x0b:
			return fmt.Sprintf("the Modbus gateway at %s could not reach unit %d (%s): check the unit id and the RS-485 side of the gateway",
				e.Port, e.Slave, ExceptionName(e.Exception))
		}
		return fmt.Sprintf("slave %d answered with exception %d (%s)", e.Slave, e.Exception, ExceptionName(e.Exception))
	case KindConnection:
		if rtu {
			return fmt.Sprintf("cannot use serial port %s: %v: check the device path, that nothing else holds the port, and the permissions (dialout group)", e.Port, e.Err)
		}
		return fmt.Sprintf("cannot talk to %s: %v: check the IP address and port (usually 502) and the network", e.Port, e.Err)
	case KindBadValue:
		return fmt.Sprintf("slave %d sent a value that makes no sense (%v): check that the device really is a %s (scale, word order)", e.Slave, e.Err, e.Profile)
	}
	if rtu {
		return fmt.Sprintf("garbled answer from slave %d (%v): check the line settings (%s) and the wiring", e.Slave, e.Err, e.Line)
	}
	return fmt.Sprintf("garbled answer from unit %d at %s (%v)", e.Slave, e.Port, e.Err)
}

// classify maps an error of github.com/goburrow/modbus or of the transports
// onto an ErrorKind. goburrow builds most of its errors with fmt.Errorf, so
// some are recognised by their text.
func classify(err error) (ErrorKind, byte) {
	var me *gb.ModbusError
	if errors.As(err, &me) {
		return KindException, me.ExceptionCode
	}
	var ne net.Error
	switch {
	case errors.Is(err, errTimeout), errors.Is(err, serial.ErrTimeout), errors.As(err, &ne) && ne.Timeout():
		return KindTimeout, 0
	case errors.Is(err, errWrongSlave):
		return KindWrongSlave, 0
	case errors.Is(err, errFraming):
		return KindBadResponse, 0
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "modbus: response crc"):
		return KindCRC, 0
	case strings.Contains(msg, "response slave id"), strings.Contains(msg, "response unit id"):
		return KindWrongSlave, 0
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return KindConnection, 0
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return KindConnection, 0
	}
	return KindBadResponse, 0
}
