// Package settings reads the settings files of a service directory
// (doc/extensions.md, "Files in a service directory"): a file's first
// line, and what a file of milliseconds holds. supervise and svscan's
// stop both read timeout-kill here, so that a value means the same to
// both.
package settings

import (
	"bytes"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/strerr"
)

// lineMax is how much of a file is read: a setting is one short line.
const lineMax = 128

// ReadLine reads the first line of the file name in the directory open as
// dir (or unix.AT_FDCWD), without surrounding blanks. It never blocks: a
// FIFO of that name reads as empty. A missing file is unix.ENOENT. Its
// calls are raw ones (rawsys): supervise reads settings between an exit
// and the next start, where the Go runtime's monitor is not to be woken.
func ReadLine(dir int, name string) (string, error) {
	fd, err := rawsys.Openat(dir, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	var b [lineMax]byte
	n, err := rawsys.Read(fd, b[:])
	rawsys.Close(fd)
	if err != nil && err != unix.EAGAIN {
		return "", err
	}
	line, _, _ := bytes.Cut(b[:max(n, 0)], []byte("\n"))
	return string(bytes.TrimSpace(line)), nil
}

// MaxMillis bounds a file's milliseconds, about 24 days: the longest
// timer a 32-bit signed count of milliseconds holds.
const MaxMillis = 1<<31 - 1

// ErrNotMillis is a line that is not a number of milliseconds.
var ErrNotMillis error = strerr.Text("not a number of milliseconds")

// Millis reads a line of a file of milliseconds: decimal digits alone
// (no sign), from 0 to MaxMillis.
func Millis(line string) (time.Duration, error) {
	n, err := strconv.ParseUint(line, 10, 64)
	if err != nil || n > MaxMillis {
		return 0, ErrNotMillis
	}
	return time.Duration(n) * time.Millisecond, nil
}
