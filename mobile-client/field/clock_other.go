//go:build !linux && !darwin

package field

import (
	"runtime"

	"github.com/shopscore/shopscore/audit"
)

func bootNow() (Instant, error) {
	return Instant{}, audit.Errorf(audit.EPRECONDITION, "timers need a boot-time clock, which %s does not offer: measure the time otherwise and answer it in milliseconds", runtime.GOOS)
}
