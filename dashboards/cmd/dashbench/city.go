package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chargewatch/chargewatch/dashboards"
)

// The benchmark city: buildings of 20 devices each (8 units with a meter and
// a smoke detector, a 4-port charging pile, an electrical-fire monitor, two
// smart plugs), 4 districts x 5 streets x 5 communities x N buildings.
const (
	metersPerBuilding = 8
	smokePerBuilding  = 8
	plugsPerBuilding  = 2
	pilePorts         = 4
	devicesPerBuild   = metersPerBuilding + smokePerBuilding + plugsPerBuilding + 2 // + pile, monitor
)

type building struct {
	id, community, street, district string
	n                               int
	lat, lon                        float64
}

func (b *building) tags(dev, gateway, unit string, port int) []byte {
	t := make([]byte, 0, 128)
	t = append(t, ",building="...)
	t = append(t, b.id...)
	t = append(t, ",community="...)
	t = append(t, b.community...)
	t = append(t, ",device="...)
	t = append(t, dev...)
	t = append(t, ",district="...)
	t = append(t, b.district...)
	t = append(t, ",gateway="...)
	t = append(t, gateway...)
	if port > 0 {
		t = append(t, ",port="...)
		t = strconv.AppendInt(t, int64(port), 10)
	}
	t = append(t, ",street="...)
	t = append(t, b.street...)
	if unit != "" {
		t = append(t, ",unit="...)
		t = append(t, unit...)
	}
	return t
}

// series is one series of readings with its tag set pre-rendered.
type series struct {
	m    string // measurement
	tags []byte // ",building=...,unit=..."
	n    int    // index, for values
	port int
	seq  int64
}

type city struct {
	buildings []*building
	frequent  []*series // every interval: meters, monitors, plugs, pile ports
	smoke     []*series // hourly
	devices   int
}

func newCity(devices int) *city {
	nb := max(1, devices/devicesPerBuild)
	c := &city{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range nb {
		d := i % 4
		s := (i / 4) % 5
		cm := (i / 20) % 5
		b := &building{
			id:        fmt.Sprintf("b%05d", i),
			district:  fmt.Sprintf("d%d", d),
			street:    fmt.Sprintf("d%d-s%d", d, s),
			community: fmt.Sprintf("d%d-s%d-c%d", d, s, cm),
			n:         i,
			lat:       30.2 + r.Float64()*0.2,
			lon:       120.0 + r.Float64()*0.3,
		}
		c.buildings = append(c.buildings, b)
		gw := "gw-" + b.id
		for u := range metersPerBuilding {
			unit := fmt.Sprintf("%s-u%d", b.id, u)
			c.frequent = append(c.frequent, &series{m: dashboards.Meter, tags: b.tags(fmt.Sprintf("%s-m%d", b.id, u), gw, unit, 0)})
			sid := fmt.Sprintf("%s-s%d", b.id, u)
			c.smoke = append(c.smoke, &series{m: dashboards.Smoke, tags: b.tags(sid, sid, unit, 0)})
		}
		for p := range plugsPerBuilding {
			c.frequent = append(c.frequent, &series{m: dashboards.Plug, tags: b.tags(fmt.Sprintf("%s-pl%d", b.id, p), gw, fmt.Sprintf("%s-u%d", b.id, p), 0)})
		}
		c.frequent = append(c.frequent, &series{m: dashboards.Monitor, tags: b.tags(b.id+"-mon", gw, "", 0)})
		pile := b.id + "-p"
		for port := 1; port <= pilePorts; port++ {
			c.frequent = append(c.frequent, &series{m: dashboards.Pile, tags: b.tags(pile, pile, "", port), port: port})
		}
		c.devices += devicesPerBuild
	}
	for i, s := range c.frequent {
		s.n = i
	}
	for i, s := range c.smoke {
		s.n = i
	}
	return c
}

// pileState: ports charge in the evening and at night, staggered by port.
func pileState(port int, ts time.Time) string {
	h := (ts.Hour() + 8 + port*3) % 24 // Asia/Shanghai, shifted per port
	switch {
	case h >= 19 && h < 23:
		return "charging"
	case h == 23:
		return "full"
	}
	return "idle"
}

// appendReading appends one line of line protocol for s at ts.
func appendReading(b []byte, s *series, ts time.Time, k int64) []byte {
	s.seq++
	b = append(b, s.m...)
	b = append(b, s.tags...)
	b = append(b, " seq="...)
	b = strconv.AppendInt(b, s.seq, 10)
	b = append(b, 'i')
	n := int64(s.n)
	f := func(name string, v float64) {
		b = append(b, ',')
		b = append(b, name...)
		b = append(b, '=')
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	switch s.m {
	case dashboards.Meter:
		f("power_w", float64((k*37+n*101)%2500+50))
		f("current_a", float64((k*37+n*101)%2500+50)/230)
		f("voltage_v", float64(220+(k+n)%15))
		f("energy_kwh", float64(n)*10+float64(k)/12)
		f("pf", 0.95)
	case dashboards.Plug:
		on := (k+n)%12 < 6
		p := 0.0
		if on {
			p = float64(50 + (k+n)%200)
		}
		b = append(b, ",relay_on="...)
		b = strconv.AppendBool(b, on)
		f("power_w", p)
		f("voltage_v", 229)
		f("energy_kwh", float64(k)/100)
	case dashboards.Monitor:
		f("leak_ma", float64(20+(k*13+n)%60))
		f("temp1_c", float64(30+(k+n)%15))
		f("temp2_c", float64(30+(k+2*n)%15))
		f("current_a", float64(5+(k+n)%30))
	case dashboards.Pile:
		st := pileState(s.port, ts)
		p := 0.0
		if st == "charging" {
			p = float64(300 + (k+n)%100)
		}
		b = append(b, ",state=\""...)
		b = append(b, st...)
		b = append(b, '"')
		f("power_w", p)
		f("temp_c", float64(25+(k+n)%10))
		b = append(b, ",fault=false"...)
	case dashboards.Smoke:
		b = append(b, ",smoke=false,battery_low=false,tamper=false,fault=false"...)
		f("battery_pct", float64(95-k/8640-n%10))
		f("rssi_dbm", float64(-60-(k+n)%20))
		f("link_quality", float64(200-(k+n)%40))
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts.Unix(), 10)
	return append(b, '\n')
}
