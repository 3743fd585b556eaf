package supervise

import (
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/settings"
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
// without surrounding blanks (settings.ReadLine). A missing file is ("",
// false); one that cannot be read is reported and counts as missing.
func (s *system) setting(name string) (string, bool) {
	v, err := settings.ReadLine(s.dir, name)
	switch {
	case err == unix.ENOENT:
		return "", false
	case err != nil:
		s.warn("unable to read ", s.opt.Dir, "/", name, ": ", err)
		return "", false
	}
	return v, true
}

// has tells whether the setting name is there.
func (s *Supervisor) has(name string) bool {
	_, ok := s.fx.setting(name)
	return ok
}

// millis reads a setting of milliseconds (settings.Millis). Absent or bad
// (reported, with what is used instead), it is def.
func (s *Supervisor) millis(name string, def time.Duration, instead string) time.Duration {
	v, ok := s.fx.setting(name)
	if !ok {
		return def
	}
	d, err := settings.Millis(v)
	if err != nil {
		s.warn(s.opt.Dir, "/", name, ": ", err, ": ", strconv.Quote(v), ", ", instead)
		return def
	}
	return d
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
