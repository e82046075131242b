// Package profile holds the Modbus register maps of the devices cw-edge
// reads, as data: one YAML file per device model, embedded in the binary.
// A register names the contract field it feeds (devices.Field), the function
// code (03 holding or 04 input), the address, the data type with its word
// and byte order, a scale and the unit of the scaled value. Load resolves all
// of that once, into a converter per register, so polling does no lookups.
//
// The same maps drive the Modbus slaves of the simulators
// (simulators/modbussim), through Register.Encode, so each map is defined
// exactly once.
package profile
