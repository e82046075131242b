package queue_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/edge/clock"
	"github.com/chargewatch/chargewatch/edge/queue"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func item(i int) queue.Item {
	b := make([]byte, 40)
	binary.LittleEndian.PutUint64(b, uint64(i))
	copy(b[8:], fmt.Sprintf("reading %d", i))
	return queue.Item{TS: t0.Add(time.Duration(i) * time.Second).UnixMilli(), Data: b}
}

func num(r queue.Record) int { return int(binary.LittleEndian.Uint64(r.Data)) }

func open(t *testing.T, dir string, o queue.Options) *queue.Queue {
	t.Helper()
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 20
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = 4 << 10
	}
	q, err := queue.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func appendN(t *testing.T, q *queue.Queue, from, to int) {
	t.Helper()
	for i := from; i < to; i += 7 {
		var items []queue.Item
		for j := i; j < min(i+7, to); j++ {
			items = append(items, item(j))
		}
		if err := q.Append(items...); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads everything left, committing as it goes, and returns the numbers read.
func readAll(t *testing.T, q *queue.Queue, batch int) []int {
	t.Helper()
	var got []int
	for {
		recs, cur, err := q.Read(batch, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return got
		}
		for _, r := range recs {
			got = append(got, num(r))
		}
		if err := q.Commit(cur); err != nil {
			t.Fatal(err)
		}
	}
}

func checkRun(t *testing.T, got []int, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("read %d records, want %d (%d..%d)", len(got), to-from, from, to-1)
	}
	for i, n := range got {
		if n != from+i {
			t.Fatalf("record %d is %d, want %d: out of order or missing", i, n, from+i)
		}
	}
}

func TestAppendReadCommitAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, queue.Options{})
	appendN(t, q, 0, 1000)
	st := q.Stats()
	if st.Records != 1000 || st.Segments < 10 || st.OldestTS != t0.UnixMilli() {
		t.Fatalf("stats %+v", st)
	}
	checkRun(t, readAll(t, q, 33), 0, 1000)
	if st := q.Stats(); st.Records != 0 || st.Segments != 1 {
		t.Fatalf("after committing everything: %+v", st)
	}
	// Appends after a drained read are read next.
	appendN(t, q, 1000, 1010)
	checkRun(t, readAll(t, q, 4), 1000, 1010)
}

func TestRewindRereadsUncommitted(t *testing.T) {
	q := open(t, t.TempDir(), queue.Options{})
	appendN(t, q, 0, 300)
	_, cur, _ := q.Read(100, 1<<20)
	if err := q.Commit(cur); err != nil {
		t.Fatal(err)
	}
	recs, _, _ := q.Read(150, 1<<20) // published, never acknowledged
	if num(recs[0]) != 100 {
		t.Fatalf("first of the second batch: %d", num(recs[0]))
	}
	q.Rewind()
	checkRun(t, readAll(t, q, 64), 100, 300)
}

func TestReopenResumesAtCommit(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, queue.Options{Sync: queue.SyncAlways})
	appendN(t, q, 0, 500)
	recs, cur, _ := q.Read(321, 1<<20)
	if len(recs) != 321 {
		t.Fatalf("read %d", len(recs))
	}

	q.Commit(cur)
	q.Read(50, 1<<20) // read, not committed: read again after the restart
	q.Close()

	q = open(t, dir, queue.Options{Sync: queue.SyncAlways})
	if st := q.Stats(); st.Records != 179 || st.OldestTS != item(321).TS {
		t.Fatalf("after reopen: %+v", st)
	}
	appendN(t, q, 500, 520)
	checkRun(t, readAll(t, q, 100), 321, 520)
}

// A commit that ends exactly at the end of a segment: the oldest reading is
// the next segment's first.
func TestOldestAtSegmentEnd(t *testing.T) {
	q := open(t, t.TempDir(), queue.Options{})
	appendN(t, q, 0, 300)
	n := q.FirstSegmentCount()
	_, cur, _ := q.Read(n, 1<<20)
	q.Commit(cur)
	if st := q.Stats(); st.OldestTS != item(n).TS || st.Records != int64(300-n) {
		t.Fatalf("after committing segment 1 (%d records): %+v", n, st)
	}
}

// When MaxBytes is reached the oldest segments go, and every reading lost is
// counted.
func TestSizeBoundDropsOldestAndCounts(t *testing.T) {
	q := open(t, t.TempDir(), queue.Options{MaxBytes: 32 << 10, SegmentBytes: 4 << 10})
	const n = 5000 // 56 bytes each on disk: about 280 KB
	appendN(t, q, 0, n)
	st := q.Stats()
	if st.Bytes > 32<<10 {
		t.Fatalf("queue holds %d bytes, bound %d", st.Bytes, 32<<10)
	}
	if st.DroppedSize+st.Records != n || st.DroppedSize == 0 {
		t.Fatalf("dropped %d + kept %d != appended %d", st.DroppedSize, st.Records, n)
	}
	got := readAll(t, q, 1000)
	checkRun(t, got, n-len(got), n)
	t.Logf("bound 32 KiB: kept %d newest readings, dropped %d oldest", len(got), st.DroppedSize)
}

// A reading that was read and is being published when its segment is
// dropped is not counted twice, and publishing goes on after the gap.
func TestDropWhileReading(t *testing.T) {
	q := open(t, t.TempDir(), queue.Options{MaxBytes: 16 << 10, SegmentBytes: 4 << 10})
	appendN(t, q, 0, 100)
	_, cur, _ := q.Read(50, 1<<20)
	appendN(t, q, 100, 2000) // drops the segment being published
	if err := q.Commit(cur); err != nil {
		t.Fatal(err)
	}
	st := q.Stats()
	got := readAll(t, q, 500)
	if int64(len(got))+st.DroppedSize != 2000 {
		t.Fatalf("read %d + dropped %d != 2000", len(got), st.DroppedSize)
	}
	checkRun(t, got, 2000-len(got), 2000)
}

func TestAgeBound(t *testing.T) {
	clk := clock.NewFake(t0.Add(3 * time.Hour))
	q := open(t, t.TempDir(), queue.Options{MaxAge: time.Hour, Clock: clk})
	// One reading a second for three hours: segments rotate every MaxAge/16.
	for i := 0; i < 3*3600; i += 60 {
		var items []queue.Item
		for j := i; j < i+60; j++ {
			items = append(items, item(j))
		}
		if err := q.Append(items...); err != nil {
			t.Fatal(err)
		}
	}
	q.EnforceAge()
	st := q.Stats()
	oldest := time.UnixMilli(st.OldestTS)
	if age := clk.Now().Sub(oldest); age > time.Hour+time.Hour/16+time.Minute || age < time.Hour-time.Minute {
		t.Fatalf("oldest reading is %v old with max_age 1h", age)
	}
	if st.DroppedAge+st.Records != 3*3600 {
		t.Fatalf("dropped %d + kept %d != %d", st.DroppedAge, st.Records, 3*3600)
	}
	got := readAll(t, q, 1000)
	checkRun(t, got, 3*3600-len(got), 3*3600)
}

// powerCut leaves each segment file as a power cut would under the model
// "only fsynced bytes survive, and a write in flight leaves garbage": each
// file is cut to its synced size and the last one gets a torn record.
func powerCut(t *testing.T, q *queue.Queue, dir string) {
	t.Helper()
	sizes := q.SyncedSizes()
	var last string
	for path, n := range sizes {
		if err := os.Truncate(path, n); err != nil {
			t.Fatal(err)
		}
		if path > last {
			last = path
		}
	}
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{40, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3}) // half a record
	f.Close()
	// The queue is abandoned, not closed: the process died with the power.
}

// What a power cut can lose, per policy: with SyncInterval the records
// appended since the last sync; with SyncAlways nothing. A torn record is
// cut off and appending goes on.
func TestPowerCut(t *testing.T) {
	t.Run("interval", func(t *testing.T) {
		dir := t.TempDir()
		q, err := queue.Open(dir, queue.Options{MaxBytes: 1 << 20, SegmentBytes: 64 << 10, Sync: queue.SyncInterval, SyncInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, q, 0, 200)
		if err := q.Sync(); err != nil { // the periodic sync
			t.Fatal(err)
		}
		appendN(t, q, 200, 230) // within the interval: lost to the power cut
		powerCut(t, q, dir)

		q2 := open(t, dir, queue.Options{Sync: queue.SyncInterval})
		if st := q2.Stats(); st.Records != 200 {
			t.Fatalf("after the power cut %d records, want the 200 synced", st.Records)
		}
		appendN(t, q2, 1000, 1010)
		got := readAll(t, q2, 64)
		checkRun(t, got[:200], 0, 200)
		checkRun(t, got[200:], 1000, 1010)
	})
	t.Run("always", func(t *testing.T) {
		dir := t.TempDir()
		q, err := queue.Open(dir, queue.Options{MaxBytes: 1 << 20, SegmentBytes: 4 << 10, Sync: queue.SyncAlways})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, q, 0, 230)
		powerCut(t, q, dir)
		q2 := open(t, dir, queue.Options{Sync: queue.SyncAlways})
		checkRun(t, readAll(t, q2, 64), 0, 230)
	})
}

// kill -9 of the agent (the machine stays up) loses nothing appended, whatever the policy.
func TestProcessCrashLosesNothing(t *testing.T) {
	dir := t.TempDir()
	q, err := queue.Open(dir, queue.Options{MaxBytes: 1 << 20, SegmentBytes: 4 << 10, Sync: queue.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, q, 0, 300)
	_, cur, _ := q.Read(100, 1<<20)
	q.Commit(cur)
	// Abandoned without Close: the page cache keeps what was written.
	q2 := open(t, dir, queue.Options{Sync: queue.SyncNever})
	checkRun(t, readAll(t, q2, 64), 100, 300)
}

func TestCorruptSegmentIsSkippedAndCounted(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, queue.Options{})
	appendN(t, q, 0, 400)
	q.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	// Flip a byte in the middle of the second segment (bit rot on an SD card).
	b, _ := os.ReadFile(segs[1])
	b[len(b)/2] ^= 0xff
	os.WriteFile(segs[1], b, 0o640)

	q = open(t, dir, queue.Options{})
	got := readAll(t, q, 1000)
	st := q.Stats()
	if int64(len(got))+st.DroppedBad != 400 || st.DroppedBad == 0 {
		t.Fatalf("read %d, dropped as corrupt %d", len(got), st.DroppedBad)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order after the corrupt segment: %d then %d", got[i-1], got[i])
		}
	}
}

func TestOptionsChecked(t *testing.T) {
	if _, err := queue.Open(t.TempDir(), queue.Options{}); err == nil {
		t.Error("MaxBytes 0 accepted")
	}
	if _, err := queue.Open(t.TempDir(), queue.Options{MaxBytes: 1 << 20, Sync: "sometimes"}); err == nil {
		t.Error("sync policy sometimes accepted")
	}
}

func BenchmarkAppend(b *testing.B) {
	q, err := queue.Open(b.TempDir(), queue.Options{MaxBytes: 1 << 30, Sync: queue.SyncNever})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	it := item(1)
	b.SetBytes(int64(len(it.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Append(it); err != nil {
			b.Fatal(err)
		}
	}
}
