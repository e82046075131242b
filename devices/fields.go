package devices

import (
	"fmt"
	"math"
)

// Kind is the kind of a device; it decides the field vocabulary of its
// telemetry and the InfluxDB measurement its readings go to.
type Kind uint8

// Device kinds of wire contract v1.
const (
	KindUnknown Kind = iota
	KindMeter        // smart energy meter (single or three phase)
	KindMonitor      // electrical-fire monitor: leakage current and temperature channels
	KindPile         // two-wheeler charging-pile port controller
	KindSmoke        // smoke detector
	KindPlug         // smart plug with metering and a relay
	numKinds
)

var kindNames = [numKinds]string{"", "meter", "monitor", "pile", "smoke", "plug"}

// Kinds lists every valid device kind.
func Kinds() []Kind { return []Kind{KindMeter, KindMonitor, KindPile, KindSmoke, KindPlug} }

// String returns the kind's wire name, which is also its InfluxDB measurement.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind parses a kind's wire name.
func ParseKind(s string) (Kind, error) {
	for k := KindMeter; k < numKinds; k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return KindUnknown, fmt.Errorf("unknown device kind %s: use one of meter, monitor, pile, smoke, plug", quote(s))
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) {
	if k == KindUnknown || k >= numKinds {
		return nil, fmt.Errorf("invalid device kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Field identifies one telemetry field of the vocabulary. Fields are small
// integers so that a Reading holds its values in a fixed array.
type Field uint8

// ValueType is how a field is written on the wire.
type ValueType uint8

// Value types.
const (
	TypeFloat ValueType = iota // JSON number, any finite value within range
	TypeInt                    // JSON number that must be a whole number
	TypeBool                   // JSON true/false; stored as 0 or 1
	TypeState                  // JSON string from PileStates; stored as its index
)

func (t ValueType) String() string {
	switch t {
	case TypeFloat:
		return "number"
	case TypeInt:
		return "integer"
	case TypeBool:
		return "boolean"
	case TypeState:
		return "string"
	}
	return "?"
}

// Fields of wire contract v1. The order is the encoding order.
const (
	FieldVoltage Field = iota
	FieldCurrent
	FieldPower
	FieldReactivePower
	FieldPF
	FieldEnergy
	FieldFreq
	FieldVoltageL1
	FieldVoltageL2
	FieldVoltageL3
	FieldCurrentL1
	FieldCurrentL2
	FieldCurrentL3
	FieldPowerL1
	FieldPowerL2
	FieldPowerL3
	FieldLeak
	FieldTemp
	FieldTemp1
	FieldTemp2
	FieldTemp3
	FieldTemp4
	FieldPort
	FieldState
	FieldSmoke
	FieldBatteryPct
	FieldBatteryLow
	FieldTamper
	FieldFault
	FieldRSSI
	FieldLinkQuality
	FieldRelayOn
	NumFields
)

// FieldSpec describes one field: its wire name, unit, type and physical range.
// Values outside [Min, Max] are rejected as out of range.
type FieldSpec struct {
	Name string
	Unit string
	Type ValueType
	Min  float64
	Max  float64
	Doc  string
}

var fieldSpecs = [NumFields]FieldSpec{
	FieldVoltage:       {"voltage_v", "V", TypeFloat, 0, 1000, "RMS voltage (line to neutral for single phase)"},
	FieldCurrent:       {"current_a", "A", TypeFloat, 0, 1000, "RMS current"},
	FieldPower:         {"power_w", "W", TypeFloat, -500000, 500000, "active power as the meter's register holds it when polled (its own short average, about a second), not a mean over the reporting interval; negative when exporting"},
	FieldReactivePower: {"reactive_power_var", "var", TypeFloat, -500000, 500000, "reactive power"},
	FieldPF:            {"pf", "", TypeFloat, -1, 1, "power factor"},
	FieldEnergy:        {"energy_kwh", "kWh", TypeFloat, 0, 1e9, "imported active energy, a running total"},
	FieldFreq:          {"freq_hz", "Hz", TypeFloat, 40, 70, "grid frequency"},
	FieldVoltageL1:     {"voltage_l1_v", "V", TypeFloat, 0, 1000, "phase L1 voltage"},
	FieldVoltageL2:     {"voltage_l2_v", "V", TypeFloat, 0, 1000, "phase L2 voltage"},
	FieldVoltageL3:     {"voltage_l3_v", "V", TypeFloat, 0, 1000, "phase L3 voltage"},
	FieldCurrentL1:     {"current_l1_a", "A", TypeFloat, 0, 1000, "phase L1 current"},
	FieldCurrentL2:     {"current_l2_a", "A", TypeFloat, 0, 1000, "phase L2 current"},
	FieldCurrentL3:     {"current_l3_a", "A", TypeFloat, 0, 1000, "phase L3 current"},
	FieldPowerL1:       {"power_l1_w", "W", TypeFloat, -200000, 200000, "phase L1 active power"},
	FieldPowerL2:       {"power_l2_w", "W", TypeFloat, -200000, 200000, "phase L2 active power"},
	FieldPowerL3:       {"power_l3_w", "W", TypeFloat, -200000, 200000, "phase L3 active power"},
	FieldLeak:          {"leak_ma", "mA", TypeFloat, 0, 100000, "residual (leakage) current"},
	FieldTemp:          {"temp_c", "°C", TypeFloat, -40, 200, "temperature"},
	FieldTemp1:         {"temp1_c", "°C", TypeFloat, -40, 200, "temperature channel 1"},
	FieldTemp2:         {"temp2_c", "°C", TypeFloat, -40, 200, "temperature channel 2"},
	FieldTemp3:         {"temp3_c", "°C", TypeFloat, -40, 200, "temperature channel 3"},
	FieldTemp4:         {"temp4_c", "°C", TypeFloat, -40, 200, "temperature channel 4"},
	FieldPort:          {"port", "", TypeInt, 1, 64, "charging-pile port number"},
	FieldState:         {"state", "", TypeState, 0, float64(numPileStates - 1), "charging-pile port state: idle, charging, full or fault"},
	FieldSmoke:         {"smoke", "", TypeBool, 0, 1, "smoke detected"},
	FieldBatteryPct:    {"battery_pct", "%", TypeFloat, 0, 100, "battery charge"},
	FieldBatteryLow:    {"battery_low", "", TypeBool, 0, 1, "battery low flag"},
	FieldTamper:        {"tamper", "", TypeBool, 0, 1, "removed from its base or opened"},
	FieldFault:         {"fault", "", TypeBool, 0, 1, "device reports a fault"},
	FieldRSSI:          {"rssi_dbm", "dBm", TypeFloat, -150, 0, "radio signal strength"},
	FieldLinkQuality:   {"link_quality", "", TypeInt, 0, 255, "link quality (Zigbee LQI)"},
	FieldRelayOn:       {"relay_on", "", TypeBool, 0, 1, "relay closed (load powered)"},
}

// Spec returns the field's specification.
func (f Field) Spec() FieldSpec { return fieldSpecs[f] }

// String returns the field's wire name.
func (f Field) String() string {
	if f < NumFields {
		return fieldSpecs[f].Name
	}
	return fmt.Sprintf("field(%d)", uint8(f))
}

// FieldByName returns the field with the given wire name.
func FieldByName(name string) (Field, bool) { return lookupField(name) }

// Field names are looked up in a small perfect hash table rather than a map:
// it is on the decoder's hot path, once per key of every reading.
var (
	fieldSlots   [256]uint8 // Field+1 by hash; 0 is an empty slot
	fieldHashMul uint32
)

func hashName[T string | []byte](key T, mul uint32) uint8 {
	h := uint32(len(key))
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * mul
	}
	return uint8(h >> 24)
}

// lookupField finds the field named key.
func lookupField[T string | []byte](key T) (Field, bool) {
	e := fieldSlots[hashName(key, fieldHashMul)]
	if e == 0 || fieldSpecs[e-1].Name != string(key) {
		return 0, false
	}
	return Field(e - 1), true
}

func init() {
	// Find a multiplier that puts every name in its own slot. The search is
	// deterministic and takes a handful of tries.
	for mul := uint32(0x01000193); ; mul += 2 {
		var slots [256]uint8
		ok := true
		for f := Field(0); f < NumFields && ok; f++ {
			h := hashName(fieldSpecs[f].Name, mul)
			ok = slots[h] == 0
			slots[h] = uint8(f) + 1
		}
		if ok {
			fieldSlots, fieldHashMul = slots, mul
			return
		}
	}
}

// FieldSet is a set of fields as a bit mask.
type FieldSet uint64

// Has reports whether f is in the set.
func (s FieldSet) Has(f Field) bool { return s&(1<<f) != 0 }

// With returns the set with f added.
func (s FieldSet) With(f Field) FieldSet { return s | 1<<f }

// Fields returns the fields in the set in encoding order.
func (s FieldSet) Fields() []Field {
	var out []Field
	for f := Field(0); f < NumFields; f++ {
		if s.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

func setOf(fs ...Field) FieldSet {
	var s FieldSet
	for _, f := range fs {
		s = s.With(f)
	}
	return s
}

var electrical = []Field{FieldVoltage, FieldCurrent, FieldPower, FieldReactivePower, FieldPF, FieldEnergy, FieldFreq}

var vocabularies = [numKinds]FieldSet{
	KindMeter: setOf(append(electrical,
		FieldVoltageL1, FieldVoltageL2, FieldVoltageL3,
		FieldCurrentL1, FieldCurrentL2, FieldCurrentL3,
		FieldPowerL1, FieldPowerL2, FieldPowerL3, FieldTemp)...),
	KindMonitor: setOf(append(electrical,
		FieldVoltageL1, FieldVoltageL2, FieldVoltageL3,
		FieldCurrentL1, FieldCurrentL2, FieldCurrentL3,
		FieldPowerL1, FieldPowerL2, FieldPowerL3,
		FieldLeak, FieldTemp, FieldTemp1, FieldTemp2, FieldTemp3, FieldTemp4)...),
	KindPile: setOf(FieldPort, FieldState, FieldVoltage, FieldCurrent, FieldPower, FieldPF,
		FieldEnergy, FieldTemp, FieldFault),
	KindSmoke: setOf(FieldSmoke, FieldBatteryPct, FieldBatteryLow, FieldTamper, FieldFault,
		FieldRSSI, FieldLinkQuality, FieldTemp),
	KindPlug: setOf(FieldVoltage, FieldCurrent, FieldPower, FieldPF, FieldEnergy, FieldFreq,
		FieldRelayOn, FieldTemp, FieldFault),
}

// Vocabulary returns the fields a device of kind k may send.
func (k Kind) Vocabulary() FieldSet {
	if k < numKinds {
		return vocabularies[k]
	}
	return 0
}

// PileState is a charging-pile port state.
type PileState uint8

// Pile port states.
const (
	PileIdle PileState = iota
	PileCharging
	PileFull
	PileFault
	numPileStates
)

var pileStateNames = [numPileStates]string{"idle", "charging", "full", "fault"}

func (s PileState) String() string {
	if s < numPileStates {
		return pileStateNames[s]
	}
	return "?"
}

// ParsePileState parses a pile state's wire name.
func ParsePileState(s string) (PileState, bool) {
	for i, n := range pileStateNames {
		if n == s {
			return PileState(i), true
		}
	}
	return 0, false
}

// CheckValue validates v for field f and returns the reason it is invalid.
// Integer, boolean and state fields must hold whole numbers.
func CheckValue(f Field, v float64) (Reason, bool) {
	if f >= NumFields {
		return ReasonUnknownField, false
	}
	sp := &fieldSpecs[f]
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ReasonNonFinite, false
	}
	if sp.Type != TypeFloat && v != math.Trunc(v) {
		return ReasonWrongType, false
	}
	if v < sp.Min || v > sp.Max {
		return ReasonOutOfRange, false
	}
	return "", true
}
