package modbussim_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/profile"
	"github.com/chargewatch/chargewatch/simulators/modbussim"
)

// randomReadings returns, for each port of p, a reading with every field of
// the profile set to a random value that is within the field's physical
// range and fits the register.
func randomReadings(p *profile.Profile, ports int, rng *rand.Rand) []devices.Reading {
	rs := make([]devices.Reading, ports)
	for i := range rs {
		if p.Ports != nil {
			rs[i].Put(devices.FieldPort, float64(i+1))
		}
		for _, reg := range p.Registers {
			sp := reg.Field.Spec()
			lo, hi := sp.Min, sp.Max
			if reg.Type != profile.Float32 {
				rlo, rhi := intRange(reg.Type)
				lo = math.Max(lo, rlo*reg.Factor())
				hi = math.Min(hi, rhi*reg.Factor())
			}
			var v float64
			switch sp.Type {
			case devices.TypeBool:
				v = float64(rng.IntN(2))
			case devices.TypeState:
				v = float64(rng.IntN(4))
			default:
				v = lo + (hi-lo)*rng.Float64()
				v = math.Round(v*100) / 100
			}
			rs[i].Put(reg.Field, v)
		}
	}
	return rs
}

func intRange(t profile.DataType) (float64, float64) {
	switch t {
	case profile.Int16:
		return math.MinInt16, math.MaxInt16
	case profile.Uint16:
		return 0, math.MaxUint16
	case profile.Int32:
		return math.MinInt32, math.MaxInt32
	}
	return 0, math.MaxUint32
}

type servedUnit struct {
	unit modbussim.Unit
	want []devices.Reading
}

// startAll serves every embedded profile, one per unit id from 1.
func startAll(t *testing.T, seed uint64) (*modbussim.Server, []servedUnit) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var units []servedUnit
	for i, name := range profile.Names() {
		p := profile.MustLoad(name)
		ports := p.PortCount(3)
		rs := randomReadings(p, ports, rng)
		u := modbussim.Unit{ID: uint8(i + 1), Profile: p, Ports: ports, Values: modbussim.Constant(rs...)}
		su := servedUnit{unit: u}
		for _, r := range rs {
			e, err := modbussim.Expected(p, r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			su.want = append(su.want, e)
		}
		units = append(units, su)
	}
	var list []modbussim.Unit
	for _, su := range units {
		list = append(list, su.unit)
	}
	s, err := modbussim.NewServer(modbussim.Config{Units: list})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s, units
}

// The edge poller reads back exactly what the slaves serve, for every
// profile, through the same profile data.
func TestEdgePollerReadsServedValues(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		s, units := startAll(t, seed)
		var devs []modbus.Device
		for _, su := range units {
			devs = append(devs, modbus.Device{
				ID: su.unit.Profile.Name, Slave: su.unit.ID, Profile: su.unit.Profile, Ports: su.unit.Ports,
				Interval: time.Second, Timeout: time.Second,
			})
		}
		bus, err := modbus.NewBus(modbus.BusConfig{Name: "tcp", Transport: modbus.TCP, Address: s.Addr(), Devices: devs}, modbus.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, su := range units {
			sample := bus.Poll(context.Background(), i)
			if err := sample.Err(); err != nil {
				t.Fatalf("%s: %v", su.unit.Profile.Name, err)
			}
			if len(sample.Readings) != len(su.want) {
				t.Fatalf("%s: %d readings, want %d", su.unit.Profile.Name, len(sample.Readings), len(su.want))
			}
			for j := range su.want {
				if got, want := string(devices.AppendReading(nil, &sample.Readings[j])), string(devices.AppendReading(nil, &su.want[j])); got != want {
					t.Errorf("%s port %d (seed %d):\n got %s\nwant %s", su.unit.Profile.Name, j+1, seed, got, want)
				}
			}
			if _, n := s.Served(su.unit.ID); n != len(bus.Blocks(i)) {
				t.Errorf("%s: %d requests served, want one per block (%d)", su.unit.Profile.Name, n, len(bus.Blocks(i)))
			}
		}
		bus.Close()
	}
}

var mbpollLine = regexp.MustCompile(`(?m)^\[(\d+)\]:\s+(\S+)`)

// mbpoll (a Modbus master nobody here wrote) reads the registers of each
// profile, decoding the data types itself, and gets the served values.
func TestMbpollReadsServedValues(t *testing.T) {
	if _, err := exec.LookPath("mbpoll"); err != nil {
		t.Fatalf("mbpoll is not installed: run scripts/install-deps.sh (Debian package mbpoll)")
	}
	s, units := startAll(t, 42)
	_, port, _ := net.SplitHostPort(s.Addr())
	checked := 0
	for _, su := range units {
		p := su.unit.Profile
		for pi, want := range su.want {
			if pi > 1 {
				break // ports 1 and 2 show the stride; more only repeat it
			}
			// One mbpoll run per run of adjacent registers of one function and type.
			regs := append([]profile.Register(nil), p.Registers...)
			sort.Slice(regs, func(i, j int) bool {
				if regs[i].Function != regs[j].Function {
					return regs[i].Function < regs[j].Function
				}
				return regs[i].Address < regs[j].Address
			})
			for i := 0; i < len(regs); {
				j := i + 1
				for j < len(regs) && regs[j].Function == regs[i].Function && regs[j].Type == regs[i].Type &&
					regs[j].Address == regs[j-1].Address+uint16(regs[j-1].Words()) {
					j++
				}
				run := regs[i:j]
				i = j
				table := map[uint8]string{3: "4", 4: "3"}[run[0].Function]
				switch run[0].Type {
				case profile.Float32:
					table += ":float"
				case profile.Int32, profile.Uint32:
					table += ":int"
				}
				addr := p.Address(&run[0], pi+1)
				out, err := exec.Command("mbpoll", "-m", "tcp", "-p", port, "-a", strconv.Itoa(int(su.unit.ID)),
					"-0", "-r", strconv.Itoa(int(addr)), "-c", strconv.Itoa(len(run)), "-t", table, "-B", "-1", "-o", "2", "127.0.0.1").CombinedOutput()
				if err != nil {
					t.Fatalf("mbpoll %s at %d: %v\n%s", p.Name, addr, err, out)
				}
				values := mbpollLine.FindAllSubmatch(out, -1)
				if len(values) != len(run) {
					t.Fatalf("mbpoll %s at %d: %d values for %d registers in\n%s", p.Name, addr, len(values), len(run), out)
				}
				for k, reg := range run {
					raw, err := strconv.ParseFloat(string(values[k][2]), 64)
					if err != nil {
						t.Fatalf("mbpoll %s %s: %v", p.Name, reg.Field, err)
					}
					if reg.Type == profile.Int16 && raw > math.MaxInt16 {
						raw -= 1 << 16 // mbpoll prints 16-bit registers unsigned
					}
					if reg.Type == profile.Uint32 && raw < 0 {
						raw += 1 << 32 // and 32-bit integers signed
					}
					wv, _ := want.Get(reg.Field)
					got := raw * reg.Factor()
					if sp := reg.Field.Spec(); sp.Type == devices.TypeBool && raw != 0 {
						got = 1
					} else if sp.Type == devices.TypeState {
						got = raw
					}
					// mbpoll prints floats with 6 significant digits.
					if tol := math.Max(1e-5*math.Abs(wv), reg.Factor()/2); math.Abs(got-wv) > tol {
						t.Errorf("%s port %d %s: mbpoll read %v (raw %s), served %v", p.Name, pi+1, reg.Field, got, values[k][2], wv)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d register values checked with mbpoll", checked)
}

func TestServerExceptions(t *testing.T) {
	s, _ := startAll(t, 7)
	// Unit 2 is chint-ddsu666 (FC03 only, 0x2000-0x4001): read it as an SDM120 (FC04).
	devs := []modbus.Device{
		{ID: "wrong-fc", Slave: 2, Profile: profile.MustLoad("eastron-sdm120"), Interval: time.Second, Timeout: time.Second},
		{ID: "wrong-addr", Slave: 2, Profile: profile.MustLoad("acrel-adw300"), Interval: time.Second, Timeout: time.Second},
		{ID: "no-unit", Slave: 99, Profile: profile.MustLoad("chint-ddsu666"), Interval: time.Second, Timeout: time.Second},
	}
	bus, err := modbus.NewBus(modbus.BusConfig{Name: "tcp", Transport: modbus.TCP, Address: s.Addr(), Devices: devs}, modbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	for i, want := range []byte{1, 2, 0x0b} {
		sample := bus.Poll(context.Background(), i)
		pe, ok := sample.Err().(*modbus.PollError)
		if !ok || pe.Kind != modbus.KindException || pe.Exception != want {
			t.Fatalf("%s: error %v, want exception %d", devs[i].ID, sample.Err(), want)
		}
		t.Logf("%s: %s", devs[i].ID, pe.Hint())
	}
}

func TestUnitValidation(t *testing.T) {
	p := profile.MustLoad("chint-ddsu666")
	for _, units := range [][]modbussim.Unit{
		{{ID: 0, Profile: p, Values: modbussim.Constant()}},
		{{ID: 1, Profile: p}},
		{{ID: 1, Profile: p, Values: modbussim.Constant()}, {ID: 1, Profile: p, Values: modbussim.Constant()}},
	} {
		if _, err := modbussim.NewServer(modbussim.Config{Units: units}); err == nil {
			t.Errorf("units %v accepted", fmt.Sprint(units[0].ID))
		}
	}
	if _, err := modbussim.NewServer(modbussim.Config{Addr: "bogus", Units: nil}); err != nil {
		t.Fatal(err)
	}
	s, _ := modbussim.NewServer(modbussim.Config{Addr: "bogus"})
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("Start on a bad address: %v", err)
	}
}
