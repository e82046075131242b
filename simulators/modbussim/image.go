package modbussim

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/profile"
)

// Provider gives the readings a simulated device serves at time now: one
// reading for a single-port device; for a multi-port profile (a pile
// controller) one reading per port, each with devices.FieldPort set to its
// port number (a reading without it is port 1). Fields a reading lacks are
// served as zero. A Provider must be safe for concurrent use.
type Provider func(now time.Time) []devices.Reading

// Constant serves the same readings at all times.
func Constant(rs ...devices.Reading) Provider {
	return func(time.Time) []devices.Reading { return rs }
}

// Single adapts a single-reading model.
func Single(f func(now time.Time) devices.Reading) Provider {
	return func(now time.Time) []devices.Reading { return []devices.Reading{f(now)} }
}

// Unit is one simulated device behind a slave (unit) id.
type Unit struct {
	ID      uint8
	Profile *profile.Profile
	Ports   int // ports of a multi-port profile; 0 for the profile's default
	Values  Provider
}

// Errors a unit answers with; they become Modbus exception responses.
var (
	ErrIllegalAddress = errors.New("illegal data address") // exception 02
	ErrIllegalFunc    = errors.New("illegal function")     // exception 01
	ErrNoUnit         = errors.New("no such unit")         // TCP: exception 0B; RTU: no answer
)

// units holds the simulated devices and builds register images from them.
type units struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[uint8]*unitState
}

type unitState struct {
	Unit
	ports  int
	spans  map[uint8][2]uint16 // function code -> lowest and highest address served
	served []devices.Reading   // readings of the last request
	reqs   int
}

func newUnits(list []Unit, now func() time.Time) (*units, error) {
	if now == nil {
		now = time.Now
	}
	u := &units{now: now, m: map[uint8]*unitState{}}
	for _, x := range list {
		if err := u.add(x); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *units) add(x Unit) error {
	if x.Profile == nil || x.Values == nil {
		return fmt.Errorf("unit %d: a profile and a value provider are required", x.ID)
	}
	if x.ID == 0 || x.ID > 247 {
		return fmt.Errorf("unit %d: slave ids are 1..247", x.ID)
	}
	st := &unitState{Unit: x, ports: x.Profile.PortCount(x.Ports), spans: map[uint8][2]uint16{}}
	for _, fc := range x.Profile.Functions() {
		lo, hi, _ := x.Profile.Span(fc, st.ports)
		st.spans[fc] = [2]uint16{lo, hi}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.m[x.ID]; dup {
		return fmt.Errorf("unit %d is defined twice", x.ID)
	}
	u.m[x.ID] = st
	return nil
}

// read answers a read of qty registers at addr with function fc.
func (u *units) read(id, fc uint8, addr, qty uint16) ([]uint16, error) {
	u.mu.Lock()
	st, ok := u.m[id]
	if ok {
		st.reqs++
	}
	u.mu.Unlock()
	if !ok {
		return nil, ErrNoUnit
	}
	span, ok := st.spans[fc]
	if !ok {
		return nil, ErrIllegalFunc
	}
	if qty == 0 || addr < span[0] || int(addr)+int(qty)-1 > int(span[1]) {
		return nil, ErrIllegalAddress
	}
	rs := st.Values(u.now())
	regs := make([]uint16, qty)
	for i := range rs {
		port := 1
		if v, ok := rs[i].Get(devices.FieldPort); ok {
			port = int(v)
		}
		if port < 1 || port > st.ports {
			continue
		}
		if err := st.Profile.EncodeReading(&rs[i], fc, port, addr, regs); err != nil {
			return nil, err
		}
	}
	u.mu.Lock()
	st.served = rs
	u.mu.Unlock()
	return regs, nil
}

func (u *units) served(id uint8) ([]devices.Reading, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st, ok := u.m[id]
	if !ok {
		return nil, 0
	}
	return st.served, st.reqs
}

// Expected returns what a client reading reading r of profile p should get:
// r's fields of the profile, encoded into registers and decoded again, so
// values carry the register's resolution (0.1 V, float32 precision).
func Expected(p *profile.Profile, r devices.Reading) (devices.Reading, error) {
	var out devices.Reading
	var buf [4]byte
	for i := range p.Registers {
		reg := &p.Registers[i]
		v, _ := r.Get(reg.Field)
		b := buf[:2*reg.Words()]
		if err := reg.Encode(v, b); err != nil {
			return out, err
		}
		d, err := reg.Decode(b)
		if err != nil {
			return out, err
		}
		out.Put(reg.Field, d)
	}
	if v, ok := r.Get(devices.FieldPort); ok && p.Ports != nil {
		out.Put(devices.FieldPort, v)
	} else if p.Ports != nil {
		out.Put(devices.FieldPort, 1)
	}
	return out, nil
}
