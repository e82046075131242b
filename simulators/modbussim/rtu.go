package modbussim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Fault is a misbehaviour an RTU slave can be told to show for one request.
type Fault uint8

// Faults.
const (
	FaultNone       Fault = iota
	FaultCRC              // answer with a corrupted CRC
	FaultSilent           // do not answer (a dead slave or a wrong slave id)
	FaultException        // answer with the exception code in Injection.Exception
	FaultLate             // answer after Injection.Delay (set it past the master's timeout)
	FaultWrongSlave       // answer with another slave id (two devices sharing an id)
)

// Injection is the fault to show for one request.
type Injection struct {
	Fault     Fault
	Exception byte          // for FaultException, e.g. 2 (illegal data address)
	Delay     time.Duration // wait before answering (any fault but FaultSilent)
	ByteGap   time.Duration // send the answer one byte at a time, this far apart, like a slow slave
}

// RTUConfig configures ServeRTU.
type RTUConfig struct {
	Units []Unit
	Now   func() time.Time
	// Inject, if set, is asked before each answer and may return a fault.
	Inject func(unit, fc uint8, addr, qty uint16) Injection
}

// ServeRTU answers Modbus RTU read requests (functions 03 and 04) arriving on
// port, as the slaves in cfg.Units sharing one RS-485 bus would, until ctx is
// done or port fails. Frames for other slave ids are ignored, as on a real
// bus. Close port to stop a blocked read.
//
// Framing follows MODBUS over Serial Line V1.02, 2.5.1: slave address,
// function, data, CRC-16 (polynomial 0xA001, low byte first). A request of
// another function is answered with exception 01.
func ServeRTU(ctx context.Context, port io.ReadWriter, cfg RTUConfig) error {
	u, err := newUnits(cfg.Units, cfg.Now)
	if err != nil {
		return err
	}
	var buf []byte
	chunk := make([]byte, 256)
	for ctx.Err() == nil {
		n, err := port.Read(chunk)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return ctx.Err()
			}
			return fmt.Errorf("modbussim: rtu read: %w", err)
		}
		buf = append(buf, chunk[:n]...)
		// A read request is 8 bytes: address, function, start (2), quantity (2), CRC (2).
		for len(buf) >= 8 {
			frame := buf[:8]
			if crc16(frame[:6]) != binary.LittleEndian.Uint16(frame[6:]) {
				// Lost sync or line noise: drop what we have, as a slave would after a
				// silent interval, and wait for the next frame.
				buf = buf[:0]
				break
			}
			id, fc := frame[0], frame[1]
			addr := binary.BigEndian.Uint16(frame[2:])
			qty := binary.BigEndian.Uint16(frame[4:])
			buf = buf[8:]
			resp := answer(u, id, fc, addr, qty, cfg.Inject)
			if resp.frame == nil {
				continue
			}
			time.Sleep(resp.delay)
			if err := writeFrame(port, resp.frame, resp.gap); err != nil {
				return fmt.Errorf("modbussim: rtu write: %w", err)
			}
		}
	}
	return ctx.Err()
}

type rtuResponse struct {
	frame []byte
	delay time.Duration
	gap   time.Duration
}

func writeFrame(w io.Writer, frame []byte, gap time.Duration) error {
	if gap <= 0 {
		_, err := w.Write(frame)
		return err
	}
	for i := range frame {
		if i > 0 {
			time.Sleep(gap)
		}
		if _, err := w.Write(frame[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

func answer(u *units, id, fc uint8, addr, qty uint16, inject func(unit, fc uint8, addr, qty uint16) Injection) rtuResponse {
	var inj Injection
	if inject != nil {
		inj = inject(id, fc, addr, qty)
	}
	if inj.Fault == FaultSilent {
		return rtuResponse{}
	}
	var pdu []byte
	regs, err := u.read(id, fc, addr, qty)
	if fc != 3 && fc != 4 {
		err = ErrIllegalFunc
	}
	switch {
	case errors.Is(err, ErrNoUnit):
		return rtuResponse{} // nobody on the bus has this id
	case inj.Fault == FaultException:
		pdu = []byte{fc | 0x80, inj.Exception}
	case errors.Is(err, ErrIllegalFunc):
		pdu = []byte{fc | 0x80, 1}
	case errors.Is(err, ErrIllegalAddress):
		pdu = []byte{fc | 0x80, 2}
	case err != nil:
		pdu = []byte{fc | 0x80, 4}
	default:
		pdu = make([]byte, 2, 2+2*len(regs))
		pdu[0], pdu[1] = fc, byte(2*len(regs))
		for _, r := range regs {
			pdu = binary.BigEndian.AppendUint16(pdu, r)
		}
	}
	if inj.Fault == FaultWrongSlave {
		id++
	}
	frame := append([]byte{id}, pdu...)
	frame = binary.LittleEndian.AppendUint16(frame, crc16(frame))
	if inj.Fault == FaultCRC {
		frame[len(frame)-1] ^= 0x5a
	}
	return rtuResponse{frame: frame, delay: inj.Delay, gap: inj.ByteGap}
}

// crc16 is the Modbus RTU CRC (MODBUS over Serial Line V1.02, 6.2.2).
func crc16(b []byte) uint16 {
	crc := uint16(0xffff)
	for _, c := range b {
		crc ^= uint16(c)
		for i := 0; i < 8; i++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
