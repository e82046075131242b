// Package modbus polls Modbus RTU and TCP slaves for cw-edge through
// github.com/goburrow/modbus v0.1.0.
//
// A Bus is one RS-485 line (RTU) or one TCP endpoint (a TCP meter or an
// RS-485-to-TCP gateway) with its slaves. Its Run loop is the only user of
// the line, so requests never interleave; each device has its own poll
// interval, timeout and retries. The registers of a device's profile are
// read in as few requests as possible (Plan). A slave that stops answering
// is marked down after a few failed polls and is then tried once per
// backoff interval, with no retries, so it costs its neighbours at most one
// timeout per backoff interval.
//
// Two defects of goburrow/modbus v0.1.0 are worked around here (see
// transport.go): stale TCP answers after a timeout, and RTU exception
// answers that are not recognised.
package modbus
