// Package svscan is the program svscan, which starts and watches a supervise
// for every service directory in a directory: svscan [DIR]; or, with -1,
// supervises every service inside its own process: svscan -1 [DIR].
// SIGTERM or SIGINT stops every service in order, then svscan exits.
package svscan

import (
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/command/gomaxprocs"
	"daemontools/internal/inherit"
	"daemontools/internal/scan"
	"daemontools/internal/sdnotify"
	"daemontools/internal/sigevent"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, stderr io.Writer) error {
	gomaxprocs.One("svscan", args)
	oneProcess := len(args) > 1 && args[1] == "-1"
	if oneProcess {
		args = args[1:]
	}
	if len(args) > 1 {
		if err := os.Chdir(args[1]); err != nil {
			return strerr.Fatal("unable to chdir to ", args[1], ": ", err)
		}
	}
	// The socket is systemd's line to svscan alone: services must not
	// inherit it and speak for svscan.
	socket := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	var ready func(int)
	if socket != "" {
		ready = func(int) {
			if err := sdnotify.Ready(socket); err != nil {
				strerr.Warn(stderr, "svscan", "unable to notify ", socket, ": ", err)
			}
		}
	}
	// Orphans of the services (daemons that fork twice) come back to us
	// and are reaped; as PID 1 they do anyway.
	if os.Getpid() != 1 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			strerr.Warn(stderr, "svscan", "unable to become a subreaper: ", err)
		}
	}
	// Handled here, SIGINT is no longer ignored when svscan was started
	// ignoring it (a background job of a shell), so no service inherits
	// that. As PID 1 a signal without a handler would never arrive.
	caught := []syscall.Signal{syscall.SIGHUP, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT}
	if os.Getpid() == 1 {
		// A signal the Go runtime would die of would end the container
		// at once: as PID 1, QUIT stops everything in order as TERM
		// does, and the rest a PID 1 may get are dropped.
		caught = append(caught, syscall.SIGQUIT)
		signal.Notify(make(chan os.Signal, 1), syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPWR)
	}
	signals, err := sigevent.Notify(caught...)
	if err != nil {
		return strerr.Fatal("unable to catch signals: ", err)
	}
	// Our stderr is usually a pipe to readproctitle; should it die, a
	// warning must fail with EPIPE rather than kill svscan and with it
	// the supervision of every service.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	opt := scan.Options{Stderr: stderr, Env: os.Environ(), Ready: ready}
	if d, err := time.ParseDuration(os.Getenv(scan.IntervalEnv)); err == nil && d > 0 {
		opt.Interval = d
	}
	if oneProcess {
		if err := oneProcessReady(&opt); err != nil {
			return err
		}
	}
	// supervise gets 0, 1 and 2, and nothing else svscan inherited.
	inherit.OnlyStdio()
	s, err := scan.New(opt)
	if err != nil {
		return err
	}
	if code := s.Run(signals); code != 0 {
		return strerr.Exit(code)
	}
	return nil
}

// collectFrom is the number of services from which svscan -1 collects its
// garbage once the first scan is done. Measured over four idle minutes
// (bench/tree-pss, /proc/PID/smaps_rollup), a collection pays from about
// 400: at 200 services the tree holds 4660 KiB for good without one, and
// 4524 at once with one but 4860 four minutes later; at 350 it is nearly
// even by then (5512 without; 5112, then 5440 and growing, with).
const collectFrom = 400

// oneProcessReady sets svscan -1 up: it needs pidfds, and a service that
// gets a supervise process of its own gets ours, the one beside this
// executable, which can adopt what svscan started (a supervise found in
// $PATH, daemontools' say, would start ./run a second time). Go has
// already raised the soft RLIMIT_NOFILE to the hard limit (and restores it
// for children), which a process holding half a dozen descriptors for
// every service needs.
func oneProcessReady(opt *scan.Options) error {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return strerr.Fatal("unable to supervise in one process without pidfds (Linux 5.3): ", err)
	}
	unix.Close(fd)
	self, err := os.Executable()
	if err != nil {
		return strerr.Fatal("unable to find my own executable: ", err)
	}
	opt.InProcess = true
	opt.Supervise = filepath.Join(filepath.Dir(self), "supervise")
	// What opening every supervisor allocated is mostly garbage once the
	// first scan is done, some 6 KiB a service: back to the system at
	// once, rather than kept for a heap that an idle svscan never grows
	// into again (at 500 services, 4.8 MB instead of 7.2), but only where
	// a collection pays. The first one costs the collector some 200 KiB of
	// its own, and from then on the runtime collects every two minutes,
	// which holds 300 more; a process never collected is never collected
	// while idle, as svscan then allocates nothing.
	ready := opt.Ready
	opt.Ready = func(services int) {
		if services >= collectFrom {
			debug.FreeOSMemory()
		}
		unmapCode()
		if ready != nil {
			ready(services)
		}
	}
	return nil
}
