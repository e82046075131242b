// Package modbussim serves simulated Modbus devices: the register maps of
// real meters (CHINT DDSU666 and DTSU666, Eastron SDM120 and SDM630, an Acrel
// ADW300-style meter) and chargewatch's reference maps for an electrical-fire
// monitor and a charging-pile controller.
//
// The maps are the profiles of edge/profile, the same data cw-edge reads
// with, so a map is defined once. A simulated device takes its values from a
// Provider, so any model of a household, a charger or a pile can drive it;
// the simulators plug theirs in.
//
// Server serves Modbus TCP through github.com/simonvetter/modbus.
// ServeRTU answers Modbus RTU frames on any byte stream (a pseudo-terminal in
// tests) with optional fault injection: CRC errors, exception responses,
// silence, late answers.
package modbussim
