// Package devices holds the one Go definition of chargewatch's wire
// contract v1: MQTT topics (cw/v1/{gateway}/{device}/{channel}), the device
// kinds and their field vocabularies with units and physical ranges, the
// reading, event and status messages, a strict allocation-light decoder and
// the matching encoder. docs/protocol.md documents the same contract for
// device makers.
//
// The device registry (sites, buildings, units, gateways, devices, people)
// lives in the subpackage registry.
package devices
