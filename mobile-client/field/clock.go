package field

import (
	"fmt"
	"os"
	"strings"
)

// Instant is a reading of a monotonic clock that keeps counting while the
// device sleeps: nanoseconds since boot, and the boot they belong to.
type Instant struct {
	BootID string
	NS     int64
}

// MonotonicClock reads a clock that never jumps with the wall clock and
// keeps counting through sleep, so that a timer started in one process
// may be stopped in another. Readings of different boots cannot be
// compared.
type MonotonicClock interface {
	Now() (Instant, error)
}

// BootClock is the system's boot-time clock: CLOCK_BOOTTIME with the boot
// ID from /proc/sys/kernel/random/boot_id on Linux and Android, the
// continuous monotonic clock and the boot time on Darwin.
type BootClock struct{}

// Now reads the clock. It returns an error on systems without such a
// clock.
func (BootClock) Now() (Instant, error) {
	return bootNow()
}

// readBootID reads the kernel's boot ID from /proc.
func readBootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("field: read boot id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("field: read boot id: empty")
	}
	return id, nil
}
