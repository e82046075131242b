// Package output writes a simulated city's traffic to files for offline
// evaluation: CSV (one file of readings per device kind, with a column per
// field of the kind's vocabulary, plus events.csv and status.csv) or JSON
// Lines (readings.jsonl, events.jsonl, status.jsonl, each line the wire
// contract object with the gateway, device and kind beside it).
package output

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Format is a file format.
type Format uint8

// Formats.
const (
	CSV Format = iota
	JSONL
)

// ParseFormat parses csv or jsonl.
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "csv":
		return CSV, true
	case "jsonl":
		return JSONL, true
	}
	return 0, false
}

// Writer writes messages to files in a directory.
type Writer struct {
	dir    string
	format Format
	files  []*os.File
	bufs   map[string]*bufio.Writer
	kinds  map[devices.Kind]*bufio.Writer
	events *csv.Writer
	status *csv.Writer
	line   []byte
	rows   int64
}

// Create creates dir (if needed) and the files of the format in it,
// replacing files of the same names.
func Create(dir string, f Format) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	w := &Writer{dir: dir, format: f, bufs: map[string]*bufio.Writer{}, kinds: map[devices.Kind]*bufio.Writer{}}
	open := func(name string) (*bufio.Writer, error) {
		file, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		w.files = append(w.files, file)
		b := bufio.NewWriterSize(file, 256<<10)
		w.bufs[name] = b
		return b, nil
	}
	if f == JSONL {
		for _, name := range []string{"readings.jsonl", "events.jsonl", "status.jsonl"} {
			if _, err := open(name); err != nil {
				w.Close()
				return nil, err
			}
		}
		return w, nil
	}
	for _, k := range devices.Kinds() {
		b, err := open("readings-" + k.String() + ".csv")
		if err != nil {
			w.Close()
			return nil, err
		}
		b.WriteString("ts,time,gateway,device,unit,building,seq,seq_reset,replay")
		for _, fl := range k.Vocabulary().Fields() {
			b.WriteString("," + fl.String())
		}
		b.WriteByte('\n')
		w.kinds[k] = b
	}
	eb, err := open("events.csv")
	if err != nil {
		w.Close()
		return nil, err
	}
	w.events = csv.NewWriter(eb)
	w.events.Write([]string{"ts", "time", "gateway", "device", "kind", "seq", "type", "port", "code", "detail", "replay"})
	sb, err := open("status.csv")
	if err != nil {
		w.Close()
		return nil, err
	}
	w.status = csv.NewWriter(sb)
	w.status.Write([]string{"at", "time", "gateway", "online", "ts", "uptime_s", "queue_depth", "poll_errors"})
	return w, nil
}

// Rows returns the number of rows (lines) written.
func (w *Writer) Rows() int64 { return w.rows }

// Write writes one message.
func (w *Writer) Write(m *city.Message) error {
	if w.format == JSONL {
		return w.jsonl(m)
	}
	switch m.Channel {
	case devices.ChannelTelemetry:
		b := w.kinds[m.Device.Kind]
		vocab := m.Device.Kind.Vocabulary().Fields()
		for i := range m.Readings {
			r := &m.Readings[i]
			l := w.line[:0]
			l = strconv.AppendInt(l, r.TS, 10)
			l = append(l, ',')
			l = append(l, simtime.Format(r.TS)...)
			l = append(l, ',')
			l = append(l, m.Gateway.ID...)
			l = append(l, ',')
			l = append(l, m.Device.ID...)
			l = append(l, ',')
			l = append(l, m.Device.Unit...)
			l = append(l, ',')
			l = append(l, m.Device.Building...)
			l = append(l, ',')
			l = strconv.AppendUint(l, r.Seq, 10)
			l = append(l, ',')
			l = strconv.AppendBool(l, r.SeqReset)
			l = append(l, ',')
			l = strconv.AppendBool(l, m.Replay)
			for _, f := range vocab {
				l = append(l, ',')
				v, ok := r.Get(f)
				if !ok {
					continue
				}
				switch f.Spec().Type {
				case devices.TypeBool:
					l = strconv.AppendBool(l, v != 0)
				case devices.TypeState:
					l = append(l, devices.PileState(v).String()...)
				default:
					l = strconv.AppendFloat(l, v, 'f', -1, 64)
				}
			}
			l = append(l, '\n')
			w.line = l
			if _, err := b.Write(l); err != nil {
				return fmt.Errorf("output: %w", err)
			}
			w.rows++
		}
	case devices.ChannelEvent:
		e := &m.Event
		port := ""
		if e.Port != 0 {
			port = strconv.Itoa(e.Port)
		}
		w.rows++
		return w.events.Write([]string{strconv.FormatInt(e.TS, 10), simtime.Format(e.TS), m.Gateway.ID, m.Device.ID, m.Device.Kind.String(),
			strconv.FormatUint(e.Seq, 10), e.Type.String(), port, e.Code, e.Detail, strconv.FormatBool(m.Replay)})
	case devices.ChannelStatus:
		s := m.Status
		opt := func(p *int64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatInt(*p, 10)
		}
		ts := ""
		if s.TS != 0 {
			ts = strconv.FormatInt(s.TS, 10)
		}
		w.rows++
		return w.status.Write([]string{strconv.FormatInt(m.At, 10), simtime.Format(m.At), m.Gateway.ID, strconv.FormatBool(s.Online), ts,
			opt(s.UptimeS), opt(s.QueueDepth), opt(s.PollErrors)})
	}
	return nil
}

func (w *Writer) jsonl(m *city.Message) error {
	l := w.line[:0]
	var b *bufio.Writer
	head := func(kind string) {
		l = append(l, `{"gateway":"`...)
		l = append(l, m.Gateway.ID...)
		if m.Device != nil {
			l = append(l, `","device":"`...)
			l = append(l, m.Device.ID...)
			l = append(l, `","kind":"`...)
			l = append(l, m.Device.Kind.String()...)
			if m.Device.Unit != "" {
				l = append(l, `","unit":"`...)
				l = append(l, m.Device.Unit...)
			}
		}
		l = append(l, `","replay":`...)
		l = strconv.AppendBool(l, m.Replay)
		l = append(l, `,"`...)
		l = append(l, kind...)
		l = append(l, `":`...)
	}
	switch m.Channel {
	case devices.ChannelTelemetry:
		b = w.bufs["readings.jsonl"]
		for i := range m.Readings {
			head("reading")
			l = devices.AppendReading(l, &m.Readings[i])
			l = append(l, "}\n"...)
			w.rows++
		}
	case devices.ChannelEvent:
		b = w.bufs["events.jsonl"]
		head("event")
		l = devices.AppendEvent(l, &m.Event)
		l = append(l, "}\n"...)
		w.rows++
	case devices.ChannelStatus:
		b = w.bufs["status.jsonl"]
		l = append(l, `{"at":`...)
		l = strconv.AppendInt(l, m.At, 10)
		l = append(l, `,"gateway":"`...)
		l = append(l, m.Gateway.ID...)
		l = append(l, `","status":`...)
		l = m.AppendPayload(l)
		l = append(l, "}\n"...)
		w.rows++
	default:
		return nil
	}
	w.line = l
	if _, err := b.Write(l); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// Close flushes and closes the files.
func (w *Writer) Close() error {
	var first error
	if w.events != nil {
		w.events.Flush()
		w.status.Flush()
	}
	for _, b := range w.bufs {
		if err := b.Flush(); err != nil && first == nil {
			first = fmt.Errorf("output: %w", err)
		}
	}
	for _, f := range w.files {
		if err := f.Close(); err != nil && first == nil {
			first = fmt.Errorf("output: %w", err)
		}
	}
	w.files = nil
	return first
}
