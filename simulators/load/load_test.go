package load

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestLoadCounts publishes a fixed number of messages and checks that a
// subscriber gets exactly those, decodable, on the load's topics.
func TestLoadCounts(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	for _, tc := range []struct {
		name  string
		batch int
		qos   byte
		msgs  int64
	}{
		{"single qos1", 1, 1, 6000},
		{"batch32 qos1", 32, 1, 600},
		{"single qos0", 1, 0, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := strings.ReplaceAll(strings.ToLower(tc.name), " ", "")
			var mu sync.Mutex
			var got atomic.Int64
			var readings atomic.Int64
			var bad []string
			dec := devices.NewDecoder(devices.DefaultLimits())
			sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("sub-" + prefix).SetOrderMatters(true))
			if tok := sub.Connect(); tok.Wait() && tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			defer sub.Disconnect(100)
			tok := sub.Subscribe("cw/v1/+/+/telemetry", 1, func(_ mqtt.Client, m mqtt.Message) {
				mu.Lock()
				defer mu.Unlock()
				tp, err := devices.ParseTopic(m.Topic())
				if err != nil || !strings.HasPrefix(tp.Gateway, prefix+"-gw-") {
					return // another test's
				}
				if !strings.HasPrefix(tp.Device, prefix+"-m-") {
					bad = append(bad, m.Topic())
				}
				rs, errs, e := dec.DecodeTelemetry(devices.KindMeter, m.Payload(), time.Now().UnixMilli(), nil, nil)
				if e != nil || len(errs) > 0 {
					bad = append(bad, string(m.Payload()))
				}
				readings.Add(int64(len(rs)))
				got.Add(1)
			})
			if tok.Wait() && tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			cfg := NewConfig()
			cfg.Broker, cfg.Devices, cfg.Connections, cfg.Batch, cfg.QoS, cfg.Messages, cfg.Prefix = mq.URL, 300, 3, tc.batch, tc.qos, tc.msgs, prefix
			sum, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Published != tc.msgs || sum.Readings != tc.msgs*int64(tc.batch) || (tc.qos == 1 && sum.Acked != tc.msgs) {
				t.Fatalf("summary %+v", sum)
			}
			deadline := time.Now().Add(20 * time.Second)
			for got.Load() < tc.msgs && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // nothing more may come
			mu.Lock()
			defer mu.Unlock()
			if got.Load() != tc.msgs || readings.Load() != sum.Readings || len(bad) > 0 {
				t.Fatalf("received %d messages (%d readings), published %d (%d); bad: %.300v", got.Load(), readings.Load(), tc.msgs, sum.Readings, bad)
			}
			t.Log(sum)
		})
	}
}

// TestLoadRate checks the pacing of a rate-limited run.
func TestLoadRate(t *testing.T) {
	mq := testenv.SharedMosquitto(t)
	cfg := NewConfig()
	cfg.Broker, cfg.Devices, cfg.Connections, cfg.Rate, cfg.Duration, cfg.Prefix = mq.URL, 100, 2, 4000, 1500*time.Millisecond, "ratetest"
	var ticks atomic.Int64
	cfg.Progress = func(Progress) { ticks.Add(1) }
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := 6000.0; float64(sum.Published) < 0.9*want || float64(sum.Published) > 1.05*want {
		t.Fatalf("published %d at 4000/s for 1.5 s", sum.Published)
	}
	if ticks.Load() < 1 {
		t.Fatal("no progress reported")
	}
}

func TestSiteAndConfig(t *testing.T) {
	cfg := NewConfig()
	cfg.Devices, cfg.Connections = 50, 3
	if err := Site(cfg).Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Broker = ""
	cfg.Batch = 501
	if err := cfg.check(); err == nil || !strings.Contains(err.Error(), "broker") || !strings.Contains(err.Error(), "batch 501") {
		t.Fatalf("check: %v", err)
	}
}

// BenchmarkPayload is the per-message generation cost: values and encoding.
func BenchmarkPayload(b *testing.B) {
	for _, batch := range []int{1, 32} {
		b.Run(map[int]string{1: "single", 32: "batch32"}[batch], func(b *testing.B) {
			m := &meter{base: 120}
			rs := make([]devices.Reading, batch)
			var payload []byte
			b.ReportAllocs()
			for b.Loop() {
				for j := range rs {
					fill(&rs[j], m, 1_767_225_600_000+m.next*1000)
					m.next++
				}
				payload = devices.AppendTelemetry(payload[:0], rs)
			}
			b.SetBytes(int64(len(payload)))
		})
	}
}
