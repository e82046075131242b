// Package adaptertest runs an adapter on captured messages and checks what
// it maps against golden files, and fuzzes it.
//
// Each case is a folder under testdata/cases of the adapter's package:
//
//	source   where the message was captured: the project's documentation
//	         or issue tracker page, the device and firmware (first line),
//	         and notes
//	topic    the MQTT topic, one line
//	payload  the payload exactly as the device published it
//	now      optional: the receive time, RFC 3339 (default 2026-01-01T00:00:00Z)
//	want     golden output: one line per contract message ("topic payload")
//	         and per rejection ("! reason: message"), in order
//
// Set CHARGEWATCH_UPDATE_GOLDEN=1 to rewrite the want files; review the diff.
// Every contract message must also pass the contract decoder for the
// device kind: an adapter can only produce what a device could send.
package adaptertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
)

// DefaultNow is the receive time of cases that give none.
var DefaultNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Case is one captured message.
type Case struct {
	Name    string
	Source  string
	Topic   string
	Payload []byte
	Now     time.Time
	Want    string
	dir     string
}

// Cases reads the cases under dir.
func Cases(tb testing.TB, dir string) []Case {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		c := Case{Name: e.Name(), dir: d, Now: DefaultNow}
		read := func(name string, required bool) []byte {
			b, err := os.ReadFile(filepath.Join(d, name))
			if err != nil && (required || !os.IsNotExist(err)) {
				tb.Fatalf("case %s: %v", e.Name(), err)
			}
			return b
		}
		c.Source = strings.TrimSpace(string(read("source", true)))
		c.Topic = strings.TrimSpace(string(read("topic", true)))
		c.Payload = read("payload", true)
		c.Want = string(read("want", false))
		if n := strings.TrimSpace(string(read("now", false))); n != "" {
			if c.Now, err = time.Parse(time.RFC3339, n); err != nil {
				tb.Fatalf("case %s: now: %v", e.Name(), err)
			}
		}
		if c.Source == "" {
			tb.Fatalf("case %s: say where the message comes from in its source file", e.Name())
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		tb.Fatalf("no cases under %s", dir)
	}
	return out
}

// Render runs the adapter on a message and writes what it maps, one line
// each, checking every contract message against the decoder for kind.
func Render(tb testing.TB, a adapters.Adapter, kind func(device string) devices.Kind, topic string, payload []byte, now time.Time) string {
	tb.Helper()
	ms, rejects := a.Map(topic, payload, now)
	var b strings.Builder
	for i := range ms {
		m := &ms[i]
		p := m.AppendPayload(nil)
		if err := Decodes(m, p, kind(m.Device), now); err != nil {
			tb.Errorf("%s: %s %s does not pass the contract decoder: %v", topic, m.Topic(), p, err)
		}
		fmt.Fprintf(&b, "%s %s\n", m.Topic(), p)
	}
	for _, r := range rejects {
		if r == nil || r.Reason == "" || r.Msg == "" {
			tb.Errorf("%s: a rejection without a reason or message: %+v", topic, r)
			continue
		}
		fmt.Fprintf(&b, "! %s: %s\n", r.Reason, r.Msg)
	}
	return b.String()
}

// Decodes checks a mapped message with the contract's decoder.
func Decodes(m *adapters.Mapped, payload []byte, kind devices.Kind, now time.Time) error {
	if _, err := devices.ParseTopic(m.Topic()); err != nil {
		return err
	}
	// The ingest window (how old or new ts may be) is the ingester's policy,
	// not a property of the mapping: allow any time of two centuries.
	limits := devices.DefaultLimits()
	limits.MaxPast, limits.MaxFuture = 200*365*24*time.Hour, 200*365*24*time.Hour
	dec := devices.NewDecoder(limits)
	ms := now.UnixMilli()
	switch m.Channel {
	case devices.ChannelTelemetry:
		rs, items, e := dec.DecodeTelemetry(kind, payload, ms, nil, nil)
		if e != nil {
			return e
		}
		if len(items) > 0 {
			return items[0].Err
		}
		if len(rs) != len(m.Readings) {
			return fmt.Errorf("%d readings decoded, %d mapped", len(rs), len(m.Readings))
		}
	case devices.ChannelEvent:
		evs, items, e := dec.DecodeEvents(kind, payload, ms, nil, nil)
		if e != nil {
			return e
		}
		if len(items) > 0 {
			return items[0].Err
		}
		if len(evs) != len(m.Events) {
			return fmt.Errorf("%d events decoded, %d mapped", len(evs), len(m.Events))
		}
	case devices.ChannelStatus:
		if _, e := dec.DecodeStatus(payload, ms); e != nil {
			return e
		}
	default:
		return fmt.Errorf("channel %v", m.Channel)
	}
	return nil
}

// Run checks every case against its golden file. newAdapter makes a fresh
// adapter per case (so seq numbers start at 1).
func Run(t *testing.T, dir string, newAdapter func() adapters.Adapter, kind func(device string) devices.Kind) {
	update := os.Getenv("CHARGEWATCH_UPDATE_GOLDEN") == "1"
	for _, c := range Cases(t, dir) {
		t.Run(c.Name, func(t *testing.T) {
			got := Render(t, newAdapter(), kind, c.Topic, c.Payload, c.Now)
			if update {
				if err := os.WriteFile(filepath.Join(c.dir, "want"), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != c.Want {
				t.Errorf("%s (%s):\n got:\n%s\nwant:\n%s\n(CHARGEWATCH_UPDATE_GOLDEN=1 rewrites the want files)", c.Name, firstLine(c.Source), got, c.Want)
			}
		})
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Fuzz fuzzes Map with the cases' topics and payloads as seeds: it must
// not panic, and whatever it maps must pass the contract decoder (values
// in range, known fields, valid ids), with a reason on every rejection.
//
// With CHARGEWATCH_WRITE_CORPUS=1 it writes the committed seed corpus
// (testdata/fuzz/FuzzMap): every case, every case's payload cut in half,
// and hostile payloads on every case's topic.
func Fuzz(f *testing.F, dir string, newAdapter func() adapters.Adapter, kind func(device string) devices.Kind) {
	cases := Cases(f, dir)
	for _, c := range cases {
		f.Add(c.Topic, c.Payload)
	}
	if os.Getenv("CHARGEWATCH_WRITE_CORPUS") == "1" {
		writeCorpus(f, cases)
	}
	a := newAdapter()
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		Render(t, a, kind, topic, payload, DefaultNow)
	})
}

// hostile payloads, tried on every case's topic.
var hostile = []string{
	"", "null", "[]", "{}", "true", "0", `""`, "{", `{"a":`, "\xff\xfe", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
	`{"ENERGY":{"Power":1e309,"Voltage":-1,"Total":[1,2],"Factor":"0.9"}}`,
	`{"smoke":null,"battery":"1e400","linkquality":-1,"battery_low":1}`,
	`{"method":"NotifyStatus","params":{"ts":-1,"switch:0":{"apower":"NaN","output":"on","errors":[1]}}}`,
	`{"Device A":[{"ts":1.5,"values":{"temperature":"hot"}}],"":{}}`,
	`{"Device A":{"values":null}}`,
}

func writeCorpus(tb testing.TB, cases []Case) {
	dir := filepath.Join("testdata", "fuzz", tb.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	write := func(name, topic string, payload []byte) {
		body := fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", topic, payload)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for _, c := range cases {
		write("case-"+c.Name, c.Topic, c.Payload)
		write("half-"+c.Name, c.Topic, c.Payload[:len(c.Payload)/2])
	}
	for i, h := range hostile {
		c := cases[i%len(cases)]
		write(fmt.Sprintf("hostile-%02d", i), c.Topic, []byte(h))
	}
	write("topic-wildcards", "#/+/$SYS", []byte("{}"))
}

// Maker returns a function that builds an adapter of gateway with cfg
// through an adapter package's New, failing tb if New refuses cfg: the
// newAdapter argument of Run and Fuzz.
func Maker[C any, A adapters.Adapter](tb testing.TB, newFn func(string, C) (A, error), gateway string, cfg C) func() adapters.Adapter {
	return func() adapters.Adapter {
		a, err := newFn(gateway, cfg)
		if err != nil {
			tb.Fatal(err)
		}
		return a
	}
}
