package supervise

import (
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/rawsys"
)

// child is a process the supervisor started, or one it adopted: from a
// previous supervisor, a daemon named by a pidfile, or a leftover of a
// service being stopped.
type child struct {
	pid     int          // 0 for none
	pidfd   int          // readable once it has exited; -1 without one
	start   procstart.ID // zero when /proc could not tell
	adopted bool         // not started here: maybe not a child of this process
	named   naming       // where its pid came from, when not from a start of ./run
	finish  bool         // ./finish
}

// naming is what named a process that ./run forked as the service's.
type naming int

const (
	byRun     naming = iota // none: ./run itself, or its process adopted from a record
	byPidfile               // the pidfile (pidfile.go)
	byMainpid               // MAINPID= on the notify socket (readiness.go)
)

var noChild = child{pidfd: -1}

// exit is how a child ended: its exit code, or 256 and the signal that
// killed it.
type exit struct{ code, signal int }

// exitUnknown is the exit of a child whose status could not be had.
var exitUnknown = exit{-1, 0}

// spawn starts argv in the service directory with env and, as its
// descriptors, files (nil for the supervisor's stdio alone). It asks the
// kernel for a pidfd with the fork: a kernel before 5.2 gives none, and
// the supervisor then learns of the child's exit only from the Step its
// driver makes on SIGCHLD.
func (s *system) spawn(argv []string, env []string, files []uintptr) (child, error) {
	c := noChild
	sys := &syscall.SysProcAttr{PidFD: &c.pidfd}
	if files == nil {
		files = s.stdio()
	}
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{Dir: s.cwd, Env: env, Files: files, Sys: sys})
	if err != nil {
		return noChild, err
	}
	c.pid = pid
	// The child cannot be reaped before wait, so the pid is still its own.
	c.start, _ = procstart.Of(pid)
	return c, nil
}

// stdio is the supervisor's stdio as spawn's files.
func (s *system) stdio() []uintptr {
	return []uintptr{uintptr(s.opt.Stdio[0]), uintptr(s.opt.Stdio[1]), uintptr(s.opt.Stdio[2])}
}

// signal sends sig to the child, through its pidfd when it has one, so
// that a pid reused after the child was reaped elsewhere is never hit.
func (c *child) signal(sig syscall.Signal) {
	switch {
	case c.pid == 0:
		return // none: kill(0) would hit the whole process group
	case c.pidfd >= 0:
		unix.PidfdSendSignal(c.pidfd, sig, nil, 0)
	default:
		unix.Kill(c.pid, sig)
	}
}

// wait reaps the child if it has exited, without blocking, and says how it
// ended. It waits for this child alone: other children of the process are
// other supervisors' business.
func (c *child) wait() (exit, bool) {
	if c.adopted && !c.exited() {
		return exit{}, false // waitid fails on another's child, even alive
	}
	// An adopted process that exited has its status here if it is a child
	// of this process (an orphan that came back to it); else it is unknown
	// (ECHILD below).
	if c.pidfd < 0 {
		ws, reaped := rawsys.Reap(c.pid)
		switch {
		case !reaped:
			return exit{}, false
		case ws.Signaled():
			return exit{256, int(ws.Signal())}, true
		}
		return exit{ws.ExitStatus(), 0}, true
	}
	code, sig, exited, err := rawsys.WaitPidfd(c.pidfd)
	switch {
	case err == unix.ECHILD:
		return exitUnknown, true // reaped by someone else: gone all the same
	case err != nil || !exited:
		return exit{}, false
	case sig != 0:
		return exit{256, sig}, true
	}
	return exit{code, 0}, true
}

// exited tells whether the child has exited, from its pidfd.
func (c *child) exited() bool {
	fds := []unix.PollFd{{Fd: int32(c.pidfd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n > 0
}

// release closes the child's pidfd and forgets it.
func (c *child) release() {
	if c.pidfd >= 0 {
		rawsys.Close(c.pidfd)
	}
	*c = noChild
}
