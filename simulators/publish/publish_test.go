package publish

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/sitegen"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type received struct {
	topic    string
	payload  []byte
	retained bool
}

// subscribe subscribes to cw/v1/# at QoS 1 and collects what arrives.
func subscribe(t *testing.T, url string) (func() []received, func(n int, timeout time.Duration) []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("sub-" + strings.ToLower(t.Name())).SetCleanSession(true).SetOrderMatters(false)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	tok := c.Subscribe("cw/v1/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		got = append(got, received{m.Topic(), bytes.Clone(m.Payload()), m.Retained()})
		mu.Unlock()
	})
	if tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	snapshot := func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
	wait := func(n int, timeout time.Duration) []received {
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			if s := snapshot(); len(s) >= n {
				return s
			}
			time.Sleep(20 * time.Millisecond)
		}
		return snapshot()
	}
	return snapshot, wait
}

func smallCity(t *testing.T, seed uint64, from time.Time) *city.City {
	sc := scenario.Default()
	sc.Seed = seed
	g := scenario.DefaultGenerate()
	g.Buildings, g.StreetsPerDistrict, g.CommunitiesPerStreet, g.UnitsPerBuilding = 2, 1, 1, 6
	sc.Generate = &g
	sc.Hazards.SmokeTest = 2 // some events
	c, err := city.New(sc, sitegen.Generate(seed, g, sc.Intervals), city.Options{Epoch: from})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPublishBackfill publishes a two-hour backfill and checks that a
// subscriber receives exactly what was published, on the right topics,
// decodable by the contract's decoder.
func TestPublishBackfill(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	_, wait := subscribe(t, mq.URL)
	now := time.Now()
	from := now.Add(-2 * time.Hour)
	c := smallCity(t, 11, from)
	p := New(Config{Broker: mq.URL, QoS: 1, InFlight: 200})
	ctx := context.Background()
	if err := p.Connect(ctx, c.Gateways()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{} // topic -> messages
	kinds := map[string]devices.Kind{}
	st, err := c.Run(ctx, city.RunOptions{From: from, To: now, Batch: 2, StatusEvery: 10 * time.Minute, Emit: func(m *city.Message) error {
		if m.Channel != devices.ChannelStatus {
			want[m.Topic()]++
			kinds[m.Topic()] = m.Device.Kind
		}
		return p.Publish(ctx, m)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ps := p.Close(10 * time.Second)
	if ps.Failed != 0 || ps.Acked != ps.Published {
		t.Fatalf("publisher: %+v", ps)
	}
	total := int(st.Messages - st.Statuses)
	// data messages plus an online status on connect and an offline one at close per gateway
	got := wait(total+2*len(c.Gateways()), 20*time.Second)
	dec := devices.NewDecoder(devices.DefaultLimits())
	have := map[string]int{}
	statuses := map[string][]string{}
	readings := 0
	for _, m := range got {
		if m.retained {
			continue // left by an earlier test
		}
		tp, err := devices.ParseTopic(m.topic)
		if err != nil {
			t.Fatal(err)
		}
		switch tp.Channel {
		case devices.ChannelTelemetry:
			rs, errs, e := dec.DecodeTelemetry(kinds[m.topic], m.payload, time.Now().UnixMilli(), nil, nil)
			if e != nil || len(errs) > 0 {
				t.Fatalf("%s: %s: %v %v", m.topic, m.payload, e, errs)
			}
			readings += len(rs)
		case devices.ChannelEvent:
			if _, errs, e := dec.DecodeEvents(kinds[m.topic], m.payload, time.Now().UnixMilli(), nil, nil); e != nil || len(errs) > 0 {
				t.Fatalf("%s: %s: %v %v", m.topic, m.payload, e, errs)
			}
		case devices.ChannelStatus:
			if tp.Gateway != tp.Device {
				t.Fatalf("status on a device topic %s", m.topic)
			}
			statuses[tp.Gateway] = append(statuses[tp.Gateway], string(m.payload))
			continue
		}
		have[m.topic]++
	}
	for topic, n := range want {
		if have[topic] != n {
			t.Errorf("%s: published %d, received %d", topic, n, have[topic])
		}
	}
	if len(have) != len(want) || readings != int(st.Readings) {
		t.Errorf("received %d topics and %d readings, published %d and %d", len(have), readings, len(want), st.Readings)
	}
	for _, g := range c.Gateways() {
		s := statuses[g.ID]
		if len(s) < 2 || !strings.HasPrefix(s[0], `{"online":true`) || s[len(s)-1] != `{"online":false}` {
			t.Errorf("gateway %s statuses %v", g.ID, s)
		}
	}
	t.Logf("%d messages, %d readings, publisher %+v", total, readings, ps)
}

// TestLastWill acts out a gateway outage live: the connection drops, the
// broker publishes the gateway's retained will, and on return the gateway
// reconnects with a retained online status.
func TestLastWill(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	snapshot, _ := subscribe(t, mq.URL)
	from := time.Now()
	c := smallCity(t, 12, from)
	g := c.Gateways()[0]
	p := New(Config{Broker: mq.URL, QoS: 1, Live: true})
	ctx := context.Background()
	if err := p.Connect(ctx, []*city.Gateway{g}); err != nil {
		t.Fatal(err)
	}
	statuses := func() []string {
		var s []string
		for _, m := range snapshot() {
			if m.topic == g.StatusTopic() && !m.retained { // retained: left by an earlier test
				s = append(s, string(m.payload))
			}
		}
		return s
	}
	waitFor := func(what string, ok func([]string) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(statuses()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: statuses %v", what, statuses())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("online on connect", func(s []string) bool { return len(s) == 1 && strings.HasPrefix(s[0], `{"online":true`) })
	if err := p.Publish(ctx, &city.Message{Gateway: g, Channel: devices.ChannelStatus, Status: devices.Status{Online: false}}); err != nil {
		t.Fatal(err)
	}
	waitFor("the broker's last will", func(s []string) bool { return len(s) == 2 && s[1] == `{"online":false}` })
	now := time.Now().UnixMilli()
	if err := p.Publish(ctx, &city.Message{At: now, Gateway: g, Channel: devices.ChannelStatus, Status: devices.Status{Online: true, TS: now}}); err != nil {
		t.Fatal(err)
	}
	waitFor("online again", func(s []string) bool { return len(s) >= 3 && strings.HasPrefix(s[len(s)-1], `{"online":true`) })
	p.Close(5 * time.Second)
}
