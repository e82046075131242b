package wal

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// FS is the file layer under the log. The default is the operating
// system's; tests inject one that loses unsynced writes to prove that the
// log syncs before it reports data durable.
type FS interface {
	// OpenAppend opens (creating if needed) a file for appending.
	OpenAppend(name string) (File, error)
	// Open opens a file for reading.
	Open(name string) (io.ReadCloser, error)
	// ReadFile reads a whole small file.
	ReadFile(name string) ([]byte, error)
	// WriteFileSync writes a small file atomically and durably.
	WriteFileSync(name string, data []byte) error
	// Truncate cuts a file to size bytes.
	Truncate(name string, size int64) error
	Remove(name string) error
	// List returns the names of the files in dir, sorted.
	List(dir string) ([]string, error)
	MkdirAll(dir string) error
	// Size returns a file's size.
	Size(name string) (int64, error)
}

// File is an open segment being appended to.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// OSFS is the operating system's file layer.
type OSFS struct{}

// OpenAppend implements FS. Its Sync is fdatasync: the data and the file
// size are made durable, not the modification time.
func (OSFS) OpenAppend(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return dataSyncFile{f}, nil
}

type dataSyncFile struct{ *os.File }

func (f dataSyncFile) Sync() error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// Open implements FS.
func (OSFS) Open(name string) (io.ReadCloser, error) { return os.Open(name) }

// ReadFile implements FS.
func (OSFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// WriteFileSync implements FS: write a temporary file, sync it, rename it
// over the old one and sync the directory.
func (OSFS) WriteFileSync(name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// Truncate implements FS.
func (OSFS) Truncate(name string, size int64) error { return os.Truncate(name, size) }

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// List implements FS.
func (OSFS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// MkdirAll implements FS.
func (OSFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o750) }

// Size implements FS.
func (OSFS) Size(name string) (int64, error) {
	st, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
