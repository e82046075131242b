package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func rec(i int) []byte { return fmt.Appendf(nil, "record-%06d-%s", i, "payload") }

func openT(t *testing.T, dir string, opt Options) *Log {
	t.Helper()
	if opt.Consumers == nil {
		opt.Consumers = []string{"writer", "engine"}
	}
	l, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func readAll(t *testing.T, r *Reader) []string {
	t.Helper()
	var out []string
	for {
		b, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, string(b))
	}
}

func TestAppendSyncReadAcrossSegments(t *testing.T) {
	for _, fsys := range []struct {
		name string
		fs   FS
		dir  string
	}{
		{"os", OSFS{}, t.TempDir()},
		{"mem", NewMemFS(), "/wal"},
	} {
		t.Run(fsys.name, func(t *testing.T) {
			l := openT(t, fsys.dir, Options{FS: fsys.fs, SegmentBytes: 1000, MaxBytes: 1 << 20})
			r, err := l.Reader("writer")
			if err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				if _, err := l.Append(rec(i)); err != nil {
					t.Fatal(err)
				}
			}
			if got := readAll(t, r); len(got) != 0 {
				t.Fatalf("reader saw %d records before Sync; readers must only see durable records", len(got))
			}
			if _, err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, r)
			if len(got) != 200 {
				t.Fatalf("read %d records, want 200", len(got))
			}
			for i, g := range got {
				if g != string(rec(i)) {
					t.Fatalf("record %d = %q, want %q", i, g, rec(i))
				}
			}
			if n := len(l.segs); n < 5 {
				t.Fatalf("%d segments; expected rotation at 1000 bytes", n)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSegmentsFreedOnlyWhenEveryConsumerPassed(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Options{SegmentBytes: 500, MaxBytes: 1 << 20})
	for i := range 100 {
		if _, err := l.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	end, err := l.Sync()
	if err != nil {
		t.Fatal(err)
	}
	w, _ := l.Reader("writer")
	readAll(t, w)
	if err := w.Commit(w.Pos()); err != nil {
		t.Fatal(err)
	}
	if w.Pos() != end {
		t.Fatalf("writer at %v, want %v", w.Pos(), end)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) < 5 {
		t.Fatalf("segments were freed while the engine had not read them: %d left", len(segs))
	}
	if got := l.Backlog("engine"); got != l.Bytes() {
		t.Fatalf("engine backlog %d, want all %d bytes", got, l.Bytes())
	}
	e, _ := l.Reader("engine")
	readAll(t, e)
	if err := e.Commit(e.Pos()); err != nil {
		t.Fatal(err)
	}
	segs, _ = filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("%d segments left after both consumers passed, want only the active one", len(segs))
	}
	l.Close()

	// The cursors survive a restart: nothing is read twice.
	l = openT(t, dir, Options{SegmentBytes: 500, MaxBytes: 1 << 20})
	defer l.Close()
	w, _ = l.Reader("writer")
	if got := readAll(t, w); len(got) != 0 {
		t.Fatalf("writer re-read %d committed records after restart", len(got))
	}
	if _, err := l.Append([]byte("after")); err != nil {
		t.Fatal(err)
	}
	l.Sync()
	if got := readAll(t, w); len(got) != 1 || got[0] != "after" {
		t.Fatalf("after restart read %q", got)
	}
}

func TestFullAndWaitSpace(t *testing.T) {
	l := openT(t, t.TempDir(), Options{SegmentBytes: 256, MaxBytes: 1024, Consumers: []string{"writer"}})
	defer l.Close()
	var n int
	for {
		_, err := l.Append(rec(n))
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if l.Bytes() > 1024 {
		t.Fatalf("log holds %d bytes, bound is 1024", l.Bytes())
	}
	l.Sync()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.WaitSpace(ctx) }()
	r, _ := l.Reader("writer")
	got := readAll(t, r)
	if len(got) != n {
		t.Fatalf("read %d, appended %d", len(got), n)
	}
	if err := r.Commit(r.Pos()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitSpace: %v", err)
	}
	if _, err := l.Append(rec(n)); err != nil {
		t.Fatalf("append after space was freed: %v", err)
	}
}

func TestTornTailRepaired(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Options{})
	for i := range 10 {
		l.Append(rec(i))
	}
	l.Close()
	seg := filepath.Join(dir, "0000000001.seg")
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3, 4, 'p', 'a', 'r'}) // a header promising 40 bytes, then 3
	f.Close()
	l = openT(t, dir, Options{})
	defer l.Close()
	r, _ := l.Reader("writer")
	if got := readAll(t, r); len(got) != 10 {
		t.Fatalf("read %d records after repair, want 10", len(got))
	}
	if _, err := l.Append([]byte("next")); err != nil {
		t.Fatal(err)
	}
	l.Sync()
	if got := readAll(t, r); len(got) != 1 || got[0] != "next" {
		t.Fatalf("append after repair read back %q", got)
	}
}

// TestCrashKeepsExactlySyncedRecords models a power cut with an in-memory
// file layer that loses unsynced writes: every record covered by a
// successful Sync survives, and a log whose Sync does nothing (the negative
// control) loses them, so the test can fail.
func TestCrashKeepsExactlySyncedRecords(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("skipSync=%v", skip), func(t *testing.T) {
			m := NewMemFS()
			m.SkipSync = skip
			l := openT(t, "/wal", Options{FS: m, SegmentBytes: 600, MaxBytes: 1 << 20})
			for i := range 50 {
				l.Append(rec(i))
			}
			if _, err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			for i := 50; i < 60; i++ {
				l.Append(rec(i)) // appended, never synced: may be lost
			}
			m.Crash()
			l2 := openT(t, "/wal", Options{FS: m, SegmentBytes: 600, MaxBytes: 1 << 20})
			r, _ := l2.Reader("writer")
			got := readAll(t, r)
			if skip {
				if len(got) >= 50 {
					t.Fatalf("negative control: %d records survived a crash without fsync", len(got))
				}
				return
			}
			if len(got) != 50 {
				t.Fatalf("%d records survived the crash, want exactly the 50 synced", len(got))
			}
			for i, g := range got {
				if g != string(rec(i)) {
					t.Fatalf("record %d = %q", i, g)
				}
			}
		})
	}
}

func TestNextWaitsForSync(t *testing.T) {
	l := openT(t, t.TempDir(), Options{})
	defer l.Close()
	r, _ := l.Reader("engine")
	got := make(chan string, 1)
	go func() {
		b, _, err := r.Next(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(b)
	}()
	l.Append([]byte("x"))
	l.Sync()
	select {
	case g := <-got:
		if g != "x" {
			t.Fatalf("Next returned %q", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Sync")
	}
}

func TestUnknownConsumer(t *testing.T) {
	l := openT(t, t.TempDir(), Options{})
	defer l.Close()
	if _, err := l.Reader("nobody"); err == nil {
		t.Fatal("reader for an unconfigured consumer: want an error")
	}
}

func BenchmarkAppendSync(b *testing.B) {
	l, err := Open(b.TempDir(), Options{Consumers: []string{"w"}, MaxBytes: 8 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := make([]byte, 120)
	b.ReportAllocs()
	b.SetBytes(int64(len(r)))
	for i := 0; b.Loop(); i++ {
		if _, err := l.Append(r); err != nil {
			b.Fatal(err)
		}
		if i%500 == 499 {
			l.Sync()
		}
	}
}
