package profile

import (
	"math"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/devices"
)

func TestEmbeddedProfilesLoad(t *testing.T) {
	want := []string{"acrel-adw300", "chint-ddsu666", "chint-dtsu666", "cw-monitor-v1", "cw-pile-v1", "eastron-sdm120", "eastron-sdm630"}
	if got := strings.Join(Names(), " "); got != strings.Join(want, " ") {
		t.Fatalf("Names() = %s, want %s", got, strings.Join(want, " "))
	}
	for _, name := range want {
		p, err := Load(name)
		if err != nil {
			t.Fatalf("Load(%s): %v", name, err)
		}
		if len(p.Registers) == 0 || p.Kind == devices.KindUnknown {
			t.Errorf("%s: empty profile", name)
		}
	}
	if _, err := Load("nope"); err == nil || !strings.Contains(err.Error(), "chint-ddsu666") {
		t.Errorf("Load(nope) = %v, want an error listing the profiles", err)
	}
}

// Wire bytes of known values, as the meter sends them (register by register,
// each register high byte first unless the byte order says otherwise).
func TestDecodeWireBytes(t *testing.T) {
	cases := []struct {
		name  string
		reg   string // YAML of one register
		wire  []byte
		value float64
	}{
		// 230.5 = 0x43668000 as IEEE 754 single.
		{"float32 ABCD", `{field: voltage_v, address: 0, type: float32}`, []byte{0x43, 0x66, 0x80, 0x00}, 230.5},
		{"float32 CDAB", `{field: voltage_v, address: 0, type: float32, word_order: little}`, []byte{0x80, 0x00, 0x43, 0x66}, 230.5},
		{"float32 BADC", `{field: voltage_v, address: 0, type: float32, byte_order: little}`, []byte{0x66, 0x43, 0x00, 0x80}, 230.5},
		{"float32 DCBA", `{field: voltage_v, address: 0, type: float32, word_order: little, byte_order: little}`, []byte{0x00, 0x80, 0x66, 0x43}, 230.5},
		// kW to W: 0.345 kW.
		{"float32 kW", `{field: power_w, address: 0, type: float32, unit: kW}`, []byte{0x3e, 0xb0, 0xa3, 0xd7}, 345},
		// DTSU666 style: float32 in 0.1 V.
		{"float32 scaled", `{field: voltage_v, address: 0, type: float32, scale: 0.1}`, []byte{0x45, 0x0f, 0xd0, 0x00}, 230.1},
		{"uint16 x0.1", `{field: voltage_v, address: 0, type: uint16, scale: 0.1}`, []byte{0x08, 0xfd}, 230.1},
		{"uint16 little", `{field: voltage_v, address: 0, type: uint16, scale: 0.1, byte_order: little}`, []byte{0xfd, 0x08}, 230.1},
		{"int16 negative", `{field: temp_c, address: 0, type: int16, scale: 0.1}`, []byte{0xff, 0x9c}, -10},
		// -1234 W = 0xFFFFFB2E.
		{"int32 ABCD", `{field: power_w, address: 0, type: int32}`, []byte{0xff, 0xff, 0xfb, 0x2e}, -1234},
		{"int32 CDAB", `{field: power_w, address: 0, type: int32, word_order: little}`, []byte{0xfb, 0x2e, 0xff, 0xff}, -1234},
		// 123456 x0.01 kWh = 1234.56 kWh; 123456 = 0x0001E240.
		{"uint32 x0.01", `{field: energy_kwh, address: 0, type: uint32, scale: 0.01}`, []byte{0x00, 0x01, 0xe2, 0x40}, 1234.56},
		{"uint32 Wh", `{field: energy_kwh, address: 0, type: uint32, unit: Wh}`, []byte{0x00, 0x01, 0xe2, 0x40}, 123.456},
		{"leak A to mA", `{field: leak_ma, address: 0, type: float32, unit: A}`, []byte{0x3e, 0x99, 0x99, 0x9a}, 300},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, "monitor", c.reg)
			r := &p.Registers[0]
			got, err := r.Decode(c.wire)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.value {
				t.Fatalf("Decode(% x) = %v, want %v", c.wire, got, c.value)
			}
			back := make([]byte, len(c.wire))
			if err := r.Encode(c.value, back); err != nil {
				t.Fatal(err)
			}
			again, _ := r.Decode(back)
			if again != c.value {
				t.Fatalf("Encode(%v) = % x decodes to %v", c.value, back, again)
			}
		})
	}
}

func TestDecodeBoolAndState(t *testing.T) {
	p := MustLoad("cw-pile-v1")
	var state, fault *Register
	for i := range p.Registers {
		switch p.Registers[i].Field {
		case devices.FieldState:
			state = &p.Registers[i]
		case devices.FieldFault:
			fault = &p.Registers[i]
		}
	}
	if v, err := state.Decode([]byte{0, 2}); err != nil || v != float64(devices.PileFull) {
		t.Errorf("state 2 = %v, %v; want full", v, err)
	}
	if _, err := state.Decode([]byte{0, 9}); err == nil {
		t.Error("state 9 decoded without error")
	}
	if v, _ := fault.Decode([]byte{0x80, 0}); v != 1 {
		t.Errorf("fault 0x8000 = %v, want 1", v)
	}
	if _, err := MustLoad("chint-ddsu666").Registers[0].Decode([]byte{0x7f, 0xc0, 0, 0}); err == nil {
		t.Error("NaN decoded without error")
	}
}

func TestEncodeRange(t *testing.T) {
	p := mustParse(t, "monitor", `{field: voltage_v, address: 0, type: uint16, scale: 0.1}`)
	var b [2]byte
	if err := p.Registers[0].Encode(7000, b[:]); err == nil {
		t.Error("7000 V fitted a uint16 in 0.1 V")
	}
	if err := p.Registers[0].Encode(-1, b[:]); err == nil {
		t.Error("-1 V fitted a uint16")
	}
}

func TestEncodeReadingImage(t *testing.T) {
	p := MustLoad("cw-pile-v1")
	var r devices.Reading
	r.Put(devices.FieldState, float64(devices.PileCharging))
	r.Put(devices.FieldPower, 150.5)
	r.Put(devices.FieldVoltage, 229.9)
	regs := make([]uint16, 16)
	// Port 2 starts at 0x1010.
	if err := p.EncodeReading(&r, ReadInput, 2, 0x1010, regs); err != nil {
		t.Fatal(err)
	}
	if regs[0] != 1 || regs[1] != 2299 || regs[3] != 0 || regs[4] != 1505 {
		t.Fatalf("image = %v", regs)
	}
	lo, hi, ok := p.Span(ReadInput, 3)
	if !ok || lo != 0x1000 || hi != 0x1029 {
		t.Fatalf("Span(3 ports) = %#x..%#x %v", lo, hi, ok)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ reg, want string }{
		{`{field: volts, address: 0}`, `unknown field "volts"`},
		{`{field: smoke, address: 0}`, `not in the monitor vocabulary`},
		{`{field: voltage_v}`, `address is missing`},
		{`{field: voltage_v, address: 0, function: 6}`, `function 6`},
		{`{field: voltage_v, address: 0, type: float64}`, `type "float64"`},
		{`{field: voltage_v, address: 0, unit: kW}`, `unit "kW" cannot be converted to voltage_v's unit "V"`},
		{`{field: voltage_v, address: 0, scale: 0}`, `scale 0`},
		{`{field: voltage_v, address: 0, word_order: middle}`, `word_order "middle"`},
		{"{field: voltage_v, address: 0, type: float32}\n  - {field: current_a, address: 1}", `overlap at 0x0001`},
	}
	for _, c := range cases {
		_, err := Parse("x", []byte(profileYAML("monitor", c.reg)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.reg, err, c.want)
		}
	}
	if _, err := Parse("x", []byte("name: x\nkind: meter\nbogus: 1\n")); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestDecimals(t *testing.T) {
	for _, c := range []struct {
		f float64
		d int
	}{{1, 0}, {0.1, 1}, {0.01, 2}, {0.001, 3}, {0.25, 2}, {1000, 0}, {0.0001, 4}} {
		if got := decimals(c.f); got != c.d {
			t.Errorf("decimals(%v) = %d, want %d", c.f, got, c.d)
		}
	}
	if got := roundSignificant(344.9999988079071, 7); got != 345 {
		t.Errorf("roundSignificant = %v", got)
	}
	if got := roundSignificant(float64(math.Float32frombits(0x3f7ae148)), 7); got != 0.98 {
		t.Errorf("roundSignificant(0.98f) = %v", got)
	}
}

func profileYAML(kind, reg string) string {
	return "name: x\nkind: " + kind + "\nsources: [test]\ndefaults: {function: 4, type: uint16}\nregisters:\n  - " + reg + "\n"
}

func mustParse(t *testing.T, kind, reg string) *Profile {
	t.Helper()
	p, err := Parse("x", []byte(profileYAML(kind, reg)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func BenchmarkDecodeFloat32(b *testing.B) {
	r := &MustLoad("chint-ddsu666").Registers[2]
	wire := []byte{0x3e, 0xb0, 0xa3, 0xd7}
	b.ReportAllocs()
	b.SetBytes(4)
	for b.Loop() {
		_, _ = r.Decode(wire)
	}
}
