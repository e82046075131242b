package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/detect"
	"github.com/chargewatch/chargewatch/alerting/lifecycle"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// Checkpoint versions: 2 adds statusAt to devices and gateways; version 1
// checkpoints are read with it 0.
const (
	stateVersion1 = 1
	stateVersion  = 2
)

var errCorrupt = errors.New("checkpoint is corrupt")

func flags(bs ...bool) byte {
	var f byte
	for i, b := range bs {
		if b {
			f |= 1 << i
		}
	}
	return f
}

// marshal encodes a device's checkpoint: the engine's fields, then the
// detectors' state.
func (ds *devState) marshal() []byte {
	det, err := ds.det.MarshalBinary()
	if err != nil {
		// The built-in detectors cannot fail; a replacement charging
		// model that does loses its state, not the device's.
		det = nil
	}
	b := make([]byte, 0, devHeader+len(det))
	b = append(b, stateVersion)
	for _, v := range []int64{ds.heard, ds.down, ds.gapFrom, ds.gapTo, ds.statusAt} {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	b = append(b, flags(ds.offline, ds.alerted))
	return append(b, det...)
}

const (
	devHeader1 = 1 + 4*8 + 1 // version 1
	devHeader  = 1 + 5*8 + 1
)

func (ds *devState) unmarshal(b []byte, model detect.ChargingModel) error {
	fields, header := []*int64{&ds.heard, &ds.down, &ds.gapFrom, &ds.gapTo, &ds.statusAt}, devHeader
	switch {
	case len(b) >= devHeader && b[0] == stateVersion:
	case len(b) >= devHeader1 && b[0] == stateVersion1:
		fields, header, ds.statusAt = fields[:4], devHeader1, 0
	default:
		return errCorrupt
	}
	for i, p := range fields {
		*p = int64(binary.LittleEndian.Uint64(b[1+8*i:]))
	}
	f := b[header-1]
	ds.offline, ds.alerted = f&1 != 0, f&2 != 0
	if len(b) == header {
		return nil
	}
	return ds.det.UnmarshalState(b[header:], model)
}

// size is the memory a device's state holds, including its map entry.
func (ds *devState) size() int {
	const mapEntry = 16 + 8 + 8 // key header, value pointer, bucket overhead per entry (approx.)
	return int(unsafe.Sizeof(*ds)) - int(unsafe.Sizeof(ds.det)) + ds.det.Size() + mapEntry
}

func (gs *gwState) fields() []*int64 {
	return []*int64{&gs.heard, &gs.down, &gs.back, &gs.since, &gs.outFrom, &gs.outTo, &gs.statusAt}
}

const (
	gwLen1 = 1 + 6*8 + 2 // version 1
	gwLen  = 1 + 7*8 + 2
)

func (gs *gwState) marshal() []byte {
	b := make([]byte, 0, gwLen)
	b = append(b, stateVersion)
	for _, p := range gs.fields() {
		b = binary.LittleEndian.AppendUint64(b, uint64(*p))
	}
	return append(b, flags(gs.offline), gs.alert)
}

func (gs *gwState) unmarshal(b []byte) error {
	fields, n := gs.fields(), gwLen
	switch {
	case len(b) == gwLen && b[0] == stateVersion:
	case len(b) == gwLen1 && b[0] == stateVersion1:
		fields, n, gs.statusAt = fields[:6], gwLen1, 0
	default:
		return errCorrupt
	}
	for i, p := range fields {
		*p = int64(binary.LittleEndian.Uint64(b[1+8*i:]))
	}
	gs.offline, gs.alert = b[n-2]&1 != 0, b[n-1]
	return nil
}

func locateDevice(d *registry.Device) alerting.Location {
	b := d.Building
	st := b.Community.Street
	l := alerting.Location{
		District: st.District.ID, Street: st.ID, Community: b.Community.ID, Building: b.ID,
		Device: d.ID, Kind: d.Kind.String(), Lat: b.Lat, Lon: b.Lon,
	}
	if d.Gateway != nil {
		l.Gateway = d.Gateway.ID
	}
	if d.Unit != nil {
		l.Unit, l.UnitType = d.Unit.ID, d.Unit.Type.String()
	}
	return l
}

func locateGateway(g *registry.Gateway) alerting.Location {
	b := g.Building
	st := b.Community.Street
	l := alerting.Location{
		District: st.District.ID, Street: st.ID, Community: b.Community.ID, Building: b.ID,
		Gateway: g.ID, Lat: b.Lat, Lon: b.Lon,
	}
	if g.Unit != nil {
		l.Unit, l.UnitType = g.Unit.ID, g.Unit.Type.String()
	}
	return l
}

func locateStreet(s *registry.Street) alerting.Location {
	return alerting.Location{District: s.District.ID, Street: s.ID}
}

var titles = map[alerting.Rule]string{
	alerting.RuleIndoorCharging:  "e-bike charging indoors",
	alerting.RuleOverload:        "overload",
	alerting.RulePortOverload:    "charging port overload",
	alerting.RuleResidualCurrent: "residual current",
	alerting.RuleOverTemperature: "over-temperature",
	alerting.RuleOverVoltage:     "over-voltage",
	alerting.RuleUnderVoltage:    "under-voltage",
	alerting.RuleArcFault:        "arc fault",
	alerting.RulePhaseLoss:       "phase loss",
	alerting.RulePileFault:       "charging pile fault",
	alerting.RulePortOverTemp:    "charging port over-temperature",
	alerting.RuleLongSession:     "charging session over the limit",
	alerting.RuleNoTaper:         "charging power never tapers",
	alerting.RuleSmoke:           "SMOKE ALARM",
	alerting.RuleTamper:          "detector removed or opened",
	alerting.RuleLowBattery:      "detector battery low",
	alerting.RuleDeviceFault:     "device fault",
	alerting.RuleDeviceOffline:   "device offline",
	alerting.RuleGatewayOffline:  "gateway offline",
	alerting.RuleAreaOutage:      "area outage",
}

// summary is an alert's one-line description, times in Asia/Shanghai.
func summary(in *lifecycle.Input) string {
	l := &in.Location
	var where string
	switch alerting.PlaceOf(in.Key.Rule) {
	case alerting.PlaceUnit:
		where = fmt.Sprintf("unit %s, building %s", l.Unit, l.Building)
	case alerting.PlaceGateway:
		where = fmt.Sprintf("gateway %s, building %s", l.Gateway, l.Building)
	case alerting.PlaceStreet:
		where = fmt.Sprintf("street %s, district %s", l.Street, l.District)
	default:
		where = fmt.Sprintf("%s %s, building %s", l.Kind, l.Device, l.Building)
		if l.Unit != "" {
			where += ", unit " + l.Unit
		}
	}
	if in.Key.Port != 0 {
		where += fmt.Sprintf(", port %d", in.Key.Port)
	}
	s := titles[in.Key.Rule] + " at " + where
	switch {
	case in.Unit != "" && in.Limit != 0:
		s += fmt.Sprintf(": %.4g %s (limit %.4g %s)", in.Value, in.Unit, in.Limit, in.Unit)
	case in.Unit != "":
		s += fmt.Sprintf(": %.4g %s", in.Value, in.Unit)
	}
	if in.Code != "" {
		s += ", code " + in.Code
	}
	since := time.UnixMilli(in.Since).In(registry.Shanghai())
	return s + ", since " + since.Format("2006-01-02 15:04:05")
}
