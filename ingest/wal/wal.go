// Package wal is the ingester's durable log: an append-only, segmented,
// checksummed record log with group commit and one durable cursor per
// consumer. A segment is freed only when every consumer has passed it, so a
// store outage or a crash of any consumer loses nothing.
//
// Appends go to memory and the page cache; Sync makes everything appended so
// far durable with one fsync per file, which is how many MQTT messages share
// one fsync. Readers only ever see durable records.
//
// Lock order: syncMu before mu.
package wal

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Pos is a position in the log: segment id in the high 32 bits, byte offset
// in the low 32. Positions order like the records they point at.
type Pos uint64

// MakePos builds a position.
func MakePos(seg, off uint32) Pos { return Pos(uint64(seg)<<32 | uint64(off)) }

// Segment returns the segment id.
func (p Pos) Segment() uint32 { return uint32(p >> 32) }

// Offset returns the byte offset within the segment.
func (p Pos) Offset() uint32 { return uint32(p) }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Segment(), p.Offset()) }

// Errors.
var (
	ErrFull   = errors.New("wal: log is full: consumers are behind (is the store reachable?)")
	ErrClosed = errors.New("wal: log is closed")
)

// MaxRecord bounds one record.
const MaxRecord = 16 << 20

const headerLen = 8 // u32 length, u32 CRC-32C of the payload

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configure a log.
type Options struct {
	// MaxBytes bounds the bytes held on disk; Append returns ErrFull beyond it.
	MaxBytes int64
	// SegmentBytes is the size at which a new segment starts.
	SegmentBytes int64
	// Consumers names every consumer. A segment is freed only when all of
	// them have committed a position past it.
	Consumers []string
	// FS is the file layer; nil means the operating system's.
	FS FS
}

type segment struct {
	id   uint32
	size int64 // bytes written or buffered
}

// Log is a durable record log. Append and Sync may be called concurrently.
type Log struct {
	dir string
	opt Options
	fs  FS

	syncMu sync.Mutex // serialises Sync; taken before mu

	mu        sync.Mutex
	segs      []segment // oldest first; the last is active
	active    File
	retired   []File // rotated files not yet synced and closed
	buf       []byte // appended, not yet written to active
	appendEnd Pos
	durable   Pos
	total     int64
	cursors   map[string]Pos
	notify    chan struct{} // closed when durable advances
	space     chan struct{} // closed when bytes are freed
	closed    bool
	err       error // sticky write error
}

// Open opens or creates the log in dir, repairing a torn tail left by a
// crash.
func Open(dir string, opt Options) (*Log, error) {
	if opt.FS == nil {
		opt.FS = OSFS{}
	}
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = 64 << 20
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 4 << 30
	}
	if opt.MaxBytes < 2*opt.SegmentBytes {
		return nil, fmt.Errorf("wal %s: max bytes %d must be at least two segments (%d)", dir, opt.MaxBytes, 2*opt.SegmentBytes)
	}
	if len(opt.Consumers) == 0 {
		return nil, fmt.Errorf("wal %s: no consumers configured", dir)
	}
	l := &Log{dir: dir, opt: opt, fs: opt.FS, cursors: map[string]Pos{},
		notify: make(chan struct{}), space: make(chan struct{})}
	if err := l.fs.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("wal %s: %w", dir, err)
	}
	names, err := l.fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("wal %s: %w", dir, err)
	}
	for _, n := range names {
		id, ok := parseSegName(n)
		if !ok {
			continue
		}
		size, err := l.fs.Size(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("wal %s: %w", dir, err)
		}
		l.segs = append(l.segs, segment{id: id, size: size})
	}
	if len(l.segs) == 0 {
		l.segs = []segment{{id: 1}}
	}
	for i := 1; i < len(l.segs); i++ {
		if l.segs[i].id != l.segs[i-1].id+1 {
			return nil, fmt.Errorf("wal %s: segment %d is missing: the log directory was modified by hand", dir, l.segs[i-1].id+1)
		}
	}
	last := &l.segs[len(l.segs)-1]
	valid, err := l.scanValid(last.id)
	if err != nil {
		return nil, err
	}
	if valid < last.size {
		if err := l.fs.Truncate(l.segPath(last.id), valid); err != nil {
			return nil, fmt.Errorf("wal %s: repairing torn tail: %w", dir, err)
		}
		last.size = valid
	}
	for _, s := range l.segs {
		l.total += s.size
	}
	if l.active, err = l.fs.OpenAppend(l.segPath(last.id)); err != nil {
		return nil, fmt.Errorf("wal %s: %w", dir, err)
	}
	l.appendEnd = MakePos(last.id, uint32(last.size))
	l.durable = l.appendEnd
	oldest := MakePos(l.segs[0].id, 0)
	for _, c := range opt.Consumers {
		p := oldest
		b, err := l.fs.ReadFile(l.cursorPath(c))
		switch {
		case err == nil:
			if p, err = decodeCursor(b); err != nil {
				return nil, fmt.Errorf("wal %s: cursor of %q: %w", dir, c, err)
			}
			if p < oldest {
				p = oldest
			}
			if p > l.durable {
				return nil, fmt.Errorf("wal %s: cursor of %q at %v is past the end of the log %v", dir, c, p, l.durable)
			}
		case isNotExist(err):
		default:
			return nil, fmt.Errorf("wal %s: cursor of %q: %w", dir, c, err)
		}
		l.cursors[c] = p
	}
	return l, nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func (l *Log) segPath(id uint32) string {
	return filepath.Join(l.dir, fmt.Sprintf("%010d.seg", id))
}

func (l *Log) cursorPath(name string) string {
	return filepath.Join(l.dir, "cursor."+name)
}

func parseSegName(n string) (uint32, bool) {
	s, ok := strings.CutSuffix(n, ".seg")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 10, 32)
	return uint32(id), err == nil && id > 0
}

// scanValid returns the length of the valid prefix of a segment.
func (l *Log) scanValid(id uint32) (int64, error) {
	f, err := l.fs.Open(l.segPath(id))
	if err != nil {
		if isNotExist(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("wal %s: %w", l.dir, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var off int64
	var hdr [headerLen]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return off, nil
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n > MaxRecord {
			return off, nil
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return off, nil
		}
		if crc32.Checksum(buf, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			return off, nil
		}
		off += headerLen + int64(n)
	}
}

// Append adds a record and returns the position after it. The record is not
// durable until a Sync that started after Append returned has finished.
func (l *Log) Append(rec []byte) (Pos, error) {
	if len(rec) > MaxRecord {
		return 0, fmt.Errorf("wal: record of %d bytes exceeds %d", len(rec), MaxRecord)
	}
	need := int64(headerLen + len(rec))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	if l.total+need > l.opt.MaxBytes {
		return 0, ErrFull
	}
	cur := &l.segs[len(l.segs)-1]
	if cur.size > 0 && cur.size+need > l.opt.SegmentBytes {
		if err := l.rotateLocked(); err != nil {
			l.err = err
			return 0, err
		}
		cur = &l.segs[len(l.segs)-1]
	}
	var hdr [headerLen]byte
	binary.LittleEndian.PutUint32(hdr[:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(rec, castagnoli))
	l.buf = append(l.buf, hdr[:]...)
	l.buf = append(l.buf, rec...)
	cur.size += need
	l.total += need
	l.appendEnd = MakePos(cur.id, uint32(cur.size))
	if len(l.buf) >= 1<<20 {
		if err := l.flushLocked(); err != nil {
			return 0, err
		}
	}
	return l.appendEnd, nil
}

func (l *Log) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	if _, err := l.active.Write(l.buf); err != nil {
		l.err = fmt.Errorf("wal %s: write: %w", l.dir, err)
		return l.err
	}
	l.buf = l.buf[:0]
	return nil
}

func (l *Log) rotateLocked() error {
	if err := l.flushLocked(); err != nil {
		return err
	}
	id := l.segs[len(l.segs)-1].id + 1
	f, err := l.fs.OpenAppend(l.segPath(id))
	if err != nil {
		return fmt.Errorf("wal %s: new segment: %w", l.dir, err)
	}
	l.retired = append(l.retired, l.active)
	l.active = f
	l.segs = append(l.segs, segment{id: id})
	return nil
}

// Sync makes every record appended before the call durable and returns the
// durable end position.
func (l *Log) Sync() (Pos, error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return 0, l.err
	}
	if l.appendEnd == l.durable && len(l.retired) == 0 {
		p := l.durable
		l.mu.Unlock()
		return p, nil
	}
	if err := l.flushLocked(); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	files := append(l.retired, l.active)
	l.retired = nil
	target := l.appendEnd
	l.mu.Unlock()

	var err error
	for i, f := range files {
		if e := f.Sync(); e != nil && err == nil {
			err = fmt.Errorf("wal %s: fsync: %w", l.dir, e)
		}
		if i < len(files)-1 {
			f.Close()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.err = err
		return 0, err
	}
	if target > l.durable {
		l.durable = target
		close(l.notify)
		l.notify = make(chan struct{})
	}
	return l.durable, nil
}

// Durable returns the durable end position.
func (l *Log) Durable() Pos {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable
}

// Bytes returns the bytes held, including records not yet synced.
func (l *Log) Bytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// MaxBytes returns the bound.
func (l *Log) MaxBytes() int64 { return l.opt.MaxBytes }

// Backlog returns how many durable bytes the consumer has not committed yet.
func (l *Log) Backlog(consumer string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.cursors[consumer]
	if !ok {
		return 0
	}
	var n int64
	for _, s := range l.segs {
		switch {
		case s.id < c.Segment():
		case s.id == c.Segment():
			n += s.size - int64(c.Offset())
		default:
			n += s.size
		}
	}
	return n
}

// WaitSpace blocks until a consumer frees bytes, or ctx ends.
func (l *Log) WaitSpace(ctx context.Context) error {
	l.mu.Lock()
	ch := l.space
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close syncs and closes the log. Readers see ErrClosed.
func (l *Log) Close() error {
	_, serr := l.Sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.notify)
	l.notify = make(chan struct{})
	err := l.active.Close()
	if serr != nil && !errors.Is(serr, ErrClosed) {
		return serr
	}
	return err
}

// commit records a consumer's position durably and frees what every
// consumer has passed.
func (l *Log) commit(name string, p Pos) error {
	if err := l.fs.WriteFileSync(l.cursorPath(name), encodeCursor(p)); err != nil {
		return fmt.Errorf("wal %s: saving cursor of %q: %w", l.dir, name, err)
	}
	l.mu.Lock()
	l.cursors[name] = p
	min := p
	for _, c := range l.cursors {
		if c < min {
			min = c
		}
	}
	var drop []segment
	for len(l.segs) > 1 && l.segs[0].id < min.Segment() {
		drop = append(drop, l.segs[0])
		l.segs = l.segs[1:]
	}
	for _, s := range drop {
		l.total -= s.size
	}
	if len(drop) > 0 {
		close(l.space)
		l.space = make(chan struct{})
	}
	l.mu.Unlock()
	for _, s := range drop {
		if err := l.fs.Remove(l.segPath(s.id)); err != nil && !isNotExist(err) {
			return fmt.Errorf("wal %s: freeing segment %d: %w", l.dir, s.id, err)
		}
	}
	return nil
}

func encodeCursor(p Pos) []byte {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint64(b, uint64(p))
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	return b
}

func decodeCursor(b []byte) (Pos, error) {
	if len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, errors.New("corrupt cursor file")
	}
	return Pos(binary.LittleEndian.Uint64(b)), nil
}

func (l *Log) segSizeLocked(id uint32) int64 {
	for _, s := range l.segs {
		if s.id == id {
			return s.size
		}
	}
	return 0
}

// Reader reads the log for one consumer from its committed cursor.
type Reader struct {
	l    *Log
	name string
	pos  Pos
	seg  uint32
	f    io.ReadCloser
	br   *bufio.Reader
	buf  []byte
}

// Reader returns a reader for a configured consumer, starting at its
// committed cursor. One reader per consumer at a time.
func (l *Log) Reader(consumer string) (*Reader, error) {
	l.mu.Lock()
	p, ok := l.cursors[consumer]
	l.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("wal %s: %q is not a configured consumer", l.dir, consumer)
	}
	return &Reader{l: l, name: consumer, pos: p}, nil
}

// Pos returns the position after the last record returned.
func (r *Reader) Pos() Pos { return r.pos }

// Next returns the next durable record and the position after it, waiting
// for one until ctx ends. The record is valid until the next call.
func (r *Reader) Next(ctx context.Context) ([]byte, Pos, error) {
	for {
		rec, ok, err := r.TryNext()
		if err != nil || ok {
			return rec, r.pos, err
		}
		r.l.mu.Lock()
		ch, closed := r.l.notify, r.l.closed
		ready := r.pos < r.l.durable
		r.l.mu.Unlock()
		if closed {
			return nil, r.pos, ErrClosed
		}
		if ready {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, r.pos, ctx.Err()
		}
	}
}

// TryNext returns the next durable record if there is one, without waiting.
func (r *Reader) TryNext() ([]byte, bool, error) {
	r.l.mu.Lock()
	durable := r.l.durable
	for r.pos < durable && r.pos.Segment() < durable.Segment() && int64(r.pos.Offset()) >= r.l.segSizeLocked(r.pos.Segment()) {
		// This segment is complete and read: move to the next one.
		r.closeFile()
		r.pos = MakePos(r.pos.Segment()+1, 0)
	}
	r.l.mu.Unlock()
	if r.pos >= durable {
		return nil, false, nil
	}
	if r.f == nil || r.seg != r.pos.Segment() {
		if err := r.open(); err != nil {
			return nil, false, err
		}
	}
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, false, fmt.Errorf("wal %s: reading segment %d at %d: %w", r.l.dir, r.seg, r.pos.Offset(), err)
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n > MaxRecord {
		return nil, false, fmt.Errorf("wal %s: corrupt record length %d in segment %d at %d", r.l.dir, n, r.seg, r.pos.Offset())
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		return nil, false, fmt.Errorf("wal %s: reading segment %d at %d: %w", r.l.dir, r.seg, r.pos.Offset(), err)
	}
	if crc32.Checksum(r.buf, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
		return nil, false, fmt.Errorf("wal %s: checksum mismatch in segment %d at %d", r.l.dir, r.seg, r.pos.Offset())
	}
	r.pos = MakePos(r.pos.Segment(), r.pos.Offset()+headerLen+n)
	return r.buf, true, nil
}

func (r *Reader) open() error {
	r.closeFile()
	f, err := r.l.fs.Open(r.l.segPath(r.pos.Segment()))
	if err != nil {
		return fmt.Errorf("wal %s: %w", r.l.dir, err)
	}
	br := bufio.NewReaderSize(f, 256<<10)
	if _, err := br.Discard(int(r.pos.Offset())); err != nil {
		f.Close()
		return fmt.Errorf("wal %s: seeking segment %d to %d: %w", r.l.dir, r.pos.Segment(), r.pos.Offset(), err)
	}
	r.f, r.br, r.seg = f, br, r.pos.Segment()
	return nil
}

func (r *Reader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f, r.br = nil, nil
	}
}

// Commit durably records that the consumer has processed everything before
// p, freeing segments that every consumer has passed.
func (r *Reader) Commit(p Pos) error { return r.l.commit(r.name, p) }

// Close releases the reader's file.
func (r *Reader) Close() { r.closeFile() }
