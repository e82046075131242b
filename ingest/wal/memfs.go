package wal

import (
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// MemFS is an in-memory FS that models a power cut: Crash throws away every
// byte that was written but not synced. Tests use it to prove that the log,
// and everything that acks on top of it, syncs before it says "durable".
type MemFS struct {
	mu    sync.Mutex
	files map[string]*memFile
	// SkipSync, when set, makes Sync a no-op that does not make data
	// durable: the negative control of the durability tests.
	SkipSync bool
}

type memFile struct {
	data   []byte
	synced int
}

// NewMemFS returns an empty in-memory file system.
func NewMemFS() *MemFS { return &MemFS{files: map[string]*memFile{}} }

// Crash loses every unsynced byte, as a power cut would.
func (m *MemFS) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.files {
		f.data = f.data[:f.synced]
	}
}

type memAppender struct {
	m    *MemFS
	name string
}

func (a *memAppender) Write(p []byte) (int, error) {
	a.m.mu.Lock()
	defer a.m.mu.Unlock()
	f, ok := a.m.files[a.name]
	if !ok {
		return 0, fs.ErrNotExist
	}
	f.data = append(f.data, p...)
	return len(p), nil
}

func (a *memAppender) Sync() error {
	a.m.mu.Lock()
	defer a.m.mu.Unlock()
	if f, ok := a.m.files[a.name]; ok && !a.m.SkipSync {
		f.synced = len(f.data)
	}
	return nil
}

func (a *memAppender) Close() error { return nil }

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		m.files[name] = &memFile{}
	}
	return &memAppender{m: m, name: name}, nil
}

type memReader struct {
	m    *MemFS
	name string
	off  int
}

func (r *memReader) Read(p []byte) (int, error) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	f, ok := r.m.files[r.name]
	if !ok {
		return 0, fs.ErrNotExist
	}
	if r.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(p, f.data[r.off:])
	r.off += n
	return n, nil
}

func (r *memReader) Close() error { return nil }

// Open implements FS.
func (m *MemFS) Open(name string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memReader{m: m, name: name}, nil
}

// ReadFile implements FS.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), f.data...), nil
}

// WriteFileSync implements FS: the new content is durable at once.
func (m *MemFS) WriteFileSync(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = &memFile{data: append([]byte(nil), data...), synced: len(data)}
	return nil
}

// Truncate implements FS.
func (m *MemFS) Truncate(name string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	if !ok {
		return fs.ErrNotExist
	}
	f.data = f.data[:size]
	f.synced = min(f.synced, int(size))
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}

// List implements FS.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.files {
		if path.Dir(n) == dir || strings.TrimSuffix(path.Dir(n), "/") == strings.TrimSuffix(dir, "/") {
			out = append(out, path.Base(n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(string) error { return nil }

// Size implements FS.
func (m *MemFS) Size(name string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	if !ok {
		return 0, fs.ErrNotExist
	}
	return int64(len(f.data)), nil
}
