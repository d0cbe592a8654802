package migrateto

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// shmDMS is the byte of a WAL database's shared-memory file (-shm) on
// which every connection that has the database open holds a shared lock
// (SQLite's os_unix.c, UNIX_SHM_DMS: (22 + 8) * 4 + 8).
const shmDMS = 128

// heldOpen reports whether a process has the SQLite database at path
// open: a running server, or any other connection. SQLite's locks are
// POSIX record locks; an open-file-description lock query sees them
// whatever process holds them. It must not run while this process has
// the database open: closing the descriptor it opens would drop this
// process's own POSIX locks on the file.
func heldOpen(path string) (bool, error) {
	f, err := os.Open(path + "-shm")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // no connection in WAL mode has it open
	}
	if err != nil {
		return false, fmt.Errorf("check whether %s is in use: %w", path, err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: shmDMS, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, fmt.Errorf("check whether %s is in use: %w", path, err)
	}
	return lk.Type != unix.F_UNLCK, nil
}
