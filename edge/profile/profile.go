package profile

import (
	"bytes"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/devices"
)

// Function codes of the Modbus application protocol (V1.1b3, section 6).
const (
	ReadHolding uint8 = 3 // 6.3 Read Holding Registers
	ReadInput   uint8 = 4 // 6.4 Read Input Registers
)

// MaxRegisters is the largest quantity one read request may ask for
// (Modbus application protocol 6.3: 1 to 125 registers).
const MaxRegisters = 125

// DataType is how a register value is encoded.
type DataType uint8

// Data types.
const (
	Int16 DataType = iota + 1
	Uint16
	Int32
	Uint32
	Float32
)

var dataTypeNames = map[string]DataType{
	"int16": Int16, "uint16": Uint16, "int32": Int32, "uint32": Uint32, "float32": Float32,
}

func (t DataType) String() string {
	for n, v := range dataTypeNames {
		if v == t {
			return n
		}
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Words is the number of 16-bit registers a value of type t occupies.
func (t DataType) Words() int {
	if t == Int32 || t == Uint32 || t == Float32 {
		return 2
	}
	return 1
}

func (t DataType) integer() bool { return t != Float32 }

// ByteOrder is the order of words in a 32-bit value, or of bytes in a 16-bit
// register: Big puts the most significant first (the Modbus default).
type ByteOrder uint8

// Orders.
const (
	Big ByteOrder = iota
	Little
)

func (o ByteOrder) String() string {
	if o == Little {
		return "little"
	}
	return "big"
}

func parseOrder(s string) (ByteOrder, bool) {
	switch s {
	case "", "big":
		return Big, true
	case "little":
		return Little, true
	}
	return 0, false
}

// Register maps one device register (or register pair) onto one contract
// field. Its converter is resolved when the profile is loaded.
type Register struct {
	Field     devices.Field
	Function  uint8  // ReadHolding or ReadInput
	Address   uint16 // of the first word; for port n of a multi-port device add (n-1)*Ports.Stride
	Type      DataType
	WordOrder ByteOrder // of the two words of a 32-bit value
	ByteOrder ByteOrder // of the two bytes within each word
	Scale     float64   // raw value times Scale is in Unit
	Unit      string    // unit of the scaled value; converted to the field's unit
	Note      string

	factor float64  // Scale times the unit conversion to the field's unit
	round  float64  // 10^decimals for integer types; 0 for float32
	perm   [4]uint8 // wire byte index of each byte, most significant first
	fkind  devices.ValueType
}

// Words is the number of registers the value occupies.
func (r *Register) Words() int { return r.Type.Words() }

// Factor is the multiplier from the raw register value to the contract
// field's unit.
func (r *Register) Factor() float64 { return r.factor }

// raw reads the register's raw number from its wire bytes b (2*Words bytes).
func (r *Register) raw(b []byte) float64 {
	p := &r.perm
	switch r.Type {
	case Int16:
		return float64(int16(uint16(b[p[0]])<<8 | uint16(b[p[1]])))
	case Uint16:
		return float64(uint16(b[p[0]])<<8 | uint16(b[p[1]]))
	}
	u := uint32(b[p[0]])<<24 | uint32(b[p[1]])<<16 | uint32(b[p[2]])<<8 | uint32(b[p[3]])
	switch r.Type {
	case Int32:
		return float64(int32(u))
	case Uint32:
		return float64(u)
	}
	return float64(math.Float32frombits(u))
}

// ErrBadValue is returned by Decode for a register value that is not a valid
// value of its field (a NaN float, a pile state outside the known states).
var ErrBadValue = errors.New("invalid register value")

// Decode converts the register's wire bytes b (2*Words bytes, as they came
// off the wire) into a value in the contract field's unit. Booleans are 0 or
// 1, a pile state is its devices.PileState index.
func (r *Register) Decode(b []byte) (float64, error) {
	raw := r.raw(b)
	switch r.fkind {
	case devices.TypeBool:
		if raw != 0 {
			return 1, nil
		}
		return 0, nil
	case devices.TypeState:
		if raw < 0 || raw > float64(devices.PileFault) {
			return 0, fmt.Errorf("%w: %s %v is not a pile state (0 idle, 1 charging, 2 full, 3 fault)", ErrBadValue, r.Field, raw)
		}
		return raw, nil
	}
	if math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 0, fmt.Errorf("%w: %s is not a finite number", ErrBadValue, r.Field)
	}
	v := raw * r.factor
	if r.round > 0 {
		return math.Round(v*r.round) / r.round, nil
	}
	return roundSignificant(v, 7), nil
}

// roundSignificant rounds v to n significant decimal digits: a float32
// carries about 7, and printing the float64 noise of the conversion would
// make every reading longer and no more accurate.
func roundSignificant(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	e := int(math.Ceil(math.Log10(math.Abs(v))))
	p := math.Pow10(n - e)
	return math.Round(v*p) / p
}

// Encode writes v, a value in the contract field's unit, into b (2*Words
// bytes) as the device would send it. It is the inverse of Decode, used by
// the simulators to serve readings.
func (r *Register) Encode(v float64, b []byte) error {
	var raw float64
	switch r.fkind {
	case devices.TypeBool:
		if v != 0 {
			raw = 1
		}
	case devices.TypeState:
		raw = v
	default:
		raw = v / r.factor
	}
	var u uint32
	switch r.Type {
	case Float32:
		u = math.Float32bits(float32(raw))
	default:
		raw = math.Round(raw)
		lo, hi := intRange(r.Type)
		if math.IsNaN(raw) || raw < lo || raw > hi {
			return fmt.Errorf("%s %v does not fit a %s register with factor %v", r.Field, v, r.Type, r.factor)
		}
		if raw < 0 {
			u = uint32(int32(raw))
		} else {
			u = uint32(raw)
		}
	}
	p := &r.perm
	if r.Type.Words() == 1 {
		b[p[0]], b[p[1]] = byte(u>>8), byte(u)
		return nil
	}
	b[p[0]], b[p[1]], b[p[2]], b[p[3]] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
	return nil
}

func intRange(t DataType) (float64, float64) {
	switch t {
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Uint16:
		return 0, math.MaxUint16
	case Int32:
		return math.MinInt32, math.MaxInt32
	}
	return 0, math.MaxUint32
}

// Ports describes a multi-port device (a charging-pile controller): the
// registers of the profile are those of port 1, and port n's are Stride*(n-1)
// registers further. Each port gives one reading, with the field port set.
type Ports struct {
	Default int    // ports read when the device config does not say
	Max     int    // ports the map has room for
	Stride  uint16 // registers between the blocks of two ports
}

// Serial holds the factory serial settings of a device, used as hints by
// cw-edge probe.
type Serial struct {
	Baud     int
	Parity   string
	DataBits int
	StopBits int
}

// Profile is a device model's register map.
type Profile struct {
	Name        string
	Kind        devices.Kind
	Description string
	Sources     []string
	Serial      Serial
	Ports       *Ports // nil for single-port devices
	MaxGap      uint16 // unmapped registers a read request may span to join two blocks
	MaxBlock    uint16 // registers per request, at most MaxRegisters
	Registers   []Register
}

// PortCount returns the number of ports to read given a device's setting
// (0 for the profile's default); single-port profiles always give 1.
func (p *Profile) PortCount(configured int) int {
	if p.Ports == nil {
		return 1
	}
	if configured > 0 {
		return configured
	}
	return p.Ports.Default
}

// Address returns register r's address for port n (1-based).
func (p *Profile) Address(r *Register, port int) uint16 {
	if p.Ports == nil || port <= 1 {
		return r.Address
	}
	return r.Address + uint16(port-1)*p.Ports.Stride
}

// WithFunction returns a copy of p whose registers are all read with
// function fc: some meters (the DDSU666) answer 03 or 04 depending on the
// firmware. It returns p itself when fc is 0.
func (p *Profile) WithFunction(fc uint8) *Profile {
	if fc == 0 {
		return p
	}
	q := *p
	q.Registers = append([]Register(nil), p.Registers...)
	for i := range q.Registers {
		q.Registers[i].Function = fc
	}
	return &q
}

// Functions lists the function codes the profile's registers use.
func (p *Profile) Functions() []uint8 {
	var fcs []uint8
	for i := range p.Registers {
		fc := p.Registers[i].Function
		if !bytes.Contains(fcs, []byte{fc}) {
			fcs = append(fcs, fc)
		}
	}
	return fcs
}

// Span returns the lowest and highest register address (inclusive) that the
// profile maps with function fc when ports ports are read.
func (p *Profile) Span(fc uint8, ports int) (lo, hi uint16, ok bool) {
	for i := range p.Registers {
		r := &p.Registers[i]
		if r.Function != fc {
			continue
		}
		for port := 1; port <= ports; port++ {
			a := p.Address(r, port)
			end := a + uint16(r.Words()) - 1
			if !ok || a < lo {
				lo = a
			}
			if !ok || end > hi {
				hi = end
			}
			ok = true
		}
	}
	return lo, hi, ok
}

// EncodeReading writes the fields of reading rd for port (1 for single-port
// devices) into regs, the register image of function fc starting at address
// base: every register of the profile that falls (partly) inside the image
// is written. Fields the reading lacks are written as zero.
func (p *Profile) EncodeReading(rd *devices.Reading, fc uint8, port int, base uint16, regs []uint16) error {
	var buf [4]byte
	end := int(base) + len(regs)
	for i := range p.Registers {
		r := &p.Registers[i]
		if r.Function != fc {
			continue
		}
		a := int(p.Address(r, port))
		w := r.Words()
		if a+w <= int(base) || a >= end {
			continue
		}
		v, _ := rd.Get(r.Field)
		if err := r.Encode(v, buf[:2*w]); err != nil {
			return fmt.Errorf("profile %s, port %d: %w", p.Name, port, err)
		}
		for k := 0; k < w; k++ {
			if j := a + k - int(base); j >= 0 && j < len(regs) {
				regs[j] = binary.BigEndian.Uint16(buf[2*k:])
			}
		}
	}
	return nil
}

// --- loading -----------------------------------------------------------------------------

//go:embed profiles/*.yaml
var embedded embed.FS

// Names lists the embedded profiles.
func Names() []string {
	ents, _ := fs.ReadDir(embedded, "profiles")
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Load returns the embedded profile with the given name.
func Load(name string) (*Profile, error) {
	b, err := embedded.ReadFile(path.Join("profiles", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("unknown profile %q: use one of %s, or a profile file", name, strings.Join(Names(), ", "))
	}
	return Parse(name, b)
}

// MustLoad is Load for profiles known to exist; it panics otherwise.
func MustLoad(name string) *Profile {
	p, err := Load(name)
	if err != nil {
		panic(err)
	}
	return p
}

// yaml shapes

type fileProfile struct {
	Name        string         `yaml:"name"`
	Kind        string         `yaml:"kind"`
	Description string         `yaml:"description"`
	Sources     []string       `yaml:"sources"`
	Serial      *fileSerial    `yaml:"serial"`
	Ports       *filePorts     `yaml:"ports"`
	MaxGap      int            `yaml:"max_gap"`
	MaxBlock    int            `yaml:"max_block"`
	Defaults    fileRegister   `yaml:"defaults"`
	Registers   []fileRegister `yaml:"registers"`
}

type fileSerial struct {
	Baud     int    `yaml:"baud"`
	Parity   string `yaml:"parity"`
	DataBits int    `yaml:"data_bits"`
	StopBits int    `yaml:"stop_bits"`
}

type filePorts struct {
	Default int `yaml:"default"`
	Max     int `yaml:"max"`
	Stride  int `yaml:"stride"`
}

type fileRegister struct {
	Field     string   `yaml:"field"`
	Address   *int     `yaml:"address"`
	Function  int      `yaml:"function"`
	Type      string   `yaml:"type"`
	WordOrder string   `yaml:"word_order"`
	ByteOrder string   `yaml:"byte_order"`
	Scale     *float64 `yaml:"scale"`
	Unit      *string  `yaml:"unit"`
	Note      string   `yaml:"note"`
}

// Parse parses and resolves a profile file. name is the name the profile is
// known by (the file name without .yaml); the file's name key must match it.
// Every problem is reported, each naming the register.
func Parse(name string, data []byte) (*Profile, error) {
	var f fileProfile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("profile %s: "+format, append([]any{name}, args...)...))
	}
	p := &Profile{Name: f.Name, Description: f.Description, Sources: f.Sources, MaxGap: uint16(f.MaxGap), MaxBlock: MaxRegisters}
	if f.Name != name {
		fail("name %q does not match the file name %q", f.Name, name)
	}
	if k, err := devices.ParseKind(f.Kind); err != nil {
		fail("kind: %v", err)
	} else {
		p.Kind = k
	}
	if len(f.Sources) == 0 {
		fail("sources: cite where the register map comes from")
	}
	if f.MaxGap < 0 || f.MaxGap > MaxRegisters {
		fail("max_gap %d is outside 0..%d", f.MaxGap, MaxRegisters)
	}
	if f.MaxBlock != 0 {
		if f.MaxBlock < 2 || f.MaxBlock > MaxRegisters {
			fail("max_block %d is outside 2..%d", f.MaxBlock, MaxRegisters)
		} else {
			p.MaxBlock = uint16(f.MaxBlock)
		}
	}
	if s := f.Serial; s != nil {
		p.Serial = Serial{Baud: s.Baud, Parity: s.Parity, DataBits: s.DataBits, StopBits: s.StopBits}
	}
	if pt := f.Ports; pt != nil {
		if pt.Max < 1 || pt.Default < 1 || pt.Default > pt.Max || pt.Stride < 1 || pt.Stride > 0xffff {
			fail("ports: need 1 <= default <= max and a stride of at least 1 register (got default %d, max %d, stride %d)", pt.Default, pt.Max, pt.Stride)
		} else {
			p.Ports = &Ports{Default: pt.Default, Max: pt.Max, Stride: uint16(pt.Stride)}
		}
	}
	if len(f.Registers) == 0 {
		fail("registers: the profile maps no register")
	}
	seen := map[devices.Field]bool{}
	for i, fr := range f.Registers {
		r, err := resolve(fr, f.Defaults, p.Kind)
		if err != nil {
			fail("register %d (%s): %v", i+1, fr.Field, err)
			continue
		}
		if seen[r.Field] {
			fail("register %d: field %s is mapped twice", i+1, r.Field)
		}
		seen[r.Field] = true
		p.Registers = append(p.Registers, r)
	}
	if len(errs) == 0 {
		errs = append(errs, p.checkLayout()...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// checkLayout rejects overlapping registers and maps that run past the end
// of the address space for the largest port count.
func (p *Profile) checkLayout() []error {
	var errs []error
	ports := p.PortCount(0)
	if p.Ports != nil {
		ports = p.Ports.Max
		for _, fc := range p.Functions() {
			lo, hi, _ := p.Span(fc, 1)
			if n := int(hi-lo) + 1; n > int(p.Ports.Stride) {
				errs = append(errs, fmt.Errorf("profile %s: the function %02d registers of one port span %d registers, more than the port stride %d", p.Name, fc, n, p.Ports.Stride))
			}
		}
	}
	type span struct {
		fc     uint8
		lo, hi int
		field  devices.Field
	}
	var spans []span
	for i := range p.Registers {
		r := &p.Registers[i]
		last := int(r.Address) + (ports-1)*int(p.stride()) + r.Words() - 1
		if last > 0xffff {
			errs = append(errs, fmt.Errorf("profile %s: register %s at 0x%04X runs past address 0xFFFF", p.Name, r.Field, r.Address))
		}
		spans = append(spans, span{r.Function, int(r.Address), int(r.Address) + r.Words() - 1, r.Field})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].fc != spans[j].fc {
			return spans[i].fc < spans[j].fc
		}
		return spans[i].lo < spans[j].lo
	})
	for i := 1; i < len(spans); i++ {
		a, b := spans[i-1], spans[i]
		if a.fc == b.fc && b.lo <= a.hi {
			errs = append(errs, fmt.Errorf("profile %s: registers of %s and %s overlap at 0x%04X", p.Name, a.field, b.field, b.lo))
		}
	}
	return errs
}

func (p *Profile) stride() uint16 {
	if p.Ports == nil {
		return 0
	}
	return p.Ports.Stride
}

func resolve(fr, def fileRegister, kind devices.Kind) (Register, error) {
	var r Register
	f, ok := devices.FieldByName(fr.Field)
	if !ok {
		return r, fmt.Errorf("unknown field %q", fr.Field)
	}
	if !kind.Vocabulary().Has(f) {
		return r, fmt.Errorf("field %s is not in the %s vocabulary", f, kind)
	}
	if f == devices.FieldPort {
		return r, errors.New("the port field is set from the port number, not read")
	}
	r.Field, r.Note = f, fr.Note
	r.fkind = f.Spec().Type
	if fr.Address == nil {
		return r, errors.New("address is missing")
	}
	if *fr.Address < 0 || *fr.Address > 0xffff {
		return r, fmt.Errorf("address %d is outside 0..0xFFFF", *fr.Address)
	}
	r.Address = uint16(*fr.Address)
	fc := pick(fr.Function, def.Function)
	if fc != int(ReadHolding) && fc != int(ReadInput) {
		return r, fmt.Errorf("function %d: use 3 (holding registers) or 4 (input registers)", fc)
	}
	r.Function = uint8(fc)
	tn := pickS(fr.Type, def.Type)
	t, ok := dataTypeNames[tn]
	if !ok {
		return r, fmt.Errorf("type %q: use int16, uint16, int32, uint32 or float32", tn)
	}
	r.Type = t
	if (r.fkind == devices.TypeBool || r.fkind == devices.TypeState) && !t.integer() {
		return r, fmt.Errorf("a %s field needs an integer register type, not %s", r.fkind, t)
	}
	if r.WordOrder, ok = parseOrder(pickS(fr.WordOrder, def.WordOrder)); !ok {
		return r, fmt.Errorf("word_order %q: use big (high word first) or little", pickS(fr.WordOrder, def.WordOrder))
	}
	if r.ByteOrder, ok = parseOrder(pickS(fr.ByteOrder, def.ByteOrder)); !ok {
		return r, fmt.Errorf("byte_order %q: use big (high byte first, the Modbus default) or little", pickS(fr.ByteOrder, def.ByteOrder))
	}
	r.Scale = 1
	if fr.Scale != nil {
		r.Scale = *fr.Scale
	} else if def.Scale != nil {
		r.Scale = *def.Scale
	}
	if r.Scale == 0 || math.IsNaN(r.Scale) || math.IsInf(r.Scale, 0) {
		return r, fmt.Errorf("scale %v must be a finite non-zero number", r.Scale)
	}
	fieldUnit := f.Spec().Unit
	r.Unit = fieldUnit
	if fr.Unit != nil {
		r.Unit = *fr.Unit
	}
	conv, ok := unitFactor(r.Unit, fieldUnit)
	if !ok {
		return r, fmt.Errorf("unit %q cannot be converted to %s's unit %q", r.Unit, f, fieldUnit)
	}
	if (r.fkind == devices.TypeBool || r.fkind == devices.TypeState) && (r.Scale != 1 || conv != 1) {
		return r, fmt.Errorf("a %s field takes the raw register value: remove scale and unit", r.fkind)
	}
	r.factor = r.Scale * conv
	if t.integer() {
		r.round = math.Pow10(decimals(r.factor))
	}
	r.perm = permutation(t, r.WordOrder, r.ByteOrder)
	return r, nil
}

func pick(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}

func pickS(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// decimals returns the number of decimal places of factor (up to 9): the
// precision an integer register scaled by factor can carry.
func decimals(factor float64) int {
	f := math.Abs(factor)
	for d := 0; d < 9; d++ {
		x := f * math.Pow10(d)
		if math.Abs(x-math.Round(x)) < 1e-9*math.Max(1, x) {
			return d
		}
	}
	return 9
}

// permutation returns, for each byte of the value from the most significant,
// its index in the wire bytes.
func permutation(t DataType, words, bytesOrder ByteOrder) [4]uint8 {
	if t.Words() == 1 {
		if bytesOrder == Little {
			return [4]uint8{1, 0}
		}
		return [4]uint8{0, 1}
	}
	hi, lo := uint8(0), uint8(2) // wire offsets of the high and the low word
	if words == Little {
		hi, lo = 2, 0
	}
	if bytesOrder == Little {
		return [4]uint8{hi + 1, hi, lo + 1, lo}
	}
	return [4]uint8{hi, hi + 1, lo, lo + 1}
}

// unitFactors converts a declared unit into the contract field's unit.
var unitFactors = map[string]map[string]float64{
	"W":   {"W": 1, "kW": 1000},
	"var": {"var": 1, "kvar": 1000},
	"V":   {"V": 1, "kV": 1000},
	"A":   {"A": 1, "mA": 0.001},
	"mA":  {"mA": 1, "A": 1000},
	"kWh": {"kWh": 1, "Wh": 0.001, "MWh": 1000},
	"Hz":  {"Hz": 1},
	"°C":  {"°C": 1, "C": 1, "degC": 1},
	"%":   {"%": 1},
	"dBm": {"dBm": 1},
	"":    {"": 1},
}

func unitFactor(from, to string) (float64, bool) {
	f, ok := unitFactors[to][from]
	return f, ok
}
