// Package inherit decides what the programs a supervisor starts inherit
// of its descriptors: 0, 1 and 2, and nothing else, whatever the
// supervisor itself was started with.
package inherit

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// OnlyStdio marks every descriptor above 2 close-on-exec. Descriptors the
// Go runtime and this project open are close-on-exec already; this is for
// those the process inherited.
func OnlyStdio() {
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	fds, _ := os.ReadDir("/proc/self/fd") // kernels before 5.11
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}
