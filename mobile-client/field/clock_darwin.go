package field

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// On Darwin CLOCK_MONOTONIC keeps counting during sleep; the boot time
// (kern.boottime) tells boots apart.
func bootNow() (Instant, error) {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return Instant{}, fmt.Errorf("field: read kern.boottime: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return Instant{}, fmt.Errorf("field: read CLOCK_MONOTONIC: %w", err)
	}
	return Instant{BootID: fmt.Sprintf("darwin-%d.%06d", tv.Sec, tv.Usec), NS: ts.Nano()}, nil
}
