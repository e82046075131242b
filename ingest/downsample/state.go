package downsample

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// state is the persisted dirty set: hour bucket indexes (Unix hours) by raw
// measurement.
type state map[string][]int64

type stateFile struct {
	Version int   `json:"version"`
	Dirty   state `json:"dirty"`
}

func loadState(path string) (state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("downsample: reading state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("downsample: state file %s: %w", path, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("downsample: state file %s: unknown version %d", path, f.Version)
	}
	return f.Dirty, nil
}

// saveState writes the state atomically: a temporary file, fsynced, renamed
// over the old one, and the directory fsynced.
func saveState(path string, st state) error {
	b, err := json.Marshal(stateFile{Version: 1, Dirty: st})
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("downsample: saving state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("downsample: saving state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("downsample: saving state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("downsample: saving state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("downsample: saving state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
