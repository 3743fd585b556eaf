package supervise

import (
	"bytes"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
)

// The optional files of a service directory (doc/extensions.md). Each is read
// when it is needed, so a change takes effect at the next stop, exit or
// start, without restarting supervise.
const (
	finishFile        = "finish"
	downSignalFile    = "down-signal"
	timeoutKillFile   = "timeout-kill"
	timeoutFinishFile = "timeout-finish"
	backoffMaxFile    = "backoff-max"
	oneshotFile       = "oneshot" // presence counts: ./run is a task, done at its exit 0
)

// defaultTimeoutFinish is how long ./finish may run without timeout-finish.
const defaultTimeoutFinish = 5 * time.Second

// maxMillis bounds the files' milliseconds: about 24 days.
const maxMillis = 1<<31 - 1

// signalNamed is the signal down-signal names (without SIG): a switch, not
// a table, so that no program of the one executable builds it at start.
func signalNamed(name string) (syscall.Signal, bool) {
	switch name {
	case "TERM":
		return unix.SIGTERM, true
	case "QUIT":
		return unix.SIGQUIT, true
	case "INT":
		return unix.SIGINT, true
	case "HUP":
		return unix.SIGHUP, true
	case "USR1":
		return unix.SIGUSR1, true
	case "USR2":
		return unix.SIGUSR2, true
	case "ALRM":
		return unix.SIGALRM, true
	case "WINCH":
		return unix.SIGWINCH, true
	case "KILL":
		return unix.SIGKILL, true
	}
	return 0, false
}

// setting reads the first line of the file name in the service directory,
// without surrounding blanks. A missing file is ("", false); one that
// cannot be read is reported and counts as missing. It never blocks: a
// FIFO of that name reads as empty.
func (s *system) setting(name string) (string, bool) {
	fd, err := rawsys.Openat(s.dir, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return "", false
	}
	var b [128]byte
	n := 0
	if err == nil {
		n, err = rawsys.Read(fd, b[:])
		rawsys.Close(fd)
	}
	if err != nil && err != unix.EAGAIN {
		s.warn("unable to read ", s.opt.Dir, "/", name, ": ", err)
		return "", false
	}
	line, _, _ := bytes.Cut(b[:max(n, 0)], []byte("\n"))
	return string(bytes.TrimSpace(line)), true
}

// millis reads a setting of decimal milliseconds. Absent or bad (reported,
// with what is used instead), it is def.
func (s *Supervisor) millis(name string, def time.Duration, instead string) time.Duration {
	v, ok := s.fx.setting(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > maxMillis || v[0] == '+' {
		s.warn(s.opt.Dir, "/", name, ": not a number of milliseconds: ", strconv.Quote(v), ", ", instead)
		return def
	}
	return time.Duration(n) * time.Millisecond
}

// downSignal is the signal that stops the service: down-signal's, or TERM.
func (s *Supervisor) downSignal() syscall.Signal {
	v, ok := s.fx.setting(downSignalFile)
	if !ok {
		return unix.SIGTERM
	}
	if sig, ok := signalNamed(strings.TrimPrefix(v, "SIG")); ok {
		return sig
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 64 && v[0] != '+' {
		return syscall.Signal(n)
	}
	s.warn(s.opt.Dir, "/", downSignalFile, ": unknown signal: ", strconv.Quote(v), ", using TERM")
	return unix.SIGTERM
}

// timeoutKill is how long after the down signal ./run is killed; 0 for
// never.
func (s *Supervisor) timeoutKill() time.Duration {
	return s.millis(timeoutKillFile, 0, "ignored")
}

// timeoutFinish is how long ./finish may run before it is killed; 0 for
// no limit.
func (s *Supervisor) timeoutFinish() time.Duration {
	return s.millis(timeoutFinishFile, defaultTimeoutFinish, "using 5000")
}

// backoffMax is the longest pause before a start of a crash-looping
// service; restartGap, the daemontools pause, without backoff-max.
func (s *Supervisor) backoffMax() time.Duration {
	return max(restartGap, s.millis(backoffMaxFile, restartGap, "ignored"))
}

// hasFinish tells whether the service has a ./finish to run.
func (s *system) hasFinish() bool {
	_, err := rawsys.Stat(s.dir, finishFile)
	return err == nil
}
