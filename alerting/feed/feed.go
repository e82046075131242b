// Package feed connects the ingest durable logs to the alerting engine. It
// reads both logs (telemetry; events and status) through the engine's own
// cursors, hands every record to the engine, and commits the engine's state
// together with the log positions. Events and status are fed on their own
// goroutine and committed at once, so a smoke alarm never waits behind
// telemetry; telemetry is committed every CommitEvery or CommitRecords, and
// at once when it raised or resolved an alert (Engine.Changed).
//
// After a crash the feed resumes from the position the engine committed
// (Engine.Cursor): records fed after the last commit are fed again, which
// the detectors ignore as not newer than what they saw.
//
// With sliced checkpoints (engine.Options.CheckpointSlice, with Mark as the
// engine's Marker) a commit writes the alert changes and only a slice of
// the device states, so an alarm's commit never waits behind the state of
// a whole city; the ticker's checkpoint then commits slice after slice
// until every state is written. The engine's durable cursor trails the
// fed positions by the states not yet written, and the logs are let go
// only up to it (Engine.Durable).
package feed

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest/record"
	"github.com/chargewatch/chargewatch/ingest/wal"
)

// Consumer is the engine's consumer name in the ingest logs.
const Consumer = "engine"

// Engine is what the feed drives; *engine.Engine implements it.
type Engine interface {
	Reading(dev *registry.Device, r *devices.Reading)
	Event(dev *registry.Device, ev *devices.Event)
	Status(gateway, device string, st devices.Status, received time.Time)
	Commit(ctx context.Context, cursor []byte, lag time.Duration) error
	Cursor() []byte
	// Changed receives when an alert transition waits for a commit.
	Changed() <-chan struct{}
}

// durabler is an Engine whose commits may write less than they are given
// (sliced checkpoints): Durable is the cursor of what is written, Dirty
// how many device states are not.
type durabler interface {
	Durable() []byte
	Dirty() int
}

// Mark returns the input cursor from which the input not yet fed begins:
// the engine's Marker for sliced checkpoints. It is called by the engine
// while a record is being fed, so the record itself is after the mark. A
// nil Feed (not built yet) has no mark.
func (f *Feed) Mark() []byte {
	if f == nil {
		return nil
	}
	c := make([]byte, 16)
	binary.BigEndian.PutUint64(c, f.fedTel.Load())
	binary.BigEndian.PutUint64(c[8:], f.fedEv.Load())
	return c
}

// Registry gives the current registry snapshot.
type Registry interface{ Current() *registry.Snapshot }

// Options tune the feed.
type Options struct {
	// CommitEvery is how often telemetry is committed while busy when it
	// changed no alert: every commit checkpoints the detector state of every
	// device that had a reading, so this is the main cost of the engine at
	// high rates; a crash replays at most this much of the log. Default 5 s.
	CommitEvery   time.Duration
	CommitRecords int // or after this many telemetry records; default 50000
	// MaxSlices bounds the commits of one checkpoint with sliced engine
	// checkpoints (the rest waits for the next); default 64.
	MaxSlices int
	Logger    *slog.Logger
}

// Feed reads the logs into the engine.
type Feed struct {
	eng        Engine
	reg        Registry
	tel, ev    *wal.Log
	opt        Options
	log        *slog.Logger
	fedTel     atomic.Uint64 // log position up to which records were fed
	fedEv      atomic.Uint64
	lagNS      atomic.Int64 // how far the telemetry feed is behind
	kick       chan struct{}
	commitMu   sync.Mutex
	committed  [2]wal.Pos
	telRd, evR *wal.Reader
}

// New prepares a feed of the two logs into eng.
func New(eng Engine, reg Registry, telemetry, events *wal.Log, opt Options) (*Feed, error) {
	if opt.CommitEvery <= 0 {
		opt.CommitEvery = 5 * time.Second
	}
	if opt.CommitRecords <= 0 {
		opt.CommitRecords = 50000
	}
	if opt.MaxSlices <= 0 {
		opt.MaxSlices = 64
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Feed{eng: eng, reg: reg, tel: telemetry, ev: events, opt: opt, log: opt.Logger, kick: make(chan struct{}, 1)}
	var err error
	if f.telRd, err = telemetry.Reader(Consumer); err != nil {
		return nil, err
	}
	if f.evR, err = events.Reader(Consumer); err != nil {
		return nil, err
	}
	// Skip what the engine has already committed but the logs' cursors
	// had not recorded yet when the process stopped.
	if c := eng.Cursor(); len(c) == 16 {
		want := [2]wal.Pos{wal.Pos(binary.BigEndian.Uint64(c)), wal.Pos(binary.BigEndian.Uint64(c[8:]))}
		for i, r := range []*wal.Reader{f.telRd, f.evR} {
			for r.Pos() < want[i] {
				if _, ok, err := r.TryNext(); err != nil || !ok {
					break
				}
			}
		}
	} else if len(c) != 0 {
		return nil, fmt.Errorf("alerting feed: the engine's cursor has %d bytes, want 16: was the alert database written by another program?", len(c))
	}
	f.fedTel.Store(uint64(f.telRd.Pos()))
	f.fedEv.Store(uint64(f.evR.Pos()))
	f.committed = [2]wal.Pos{f.telRd.Pos(), f.evR.Pos()}
	return f, nil
}

// Run feeds until ctx ends, then commits once more.
func (f *Feed) Run(ctx context.Context) error {
	defer f.telRd.Close()
	defer f.evR.Close()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(3)
	go func() { defer wg.Done(); errc <- f.feed(fctx, f.telRd, f.tel, &f.fedTel, false) }()
	go func() { defer wg.Done(); errc <- f.feed(fctx, f.evR, f.ev, &f.fedEv, true) }()
	go func() { defer wg.Done(); errc <- f.committer(fctx) }()
	var err error
	for range 3 {
		if e := <-errc; e != nil && !errors.Is(e, context.Canceled) && !errors.Is(e, wal.ErrClosed) && err == nil {
			err = e
			cancel()
		}
	}
	wg.Wait()
	// Final commit of what was fed, with a fresh context: with sliced
	// checkpoints, slice after slice until every state is written, so the
	// next start replays nothing.
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	cerr := f.commit(cctx)
	if d, ok := f.eng.(durabler); ok {
		for cerr == nil && d.Dirty() > 0 && cctx.Err() == nil {
			cerr = f.commit(cctx)
		}
	}
	if cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func (f *Feed) feed(ctx context.Context, r *wal.Reader, l *wal.Log, fed *atomic.Uint64, urgent bool) error {
	dec := record.NewDecoder()
	n := 0
	for {
		b, pos, err := r.Next(ctx)
		if err != nil {
			return err
		}
		rec, err := dec.Decode(b)
		if err != nil {
			return fmt.Errorf("alerting feed: corrupt record at %v: %w", pos, err)
		}
		f.apply(rec)
		fed.Store(uint64(pos))
		n++
		if !urgent {
			if pos < l.Durable() {
				f.lagNS.Store(time.Since(time.Unix(0, rec.Received)).Nanoseconds())
			} else {
				f.lagNS.Store(0)
			}
		}
		// Commit at once for events and status (alarms must not wait);
		// telemetry after CommitRecords, else on the committer's ticker:
		// every telemetry commit checkpoints the detector state of every
		// device that changed, and an alarm's commit must not queue
		// behind a stream of them.
		if urgent || n >= f.opt.CommitRecords {
			n = 0
			select {
			case f.kick <- struct{}{}:
			default:
			}
		}
	}
}

func (f *Feed) apply(rec *record.Record) {
	snap := f.reg.Current()
	switch rec.Type {
	case record.TypeReadings:
		dev, ok := snap.Device(rec.Device)
		if !ok {
			return // removed from the registry since it was ingested
		}
		for i := range rec.Readings {
			f.eng.Reading(dev, &rec.Readings[i])
		}
	case record.TypeEvents:
		dev, ok := snap.Device(rec.Device)
		if !ok {
			return
		}
		for i := range rec.Events {
			f.eng.Event(dev, &rec.Events[i])
		}
	case record.TypeStatus:
		f.eng.Status(rec.Gateway, rec.Device, rec.Status, time.Unix(0, rec.Received))
	}
}

func (f *Feed) committer(ctx context.Context) error {
	t := time.NewTicker(f.opt.CommitEvery)
	defer t.Stop()
	for {
		checkpoint := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.kick:
		case <-f.eng.Changed():
		case <-t.C:
			checkpoint = true
		}
		err := f.commit(ctx)
		if d, ok := f.eng.(durabler); ok && checkpoint {
			// The rest of the states, a slice per commit: alarms fed
			// meanwhile go out with the next slice.
			for i := 1; err == nil && i < f.opt.MaxSlices && d.Dirty() > 0 && ctx.Err() == nil; i++ {
				err = f.commit(ctx)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The engine keeps what it has; the next commit retries.
			f.log.Error("alerting engine commit failed; retrying", "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// commit makes the engine durable up to the fed positions, then moves the
// logs' cursors so their segments can be freed.
func (f *Feed) commit(ctx context.Context) error {
	f.commitMu.Lock()
	defer f.commitMu.Unlock()
	pos := [2]wal.Pos{wal.Pos(f.fedTel.Load()), wal.Pos(f.fedEv.Load())}
	cursor := make([]byte, 16)
	binary.BigEndian.PutUint64(cursor, uint64(pos[0]))
	binary.BigEndian.PutUint64(cursor[8:], uint64(pos[1]))
	if err := f.eng.Commit(ctx, cursor, time.Duration(f.lagNS.Load())); err != nil {
		return err
	}
	if d, ok := f.eng.(durabler); ok {
		// With slices, what the engine wrote may trail what it was fed.
		c := d.Durable()
		if len(c) != 16 {
			return nil // nothing written with a cursor yet
		}
		pos = [2]wal.Pos{wal.Pos(binary.BigEndian.Uint64(c)), wal.Pos(binary.BigEndian.Uint64(c[8:]))}
	}
	for i, r := range []*wal.Reader{f.telRd, f.evR} {
		if pos[i] > f.committed[i] {
			if err := r.Commit(pos[i]); err != nil {
				return err
			}
			f.committed[i] = pos[i]
		}
	}
	return nil
}
