package migrateto

import "os"

// sidecars are the WAL and shared-memory files beside a SQLite database,
// and whether each was there before the copy opened it. A read-only
// connection makes them when they are missing and cannot remove them
// when it closes (internal/sqlitedb, Inspect); the copy removes the
// ones it made, empty, so that it leaves the data folder as it found it.
type sidecars struct {
	wal, shm       string
	hadWAL, hadSHM bool
}

func sidecarsOf(path string) sidecars {
	s := sidecars{wal: path + "-wal", shm: path + "-shm"}
	_, err := os.Stat(s.wal)
	s.hadWAL = err == nil
	_, err = os.Stat(s.shm)
	s.hadSHM = err == nil
	return s
}

// cleanUp removes the sidecars the copy made, once no process has the
// database open and the WAL holds nothing.
func (s sidecars) cleanUp() {
	if s.hadWAL || s.hadSHM {
		return
	}
	if held, err := heldOpen(s.wal[:len(s.wal)-len("-wal")]); err != nil || held {
		return
	}
	if fi, err := os.Stat(s.wal); err == nil && fi.Size() > 0 {
		return
	}
	os.Remove(s.wal)
	os.Remove(s.shm)
}
