package ingest

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/ingest/adapters"
	"github.com/chargewatch/chargewatch/ingest/record"
)

// processor turns one MQTT message into log records: the accepted items
// of a message in one record, each rejection in its own. It is a pure
// function of its inputs apart from the seq tracker, and is used by one
// goroutine at a time (each session has its own).
type processor struct {
	dir     func() Directory
	dec     *devices.Decoder
	now     func() time.Time
	metrics *Metrics
	seq     *SeqTracker
	logger  *slog.Logger
	lastNS  int64 // last rejection timestamp, to keep them unique

	readings []devices.Reading
	events   []devices.Event
	itemErrs []devices.ItemError
	out      [][]byte
	bufs     [][]byte
	throttle logThrottle

	// adapters map foreign topics (nil: none configured)
	adapters *adapters.Router
	foreign  []byte

	// counters resolved once: WithLabelValues hashes on every call
	acceptedReadings, acceptedEvents, acceptedStatus prometheus.Counter
}

func newProcessor(dir func() Directory, limits devices.Limits, now func() time.Time, m *Metrics, seq *SeqTracker, logger *slog.Logger) *processor {
	return &processor{dir: dir, dec: devices.NewDecoder(limits), now: now, metrics: m, seq: seq, logger: logger,
		acceptedReadings: m.Accepted.WithLabelValues("reading"),
		acceptedEvents:   m.Accepted.WithLabelValues("event"),
		acceptedStatus:   m.Accepted.WithLabelValues("status")}
}

func (p *processor) buf(i int) []byte {
	for len(p.bufs) <= i {
		p.bufs = append(p.bufs, make([]byte, 0, 1024))
	}
	return p.bufs[i][:0]
}

func (p *processor) emit(b []byte) {
	p.bufs[len(p.out)] = b // keep grown capacity
	p.out = append(p.out, b)
}

// process validates a message and returns the records to append. The
// returned slices are reused by the next call.
func (p *processor) process(topic string, payload []byte, received time.Time) [][]byte {
	p.out = p.out[:0]
	if p.adapters != nil && !strings.HasPrefix(topic, devices.TopicPrefix) {
		return p.processForeign(topic, payload, received)
	}
	return p.processOne(topic, payload, received)
}

// processForeign maps a message of a device already installed (Tasmota,
// Shelly, Zigbee2MQTT, ThingsBoard) onto contract messages and processes
// each like one that arrived on its contract topic. What the adapter
// cannot map is quarantined with the foreign topic and payload.
func (p *processor) processForeign(topic string, payload []byte, received time.Time) [][]byte {
	mapped, rejects := p.adapters.Map(topic, payload, received)
	for _, e := range rejects {
		p.reject("", "", topic, payload, received, -1, e)
	}
	for i := range mapped {
		m := &mapped[i]
		p.foreign = m.AppendPayload(p.foreign[:0])
		p.processOne(m.Topic(), p.foreign, received)
	}
	return p.out
}

// processOne appends the records of one contract message to p.out.
func (p *processor) processOne(topic string, payload []byte, received time.Time) [][]byte {
	t, err := devices.ParseTopic(topic)
	if err != nil {
		p.reject("", "", topic, payload, received, -1, err.(*devices.Error))
		return p.out
	}
	dir := p.dir()
	d, known := dir.Device(t.Device)
	switch {
	case t.Channel == devices.ChannelStatus && t.Device == t.Gateway && dir.GatewayKnown(t.Gateway):
		// The gateway's own status (and Last Will). A device that connects
		// by itself is its own gateway and has a kind (else d is zero).
	case t.Channel == devices.ChannelCmd:
		p.reject(t.Gateway, t.Device, topic, payload, received, -1, &devices.Error{Reason: devices.ReasonBadTopic,
			Msg: fmt.Sprintf("topic %q is a command topic: devices must not publish on cmd", topic)})
		return p.out
	case !known && !dir.GatewayKnown(t.Gateway):
		return p.unknownGateway(t, topic, payload, received)
	case !known:
		p.reject(t.Gateway, t.Device, topic, payload, received, -1, &devices.Error{Reason: devices.ReasonUnknownDevice,
			Msg: fmt.Sprintf("device %q is not registered: add it under gateway %q in the site file and import it", t.Device, t.Gateway)})
		return p.out
	case d.Gateway != t.Gateway:
		if !dir.GatewayKnown(t.Gateway) {
			return p.unknownGateway(t, topic, payload, received)
		}
		p.reject(t.Gateway, t.Device, topic, payload, received, -1, &devices.Error{Reason: devices.ReasonWrongGateway,
			Msg: fmt.Sprintf("device %q is registered under gateway %q, not %q: fix the gateway config or move the device in the registry", t.Device, d.Gateway, t.Gateway)})
		return p.out
	}
	kind, ports := d.Kind, d.Ports
	now := received.UnixMilli()
	switch t.Channel {
	case devices.ChannelTelemetry:
		var e *devices.Error
		p.readings, p.itemErrs, e = p.dec.DecodeTelemetry(kind, payload, now, p.readings[:0], p.itemErrs[:0])
		if e != nil {
			p.reject(t.Gateway, t.Device, topic, payload, received, -1, e)
			return p.out
		}
		if ports > 1 {
			p.requirePort()
		}
		if len(p.readings) > 0 {
			p.seq.ObserveAt(t.Device, p.readings, received)
			p.emit(record.AppendReadings(p.buf(len(p.out)), received.UnixNano(), t.Gateway, t.Device, kind, p.readings))
			p.acceptedReadings.Add(float64(len(p.readings)))
		}
	case devices.ChannelEvent:
		var e *devices.Error
		p.events, p.itemErrs, e = p.dec.DecodeEvents(kind, payload, now, p.events[:0], p.itemErrs[:0])
		if e != nil {
			p.reject(t.Gateway, t.Device, topic, payload, received, -1, e)
			return p.out
		}
		if len(p.events) > 0 {
			p.emit(record.AppendEvents(p.buf(len(p.out)), received.UnixNano(), t.Gateway, t.Device, kind, p.events))
			p.acceptedEvents.Add(float64(len(p.events)))
		}
	case devices.ChannelStatus:
		if len(payload) == 0 {
			// An empty retained message is how a retained status is
			// cleared: nothing to store, nothing wrong.
			return p.out
		}
		st, e := p.dec.DecodeStatus(payload, now)
		if e != nil {
			p.reject(t.Gateway, t.Device, topic, payload, received, -1, e)
			return p.out
		}
		p.emit(record.AppendStatus(p.buf(len(p.out)), received.UnixNano(), t.Gateway, t.Device, kind, st))
		p.acceptedStatus.Inc()
	}
	for _, ie := range p.itemErrs {
		p.reject(t.Gateway, t.Device, topic, payload, received, ie.Index, ie.Err)
	}
	return p.out
}

func (p *processor) unknownGateway(t devices.Topic, topic string, payload []byte, received time.Time) [][]byte {
	p.reject(t.Gateway, t.Device, topic, payload, received, -1, &devices.Error{Reason: devices.ReasonUnknownGateway,
		Msg: fmt.Sprintf("gateway %q is not registered: add it to the site file and import it (chargewatch devices import)", t.Gateway)})
	return p.out
}

// requirePort moves readings of a multi-port pile that do not name their
// port to the item errors: without the port tag they would overwrite each
// other in InfluxDB (same device, same ts).
func (p *processor) requirePort() {
	kept := p.readings[:0]
	for i := range p.readings {
		if p.readings[i].Set.Has(devices.FieldPort) {
			kept = append(kept, p.readings[i])
			continue
		}
		// The reading's position in the message is not known here (-1);
		// its seq names it.
		p.itemErrs = append(p.itemErrs, devices.ItemError{Index: -1, Err: &devices.Error{Reason: devices.ReasonMissingField,
			Msg: fmt.Sprintf(`reading seq %d of a multi-port pile has no port: add the port number, e.g. "port":2`, p.readings[i].Seq)}})
	}
	p.readings = kept
}

// reject quarantines a message or one of its items. Rejections get unique
// nanosecond timestamps so that they never overwrite each other in
// InfluxDB.
func (p *processor) reject(gw, dev, topic string, payload []byte, received time.Time, index int, e *devices.Error) {
	ns := received.UnixNano()
	if ns <= p.lastNS {
		ns = p.lastNS + 1
	}
	p.lastNS = ns
	rj := record.Rejected{Reason: e.Reason, Message: e.Msg, Topic: topic, Payload: payload, Size: len(payload), Index: index}
	p.emit(record.AppendRejected(p.buf(len(p.out)), ns, gw, dev, &rj))
	p.metrics.Rejected.WithLabelValues(string(e.Reason)).Inc()
	if p.throttle.allow(received) {
		p.logger.Warn("rejected message to quarantine", "reason", e.Reason, "topic", trunc(topic, 120), "err", e.Msg, "suppressed", p.throttle.take())
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// logThrottle lets one log line through per second and counts the rest.
type logThrottle struct {
	last       time.Time
	suppressed int
}

func (t *logThrottle) allow(now time.Time) bool {
	if now.Sub(t.last) >= time.Second {
		t.last = now
		return true
	}
	t.suppressed++
	return false
}

func (t *logThrottle) take() int {
	n := t.suppressed
	t.suppressed = 0
	return n
}

// SeqTracker accounts for loss and duplication per device from the seq
// counters of readings. It is safe for concurrent use.
type SeqTracker struct {
	mu      sync.Mutex
	last    map[string]*seqState
	metrics *Metrics
}

type seqState struct {
	seen       int64 // Unix seconds of the last message
	last       uint64
	missing    uint64
	duplicates uint64
}

// NewSeqTracker returns an empty tracker.
func NewSeqTracker(m *Metrics) *SeqTracker {
	return &SeqTracker{last: map[string]*seqState{}, metrics: m}
}

// Observe accounts for one message's readings of a device.
func (t *SeqTracker) Observe(device string, rs []devices.Reading) {
	t.ObserveAt(device, rs, time.Now())
}

// ObserveAt is Observe with the receive time given.
func (t *SeqTracker) ObserveAt(device string, rs []devices.Reading, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.last[device]
	if st != nil {
		st.seen = now.Unix()
	}
	if st == nil {
		st = &seqState{seen: now.Unix()}
		t.last[device] = st
		if len(rs) > 0 && !rs[0].SeqReset {
			st.last = rs[0].Seq - 1 // first sighting: nothing is known to be missing
		}
	}
	for i := range rs {
		r := &rs[i]
		switch {
		case r.SeqReset:
			t.metrics.SeqResets.Inc()
			if r.Seq > 1 {
				st.missing += r.Seq - 1
				t.metrics.SeqMissing.Add(float64(r.Seq - 1))
			}
			st.last = r.Seq
		case r.Seq == st.last+1:
			st.last = r.Seq
		case r.Seq > st.last+1:
			gap := r.Seq - st.last - 1
			st.missing += gap
			t.metrics.SeqMissing.Add(float64(gap))
			st.last = r.Seq
		default:
			// Seen before: a redelivery, or a late reading replayed after a
			// gap that was counted missing (then it is no longer missing).
			st.duplicates++
			t.metrics.SeqDuplicate.Inc()
		}
	}
}

// Forget drops what is known of devices' seq counters: a replaced device
// (same id, new hardware) starts counting again without counting the
// restart as loss.
func (t *SeqTracker) Forget(ids ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		delete(t.last, id)
	}
}

// Active returns how many devices sent readings since the given time.
func (t *SeqTracker) Active(since time.Time) int {
	s := since.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, st := range t.last {
		if st.seen >= s {
			n++
		}
	}
	return n
}

// DeviceLoss is the loss account of one device.
type DeviceLoss struct {
	Device     string `json:"device"`
	LastSeq    uint64 `json:"last_seq"`
	Missing    uint64 `json:"missing"`
	Duplicates uint64 `json:"duplicates"`
}

// Worst returns the n devices with the most missing readings.
func (t *SeqTracker) Worst(n int) []DeviceLoss {
	t.mu.Lock()
	out := make([]DeviceLoss, 0, len(t.last))
	for d, st := range t.last {
		if st.missing > 0 || st.duplicates > 0 {
			out = append(out, DeviceLoss{Device: d, LastSeq: st.last, Missing: st.missing, Duplicates: st.duplicates})
		}
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Missing != out[j].Missing {
			return out[i].Missing > out[j].Missing
		}
		return out[i].Device < out[j].Device
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
