package agent

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/modbus"
	"github.com/chargewatch/chargewatch/edge/queue"
	"github.com/chargewatch/chargewatch/edge/record"
)

// stamper gives each polled reading its seq and its timestamp and appends it
// to the queue.
//
// A reading's time is the start of its poll, measured on the monotonic
// clock. It is stamped with wall time only when the wall clock is believable
// (not before the floor): ts = now(wall) - (now(mono) - poll(mono)). Before
// that (a gateway without a battery-backed clock boots in 1970 and waits for
// NTP), readings are held in memory, with their monotonic poll time, and
// stamped the same way as soon as the clock is synchronised; the status
// message says clock "unsynced" meanwhile. Held readings do not survive a
// restart (the monotonic clock does not either); at most maxHeld are held
// and the oldest are dropped beyond that, counted.
type stamper struct {
	clock   clock.Clock
	floor   time.Time
	maxHeld int
	q       *queue.Queue
	log     *slog.Logger
	m       *agentMetrics

	mu     sync.Mutex
	seq    map[string]uint64
	held   []heldReading
	items  []queue.Item
	synced atomic.Bool
	nheld  atomic.Int64
}

type heldReading struct {
	mono time.Duration
	data []byte // record with ts 0
}

func newStamper(c clock.Clock, floor time.Time, maxHeld int, q *queue.Queue, log *slog.Logger, m *agentMetrics) *stamper {
	s := &stamper{clock: c, floor: floor, maxHeld: maxHeld, q: q, log: log, m: m, seq: map[string]uint64{}}
	s.synced.Store(clock.Synced(c.Now(), floor))
	return s
}

// add stamps and queues the readings of a sample, or holds them while the
// clock is not synchronised.
func (s *stamper) add(sm *modbus.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, mono := s.clock.Now(), s.clock.Mono()
	synced := s.checkClock(now)
	if synced && len(s.held) > 0 {
		s.flushHeld(now, mono)
	}
	for i := range sm.Readings {
		r := &sm.Readings[i]
		n := s.seq[sm.Device.ID] + 1
		s.seq[sm.Device.ID] = n
		r.Seq, r.SeqReset = n, n == 1
		if !synced {
			s.hold(sm.Device.ID, sm.Mono, r)
			continue
		}
		r.TS = stampTS(now, mono, sm.Mono)
		s.items = append(s.items, queue.Item{TS: r.TS, Data: record.Append(nil, sm.Device.ID, r)})
	}
	s.appendItems()
}

// tick flushes held readings once the clock is synchronised, even when no
// sample arrives (every device down).
func (s *stamper) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, mono := s.clock.Now(), s.clock.Mono()
	if s.checkClock(now) && len(s.held) > 0 {
		s.flushHeld(now, mono)
		s.appendItems()
	}
}

func stampTS(now time.Time, mono, at time.Duration) int64 {
	return now.Add(-(mono - at)).UnixMilli()
}

func (s *stamper) checkClock(now time.Time) bool {
	synced := clock.Synced(now, s.floor)
	if was := s.synced.Swap(synced); was != synced {
		if synced {
			s.log.Info("the wall clock is synchronised: stamping readings", "now", now.UTC().Format(time.RFC3339), "held_readings", len(s.held))
		} else {
			s.log.Warn("the wall clock reads before the floor: holding readings until it is synchronised (check NTP)",
				"now", now.UTC().Format(time.RFC3339), "floor", s.floor.Format(time.DateOnly))
		}
	}
	if synced {
		s.m.clockSynced.Set(1)
	} else {
		s.m.clockSynced.Set(0)
	}
	return synced
}

func (s *stamper) hold(dev string, at time.Duration, r *devices.Reading) {
	if len(s.held) >= s.maxHeld {
		n := len(s.held) - s.maxHeld + 1
		s.held = append(s.held[:0], s.held[n:]...)
		s.m.heldDropped.Add(float64(n))
		if s.m.heldDroppedNow.Add(int64(n)) == int64(n) {
			s.log.Warn("too many readings held while the clock is not synchronised: dropping the oldest", "max_held", s.maxHeld)
		}
	}
	s.held = append(s.held, heldReading{mono: at, data: record.Append(nil, dev, r)})
	s.nheld.Store(int64(len(s.held)))
}

func (s *stamper) flushHeld(now time.Time, mono time.Duration) {
	for _, h := range s.held {
		var r devices.Reading
		dev, err := record.Decode(h.data, &r)
		if err != nil {
			continue
		}
		r.TS = stampTS(now, mono, h.mono)
		s.items = append(s.items, queue.Item{TS: r.TS, Data: record.Append(nil, string(dev), &r)})
	}
	s.log.Info("stamped the readings held while the clock was not synchronised", "readings", len(s.held))
	s.held = s.held[:0]
	s.nheld.Store(0)
}

func (s *stamper) appendItems() {
	if len(s.items) == 0 {
		return
	}
	if err := s.q.Append(s.items...); err != nil {
		// A full or failing disk: these readings are lost, and counted.
		s.m.appendErrors.Add(float64(len(s.items)))
		s.log.Error("cannot queue readings: they are lost", "readings", len(s.items), "err", err)
	} else {
		s.m.readings.Add(float64(len(s.items)))
	}
	clear(s.items)
	s.items = s.items[:0]
}

// isSynced and heldCount are read by the status and metrics.
func (s *stamper) isSynced() bool   { return s.synced.Load() }
func (s *stamper) heldCount() int64 { return s.nheld.Load() }
