// Package queue is cw-edge's store-and-forward queue: an append-only log of
// records in segment files, bounded by bytes and by age, read and committed
// in order.
//
// Every reading is appended here before it is published, and removed
// (committed) only once the broker has acknowledged it, so the queue is what
// carries readings across a broker outage, a network outage and a restart of
// the agent. When a bound is reached the oldest segment is dropped whole and
// the readings lost are counted (Stats.Dropped), never silently.
//
// # Files
//
// A segment is named after the id of its first record (%016x.seg) and holds
// a 16-byte header (magic "CWQ1", version, first id) followed by records:
//
//	length  4 bytes, little endian: length of the payload
//	crc     4 bytes: CRC-32C of ts and payload
//	ts      8 bytes: the record's time, Unix ms (for the age bound)
//	payload
//
// The file "commit" holds the position up to which records are acknowledged,
// in two checksummed slots written alternately, so a torn write leaves the
// other slot valid.
//
// # Durability
//
// Appends are written to the segment file at once (a kill -9 of the agent
// loses nothing appended). What a power cut can lose depends on Sync:
// SyncAlways fsyncs before Append returns (nothing appended is lost);
// SyncInterval (the default) fsyncs every SyncInterval, so a power cut loses
// at most the records appended in the last interval that the broker had not
// yet acknowledged; SyncNever leaves it to the kernel (about 30 s). On open,
// a torn record at the end of the last segment is detected by its length or
// CRC and cut off. The commit position is saved with the same policy; if it
// lags after a crash, acknowledged records are published again (at least
// once: a reading is identified by device and seq, and stored by ts, so a
// duplicate overwrites itself).
package queue

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chargewatch/chargewatch/edge/clock"
)

// SyncPolicy says when appended records are forced to disk.
type SyncPolicy string

// Sync policies.
const (
	SyncAlways   SyncPolicy = "always"   // fsync before Append returns
	SyncInterval SyncPolicy = "interval" // fsync every SyncInterval (default)
	SyncNever    SyncPolicy = "never"    // leave it to the kernel
)

// Options configure a queue.
type Options struct {
	MaxBytes     int64         // bound of the segment files together; required
	MaxAge       time.Duration // records older than this (by ts) are dropped; 0 for no bound
	SegmentBytes int64         // segment size; 0 for min(4 MiB, MaxBytes/8)
	Sync         SyncPolicy    // "" for SyncInterval
	SyncInterval time.Duration // 0 for 1 s
	Clock        clock.Clock   // for the age bound; nil for the system clock
	Logger       *slog.Logger
}

// Item is a record to append.
type Item struct {
	TS   int64 // Unix ms
	Data []byte
}

// Record is a record read from the queue. Data is valid until the next Read.
type Record struct {
	ID   uint64
	TS   int64
	Data []byte
}

// Cursor is a position in the queue: the record with ID Next comes next.
type Cursor struct {
	Next uint64
	seg  uint64 // first id of the segment holding record Next
	off  int64  // its offset in that segment
}

// Stats describe the queue.
type Stats struct {
	Records     int64 // appended, not yet committed
	Bytes       int64 // size of the segment files
	Segments    int
	OldestTS    int64 // ts of the oldest uncommitted record; 0 if none
	DroppedSize int64 // records dropped to keep MaxBytes
	DroppedAge  int64 // records dropped for being older than MaxAge
	DroppedBad  int64 // records lost to corruption
	Syncs       int64
}

const (
	headerSize = 16
	recHeader  = 16
	magic      = "CWQ1"
	maxRecord  = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by operations on a closed queue.
var ErrClosed = errors.New("queue: closed")

type segment struct {
	first   uint64 // id of the first record
	count   uint64 // records in it
	size    int64  // bytes written
	synced  int64  // bytes known to be on disk
	firstTS int64  // ts of its first record; 0 while empty
	path    string
}

func (s *segment) end() uint64 { return s.first + s.count }

// Queue is a bounded on-disk FIFO of records. It is safe for concurrent use.
type Queue struct {
	dir   string
	o     Options
	log   *slog.Logger
	clock clock.Clock

	mu     sync.Mutex
	segs   []*segment // oldest first; the last is written to
	w      *os.File   // the last segment
	commit Cursor
	read   Cursor
	cgen   uint64 // commit slot generation
	cfile  *os.File
	dirty  bool // written since the last sync
	stats  Stats
	oldest struct {
		id uint64
		ts int64
	}
	rf      *os.File // segment being read
	rseg    uint64
	rbuf    *bufio.Reader
	data    []byte
	wbuf    []byte
	pending []int64 // ts of the records in wbuf
	notify  chan struct{}
	closed  bool
}

// Open opens or creates the queue in dir, recovering from a crash: a torn
// record at the end of the last segment is cut off.
func Open(dir string, o Options) (*Queue, error) {
	if o.MaxBytes <= 0 {
		return nil, errors.New("queue: MaxBytes must be positive")
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = min(4<<20, max(o.MaxBytes/8, 4<<10))
	}
	if o.Sync == "" {
		o.Sync = SyncInterval
	}
	switch o.Sync {
	case SyncAlways, SyncInterval, SyncNever:
	default:
		return nil, fmt.Errorf("queue: sync policy %q: use always, interval or never", o.Sync)
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.NewSystem()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &Queue{dir: dir, o: o, log: o.Logger, clock: o.Clock, notify: make(chan struct{}, 1)}
	if err := q.load(); err != nil {
		q.closeFiles()
		return nil, err
	}
	return q, nil
}

func (q *Queue) segPath(first uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%016x.seg", first))
}

// load reads the directory: segments, the commit position, the torn tail.
func (q *Queue) load() error {
	ents, err := os.ReadDir(q.dir)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	var firsts []uint64
	for _, e := range ents {
		var first uint64
		if n, _ := fmt.Sscanf(e.Name(), "%016x.seg", &first); n == 1 && strings.HasSuffix(e.Name(), ".seg") {
			firsts = append(firsts, first)
		}
	}
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	for i, first := range firsts {
		s := &segment{first: first, path: q.segPath(first)}
		last := i == len(firsts)-1
		if err := q.scan(s, last); err != nil {
			q.log.Warn("queue: unreadable segment removed", "segment", s.path, "err", err)
			os.Remove(s.path)
			continue
		}
		if !last {
			s.count = firsts[i+1] - first
		}
		s.synced = s.size
		q.segs = append(q.segs, s)
	}
	// Segment ids must follow on: a gap means files went missing.
	for i := 1; i < len(q.segs); i++ {
		if q.segs[i-1].end() != q.segs[i].first {
			q.segs[i-1].count = q.segs[i].first - q.segs[i-1].first
		}
	}
	if err := q.loadCommit(); err != nil {
		return err
	}
	if len(q.segs) == 0 {
		next := q.commit.Next
		if err := q.newSegment(next); err != nil {
			return err
		}
	} else if err := q.openWriter(); err != nil {
		return err
	}
	q.fixCursor(&q.commit)
	q.dropCommitted()
	q.read = q.commit
	return nil
}

// scan reads a segment's header and first record; for the last segment it
// checks every record, counts them and cuts off a torn tail.
func (q *Queue) scan(s *segment, last bool) error {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if string(h[:4]) != magic || binary.LittleEndian.Uint64(h[8:]) != s.first {
		return errors.New("bad header")
	}
	s.size = headerSize
	if !last {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		defer func() { s.size = st.Size() }()
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var buf []byte
	for {
		n, ts, data, err := readRecord(r, buf)
		buf = data[:0]
		if err != nil {
			if err != io.EOF {
				if !last {
					return nil // checked lazily when read
				}
				q.log.Warn("queue: cutting off a torn record at the end of the last segment (power cut or crash)",
					"segment", s.path, "offset", s.size, "err", err)
				if err := f.Truncate(s.size); err != nil {
					return err
				}
			}
			return nil
		}
		if s.firstTS == 0 {
			s.firstTS = ts
		}
		s.size += int64(n)
		s.count++
		if !last {
			return nil
		}
	}
}

var errTorn = errors.New("torn or corrupt record")

// readRecord reads one record; it returns its size on disk.
func readRecord(r *bufio.Reader, buf []byte) (int, int64, []byte, error) {
	var h [recHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF {
			return 0, 0, buf, io.EOF
		}
		return 0, 0, buf, errTorn
	}
	n := binary.LittleEndian.Uint32(h[0:])
	sum := binary.LittleEndian.Uint32(h[4:])
	ts := int64(binary.LittleEndian.Uint64(h[8:]))
	if n > maxRecord {
		return 0, 0, buf, errTorn
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, 0, buf, errTorn
	}
	c := crc32.Update(0, crcTable, h[8:16])
	if crc32.Update(c, crcTable, buf) != sum {
		return 0, 0, buf, errTorn
	}
	return recHeader + int(n), ts, buf, nil
}

func appendRecord(dst []byte, ts int64, data []byte) []byte {
	var h [recHeader]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(data)))
	binary.LittleEndian.PutUint64(h[8:], uint64(ts))
	c := crc32.Update(0, crcTable, h[8:16])
	binary.LittleEndian.PutUint32(h[4:], crc32.Update(c, crcTable, data))
	dst = append(dst, h[:]...)
	return append(dst, data...)
}

func (q *Queue) last() *segment { return q.segs[len(q.segs)-1] }

func (q *Queue) openWriter() error {
	s := q.last()
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	q.w = f
	return nil
}

// newSegment starts a segment whose first record will have id first.
func (q *Queue) newSegment(first uint64) error {
	if q.w != nil {
		if q.o.Sync != SyncNever {
			if err := q.w.Sync(); err != nil {
				return fmt.Errorf("queue: %w", err)
			}
			s := q.last()
			s.synced = s.size
		}
		q.w.Close()
		q.w = nil
	}
	s := &segment{first: first, size: headerSize, path: q.segPath(first)}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	var h [headerSize]byte
	copy(h[:], magic)
	binary.LittleEndian.PutUint32(h[4:], 1)
	binary.LittleEndian.PutUint64(h[8:], first)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return fmt.Errorf("queue: %w", err)
	}
	if q.o.Sync != SyncNever {
		// The new file and its directory entry must survive a power cut, or the
		// records written to it later could vanish with it.
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("queue: %w", err)
		}
		s.synced = s.size
		syncDir(q.dir)
	}
	q.w = f
	q.segs = append(q.segs, s)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// --- commit file ---------------------------------------------------------------------------

const slotSize = 64

func (q *Queue) loadCommit() error {
	f, err := os.OpenFile(filepath.Join(q.dir, "commit"), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	q.cfile = f
	var b [2 * slotSize]byte
	n, _ := io.ReadFull(f, b[:])
	for i := 0; i+slotSize <= n; i += slotSize {
		s := b[i : i+slotSize]
		if crc32.Checksum(s[:32], crcTable) != binary.LittleEndian.Uint32(s[32:]) {
			continue
		}
		gen := binary.LittleEndian.Uint64(s[0:])
		if gen >= q.cgen {
			q.cgen = gen
			q.commit = Cursor{
				Next: binary.LittleEndian.Uint64(s[8:]),
				seg:  binary.LittleEndian.Uint64(s[16:]),
				off:  int64(binary.LittleEndian.Uint64(s[24:])),
			}
		}
	}
	return nil
}

func (q *Queue) saveCommit() error {
	q.cgen++
	var s [slotSize]byte
	binary.LittleEndian.PutUint64(s[0:], q.cgen)
	binary.LittleEndian.PutUint64(s[8:], q.commit.Next)
	binary.LittleEndian.PutUint64(s[16:], q.commit.seg)
	binary.LittleEndian.PutUint64(s[24:], uint64(q.commit.off))
	binary.LittleEndian.PutUint32(s[32:], crc32.Checksum(s[:32], crcTable))
	if _, err := q.cfile.WriteAt(s[:], int64(q.cgen%2)*slotSize); err != nil {
		return fmt.Errorf("queue: saving the commit position: %w", err)
	}
	q.dirty = true
	if q.o.Sync == SyncAlways {
		return q.syncLocked()
	}
	return nil
}

// fixCursor puts a cursor that does not point into a live segment at the
// nearest valid position.
func (q *Queue) fixCursor(c *Cursor) {
	first, last := q.segs[0], q.last()
	switch {
	case c.Next <= first.first || c.seg < first.first:
		*c = Cursor{Next: first.first, seg: first.first, off: headerSize}
	case c.Next >= last.end():
		*c = Cursor{Next: last.end(), seg: last.first, off: last.size}
	default:
		for _, s := range q.segs {
			if c.seg == s.first && c.Next >= s.first && c.Next <= s.end() && c.off <= s.size {
				return
			}
		}
		// Unknown position (files changed behind our back): restart at the segment
		// holding Next, re-reading it from its start.
		for _, s := range q.segs {
			if c.Next < s.end() {
				*c = Cursor{Next: s.first, seg: s.first, off: headerSize}
				return
			}
		}
	}
}

// dropCommitted removes segments wholly before the commit position.
func (q *Queue) dropCommitted() {
	for len(q.segs) > 1 && q.segs[0].end() <= q.commit.Next && q.segs[0].first < q.commit.seg {
		q.removeFirst()
	}
}

func (q *Queue) removeFirst() {
	s := q.segs[0]
	if q.rf != nil && q.rseg == s.first {
		q.rf.Close()
		q.rf, q.rbuf = nil, nil
	}
	os.Remove(s.path)
	q.segs = q.segs[1:]
}

// --- append --------------------------------------------------------------------------------

// Append writes items at the end of the queue, in one write.
func (q *Queue) Append(items ...Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	for _, it := range items {
		if len(it.Data) > maxRecord {
			return fmt.Errorf("queue: record of %d bytes exceeds %d", len(it.Data), maxRecord)
		}
	}
	for _, it := range items {
		s := q.last()
		full := (s.count > 0 || len(q.pending) > 0) && s.size+int64(recHeader+len(it.Data)+len(q.wbuf)) > q.o.SegmentBytes
		// Segments also span at most a sixteenth of MaxAge, so the age bound can drop
		// old records without waiting for a segment to fill.
		old := q.o.MaxAge > 0 && s.firstTS != 0 && it.TS-s.firstTS > (q.o.MaxAge/16).Milliseconds()
		if full || old {
			if err := q.flush(); err != nil {
				return err
			}
			if err := q.newSegment(s.end()); err != nil {
				return err
			}
		}
		q.wbuf = appendRecord(q.wbuf, it.TS, it.Data)
		q.pending = append(q.pending, it.TS)
	}
	if err := q.flush(); err != nil {
		return err
	}
	q.enforceSize()
	if q.o.Sync == SyncAlways {
		if err := q.syncLocked(); err != nil {
			return err
		}
	}
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return nil
}

// flush writes the pending records to the last segment. If the write fails
// (a full disk), the segment is cut back to its last whole record and the
// pending records are not appended.
func (q *Queue) flush() error {
	if len(q.wbuf) == 0 {
		return nil
	}
	s := q.last()
	n, err := q.w.Write(q.wbuf)
	q.dirty = true
	if err != nil {
		if n > 0 {
			if terr := q.w.Truncate(s.size); terr != nil {
				// The file now ends in a partial record; it is cut off when reopened.
				q.log.Error("queue: cannot cut off a partial write", "segment", s.path, "err", terr)
			}
		}
		q.wbuf, q.pending = q.wbuf[:0], q.pending[:0]
		return fmt.Errorf("queue: writing %s: %w", s.path, err)
	}
	s.size += int64(n)
	s.count += uint64(len(q.pending))
	if s.firstTS == 0 && len(q.pending) > 0 {
		s.firstTS = q.pending[0]
	}
	q.wbuf, q.pending = q.wbuf[:0], q.pending[:0]
	return nil
}

// enforceSize drops the oldest segments while the files exceed MaxBytes.
func (q *Queue) enforceSize() {
	for len(q.segs) > 1 && q.bytes() > q.o.MaxBytes {
		q.drop(&q.stats.DroppedSize, "queue full: dropped the oldest readings to stay within max_bytes", "max_bytes", q.o.MaxBytes)
	}
}

// enforceAge drops the oldest segments whose records are all older than MaxAge.
func (q *Queue) enforceAge() {
	if q.o.MaxAge <= 0 {
		return
	}
	limit := q.clock.Now().Add(-q.o.MaxAge).UnixMilli()
	for len(q.segs) > 1 && q.segs[1].firstTS != 0 && q.segs[1].firstTS < limit {
		q.drop(&q.stats.DroppedAge, "dropped readings older than max_age: they would fall outside the ingest window", "max_age", q.o.MaxAge)
	}
	// The last segment is rotated by Append when it ages; if nothing is appended for a
	// long time, an old last segment with nothing uncommitted left is simply rotated here.
	if s := q.last(); s.count > 0 && s.firstTS < limit && q.commit.Next >= s.end() {
		if err := q.newSegment(s.end()); err == nil {
			q.dropCommitted()
		}
	}
}

func (q *Queue) bytes() int64 {
	var n int64
	for _, s := range q.segs {
		n += s.size
	}
	return n
}

// drop removes the oldest segment, counting its uncommitted records in *ctr.
func (q *Queue) drop(ctr *int64, msg string, kv ...any) {
	s := q.segs[0]
	lost := int64(0)
	if q.commit.Next < s.end() {
		lost = int64(s.end() - max(s.first, q.commit.Next))
		next := q.segs[1]
		q.commit = Cursor{Next: next.first, seg: next.first, off: headerSize}
		if err := q.saveCommit(); err != nil {
			q.log.Error("queue: saving the commit position", "err", err)
		}
	}
	if q.read.Next < s.end() {
		q.setRead(q.commit)
	}
	q.removeFirst()
	if lost > 0 {
		*ctr += lost
		q.log.Warn(msg, append(kv, "dropped_readings", lost, "dropped_total", q.stats.DroppedSize+q.stats.DroppedAge+q.stats.DroppedBad)...)
	}
}

// --- read ----------------------------------------------------------------------------------

// Read returns up to max records (and about maxBytes of data) from the read
// position on, and the cursor after them, advancing the read position. The
// records' Data stays valid until the next Read. It returns no records when
// everything appended has been read.
func (q *Queue) Read(max int, maxBytes int) ([]Record, Cursor, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, q.read, ErrClosed
	}
	q.data = q.data[:0]
	type span struct{ off, n int }
	var spans []span
	var recs []Record
	end := q.last().end()
	for len(recs) < max && len(q.data) < maxBytes && q.read.Next < end {
		s := q.segment(q.read.seg)
		if s == nil {
			c := q.read
			q.fixCursor(&c)
			q.setRead(c)
			continue
		}
		if q.read.Next >= s.end() || q.read.off >= s.size {
			// End of this segment: on to the next one.
			q.read = Cursor{Next: s.end(), seg: s.end(), off: headerSize}
			continue
		}
		if err := q.seek(s); err != nil {
			return nil, q.read, err
		}
		start := len(q.data)
		n, ts, data, err := readRecord(q.rbuf, q.data[start:])
		if err != nil {
			// Bit rot inside an old segment: skip the rest of it, counted.
			lost := int64(s.end() - q.read.Next)
			q.stats.DroppedBad += lost
			q.log.Error("queue: corrupt record, skipping the rest of the segment", "segment", s.path, "offset", q.read.off, "dropped_readings", lost)
			q.setRead(Cursor{Next: s.end(), seg: s.end(), off: headerSize})
			continue
		}
		q.data = append(q.data[:start], data...)
		spans = append(spans, span{start, len(data)})
		recs = append(recs, Record{ID: q.read.Next, TS: ts})
		q.read.Next++
		q.read.off += int64(n)
	}
	for i := range recs {
		recs[i].Data = q.data[spans[i].off : spans[i].off+spans[i].n]
	}
	return recs, q.read, nil
}

func (q *Queue) segment(first uint64) *segment {
	for _, s := range q.segs {
		if s.first == first {
			return s
		}
	}
	return nil
}

// seek makes q.rbuf read segment s from q.read.off.
func (q *Queue) seek(s *segment) error {
	if q.rf != nil && q.rseg == s.first && q.rbuf != nil {
		if q.rbuf.Buffered() == 0 {
			// Start over from the file: the buffer may hold an end of file seen
			// before more records were appended.
			q.resetReader(s)
		}
		return nil
	}
	if q.rf != nil {
		q.rf.Close()
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	q.rf, q.rseg = f, s.first
	q.resetReader(s)
	return nil
}

func (q *Queue) resetReader(s *segment) {
	// Read up to what has been written now; appended records are picked up by the next
	// reader, made when this one runs dry.
	sr := io.NewSectionReader(q.rf, q.read.off, 1<<62)
	if q.rbuf == nil {
		q.rbuf = bufio.NewReaderSize(sr, 64<<10)
	} else {
		q.rbuf.Reset(sr)
	}
}

// Commit acknowledges every record before c: they are never read again.
// Segments wholly before c are deleted.
func (q *Queue) Commit(c Cursor) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if c.Next <= q.commit.Next {
		return nil // already committed, or dropped meanwhile
	}
	q.commit = c
	q.dropCommitted()
	return q.saveCommit()
}

// setRead moves the read position elsewhere than the next record.
func (q *Queue) setRead(c Cursor) {
	q.read = c
	if q.rf != nil {
		q.rf.Close()
		q.rf, q.rbuf = nil, nil
	}
}

// Rewind moves the read position back to the commit position: records read
// but not committed (whose publication failed) are read again.
func (q *Queue) Rewind() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.setRead(q.commit)
}

// Notify returns a channel that receives after records are appended.
func (q *Queue) Notify() <-chan struct{} { return q.notify }

// Stats returns the queue's state.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stats
	if len(q.segs) == 0 {
		return st
	}
	st.Segments = len(q.segs)
	st.Bytes = q.bytes()
	st.Records = int64(q.last().end() - q.commit.Next)
	if st.Records > 0 {
		st.OldestTS = q.oldestTS()
	}
	return st
}

// oldestTS reads the ts of the record at the commit position (cached).
func (q *Queue) oldestTS() int64 {
	if q.oldest.id == q.commit.Next && q.oldest.ts != 0 {
		return q.oldest.ts
	}
	s, off := q.segment(q.commit.seg), q.commit.off
	if s == nil {
		return 0
	}
	if q.commit.Next >= s.end() {
		// The commit position is the end of a segment: the oldest record opens the next.
		if s = q.segment(s.end()); s == nil {
			return 0
		}
		off = headerSize
	}
	f, err := os.Open(s.path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var h [recHeader]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return 0
	}
	q.oldest.id, q.oldest.ts = q.commit.Next, int64(binary.LittleEndian.Uint64(h[8:]))
	return q.oldest.ts
}

// --- sync, run, close ----------------------------------------------------------------------

// Sync forces appended records and the commit position to disk.
func (q *Queue) Sync() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	return q.syncLocked()
}

func (q *Queue) syncLocked() error {
	if !q.dirty {
		return nil
	}
	if err := q.w.Sync(); err != nil {
		return fmt.Errorf("queue: fsync: %w", err)
	}
	s := q.last()
	s.synced = s.size
	if err := q.cfile.Sync(); err != nil {
		return fmt.Errorf("queue: fsync: %w", err)
	}
	q.dirty = false
	q.stats.Syncs++
	return nil
}

// Run syncs by the policy and applies the age bound until ctx is done, then
// syncs once more.
func (q *Queue) Run(ctx context.Context) error {
	tick := time.NewTicker(q.o.SyncInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return q.Sync()
		case <-tick.C:
		}
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil
		}
		q.enforceAge()
		var err error
		if q.o.Sync == SyncInterval {
			err = q.syncLocked()
		}
		q.mu.Unlock()
		if err != nil {
			q.log.Error("queue: sync failed", "err", err)
		}
	}
}

// EnforceAge applies the age bound now (Run does it periodically).
func (q *Queue) EnforceAge() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.enforceAge()
	}
}

// Close syncs (unless the policy is SyncNever) and closes the files.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	var err error
	if q.o.Sync != SyncNever {
		err = q.syncLocked()
	}
	q.closed = true
	q.closeFiles()
	return err
}

func (q *Queue) closeFiles() {
	for _, f := range []*os.File{q.w, q.rf, q.cfile} {
		if f != nil {
			f.Close()
		}
	}
	q.w, q.rf, q.cfile = nil, nil, nil
}
