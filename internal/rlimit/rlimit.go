// Package rlimit sets soft resource limits for softlimit's options.
package rlimit

import (
	"errors"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
)

// Resources returns the limits softlimit's option letter sets, and false
// for a letter that is no option. A switch, not a map: the one executable
// pays for a map at every program's start.
func Resources(option byte) ([]int, bool) {
	switch option {
	case 'a':
		return []int{unix.RLIMIT_AS}, true
	case 'c':
		return []int{unix.RLIMIT_CORE}, true
	case 'd':
		return []int{unix.RLIMIT_DATA}, true
	case 'f':
		return []int{unix.RLIMIT_FSIZE}, true
	case 'l':
		return []int{unix.RLIMIT_MEMLOCK}, true
	case 'm':
		return []int{unix.RLIMIT_DATA, unix.RLIMIT_STACK, unix.RLIMIT_MEMLOCK, unix.RLIMIT_AS}, true
	case 'o':
		return []int{unix.RLIMIT_NOFILE}, true
	case 'p':
		return []int{unix.RLIMIT_NPROC}, true
	case 'r':
		return []int{unix.RLIMIT_RSS}, true
	case 's':
		return []int{unix.RLIMIT_STACK}, true
	case 't':
		return []int{unix.RLIMIT_CPU}, true
	}
	return nil, false
}

// ErrBadValue means the value is neither "=" nor a decimal number;
// softlimit answers it with its usage line.
var ErrBadValue = errors.New("bad limit")

// SetSoft sets resource's soft limit to value, a decimal number or "=" for
// the hard limit; a number above the hard limit is capped at it. It goes
// through package syscall so that, for RLIMIT_NOFILE, the Go runtime hands
// the new value (not the one it found at start-up) to the exec'd child.
func SetSoft(resource int, value string) error {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(resource, &r); err != nil {
		return strerr.Fatal("getrlimit failed: ", err)
	}
	if value == "=" {
		r.Cur = r.Max
	} else {
		n, err := parse(value)
		if err != nil {
			return err
		}
		r.Cur = min(n, r.Max)
	}
	if err := syscall.Setrlimit(resource, &r); err != nil {
		return strerr.Fatal("setrlimit failed: ", err)
	}
	return nil
}

// parse reads digits as daemontools' scan_ulong does, an empty value being
// 0, except that a number too big for 64 bits is as good as unlimited where
// scan_ulong wraps it around (a deliberate difference, in the README).
func parse(value string) (uint64, error) {
	if value == "" {
		return 0, nil
	}
	for i := 0; i < len(value); i++ {
		if value[i] < '0' || value[i] > '9' {
			return 0, ErrBadValue
		}
	}
	n, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return ^uint64(0), nil
	}
	return n, nil
}
