package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// InUse reports whether a process has the SQLite database at path open.
//
// SQLite's unix VFS takes POSIX advisory locks (fcntl) on the database
// file and, in WAL mode, on its -shm file; every open connection holds at
// least a shared lock on one of them. InUse asks the kernel, with an
// open-file-description lock query (F_OFD_GETLK), whether a write lock on
// the whole of each file would conflict with a lock somebody holds. The
// query takes no lock, and unlike F_GETLK it also sees the locks of the
// calling process's own other descriptors. Linux only, like chargewatch's
// packages.
func InUse(path string) (bool, error) {
	for _, p := range []string{path + "-shm", path} {
		busy, err := locked(p)
		if err != nil {
			return false, err
		}
		if busy {
			return true, nil
		}
	}
	return false, nil
}

func locked(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check whether %s is in use: %w", path, err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, fmt.Errorf("check whether %s is in use: %w", path, err)
	}
	return lk.Type != unix.F_UNLCK, nil
}
