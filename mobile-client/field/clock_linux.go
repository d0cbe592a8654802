package field

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func bootNow() (Instant, error) {
	id, err := readBootID()
	if err != nil {
		return Instant{}, err
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return Instant{}, fmt.Errorf("field: read CLOCK_BOOTTIME: %w", err)
	}
	return Instant{BootID: id, NS: ts.Nano()}, nil
}
