// Package supervise is the supervisor of one service: it starts ./run,
// starts it again whenever it exits while wanted up (at most once a
// second), obeys the one-byte commands svc writes to supervise/control, and
// records every change in supervise/status, as daemontools' supervise does.
//
// One goroutine does all of it, asleep in poll(2) until something happens:
// ./run exits (its pidfd becomes readable), a command arrives, or a
// throttled restart falls due. Waking in the same thread that then reaps,
// restarts and writes the status keeps restarts as quick as daemontools'.
// The one-second throttle is poll's timeout, so commands are obeyed while
// it runs.
package supervise

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/inherit"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

const (
	statusFile = "supervise/status"
	lockFile   = "supervise/lock"
	// restartGap is the least time between two starts of ./run.
	restartGap = time.Second
)

var (
	// run is the program started, with cwd the service directory.
	run = []string{"./run"}
	// pidfdOpen is unix.PidfdOpen; tests replace it to take the paths
	// of kernels without it.
	pidfdOpen = unix.PidfdOpen
)

type supervisor struct {
	dir    string // as the user gave it, for messages
	env    []string
	stderr io.Writer

	pid     int
	since   tai64.Label // when pid last changed
	paused  bool
	want    byte // status.WantUp, WantDown or WantNone
	exiting bool // svc -x: exit once the service is down

	// poll learns of ./run's exit from pidfd, or where the kernel has no
	// pidfd_open (before 5.3), from sigchld, which gets a byte on every
	// SIGCHLD. Both are -1 when unused.
	pidfd   int
	sigchld int

	lastStart time.Time
	owed      bool // a start is due once the throttle allows it
	asked     bool // svc -u or -o asked for a start not yet tried: -x waits for it
}

// Run supervises the service in dir, starting ./run with environment env,
// until told to exit (svc -x, or SIGTERM, which does what svc -dx does).
// It returns only startup failures and nil.
func Run(dir string, env []string, stderr io.Writer) error {
	s := &supervisor{dir: dir, env: env, stderr: stderr, want: status.WantUp, pidfd: -1, sigchld: -1}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	inherit.OnlyStdio()
	if err := syscall.Chdir(dir); err != nil {
		return strerr.Fatal("unable to chdir to ", dir, ": ", err)
	}
	if _, err := os.Stat("down"); err == nil {
		s.want = status.WantDown
	} else if !os.IsNotExist(err) {
		return strerr.Fatal("unable to stat ", dir, "/down: ", err)
	}
	if fd, err := pidfdOpen(os.Getpid(), 0); err == nil {
		syscall.Close(fd)
	} else if s.sigchld, err = notifyPipe(syscall.SIGCHLD); err != nil {
		return strerr.Fatal("unable to create pipe for ", dir, ": ", err)
	}
	syscall.Mkdir("supervise", 0o700)
	lock, err := syscall.Open(lockFile, syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
	if err == nil {
		err = syscall.Flock(lock, syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		return strerr.Fatal("unable to acquire ", dir, "/", lockFile, ": ", err)
	}
	l, err := control.Listen()
	if err != nil {
		return s.fatal(err)
	}
	s.since = tai64.Now()
	s.announce()
	if err := l.Ready(); err != nil {
		return s.fatal(err)
	}
	go s.obeyTerm(term, l)
	if s.want == status.WantUp {
		s.start()
	}
	s.loop(l.Commands)
	s.announce()
	return nil
}

// notifyPipe returns the read end of a non-blocking pipe that gets a byte
// whenever sig arrives.
func notifyPipe(sig os.Signal) (int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return -1, err
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, sig)
	go func() {
		for range c {
			syscall.Write(p[1], []byte{0})
		}
	}()
	return p[0], nil
}

// obeyTerm makes SIGTERM do what svc -dx does, by writing those commands
// into the control FIFO through the write end supervise holds.
func (s *supervisor) obeyTerm(term <-chan os.Signal, l *control.Listener) {
	for range term {
		if err := l.Post([]byte("dx")); err != nil {
			strerr.Warn(s.stderr, "supervise", "unable to obey SIGTERM in ", s.dir, ": ", err)
		}
	}
}

// fatal turns a *control.Error into daemontools' message for it.
func (s *supervisor) fatal(err error) error {
	e := err.(*control.Error)
	return strerr.Fatal("unable to ", e.Verb, " ", s.dir, "/", e.File, ": ", e.Err)
}

func (s *supervisor) loop(commands int) {
	fds := []unix.PollFd{{Fd: int32(commands), Events: unix.POLLIN}, {Events: unix.POLLIN}}
	var b [64]byte
	for !s.done() {
		fds[1].Fd = int32(max(s.pidfd, s.sigchld))
		// Errors are EINTR or a passing ENOMEM: look around and poll again.
		unix.Poll(fds, s.timeout())
		if s.sigchld >= 0 && fds[1].Revents != 0 {
			syscall.Read(s.sigchld, b[:])
		}
		if s.reap() {
			if !s.exiting && s.want == status.WantUp {
				s.start()
			} else {
				s.announce()
			}
		}
		if s.done() {
			return
		}
		if fds[0].Revents != 0 {
			n, _ := syscall.Read(commands, b[:])
			for _, c := range b[:max(n, 0)] {
				s.command(c)
				if s.done() {
					return // like daemontools, which reads a byte at a time
				}
			}
		}
		if s.owed && s.pid == 0 && time.Since(s.lastStart) >= restartGap {
			s.start()
		}
	}
}

// done says whether supervise is to exit: told to, and the service down.
// "svc -ux" on a service that is down runs it once, as with daemontools,
// even when the start waits for the restart gap.
func (s *supervisor) done() bool { return s.exiting && s.pid == 0 && !s.asked }

// timeout is poll's, in milliseconds: until a start that is owed may be
// made, and a second while ./run is up with no way to learn of its exit
// but looking (pidfd_open failed for it); else none.
func (s *supervisor) timeout() int {
	switch {
	case s.owed && s.pid == 0:
		wait := restartGap - time.Since(s.lastStart)
		return int(max(0, (wait+time.Millisecond-1)/time.Millisecond))
	case s.pid != 0 && s.pidfd < 0 && s.sigchld < 0:
		return int(restartGap / time.Millisecond)
	}
	return -1
}

// reap collects every exited child and reports whether ./run was one; the
// caller announces it, or restarts ./run at once, which announces that.
func (s *supervisor) reap() bool {
	exited := false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 {
			return exited
		}
		if pid == s.pid {
			s.pid = 0
			if s.pidfd >= 0 {
				syscall.Close(s.pidfd)
				s.pidfd = -1
			}
			s.since = tai64.Now()
			exited = true
		}
	}
}

func (s *supervisor) command(c byte) {
	switch c {
	case 'u', 'o':
		s.want = status.WantUp
		if c == 'o' {
			s.want = status.WantNone
		}
		if s.pid == 0 {
			s.asked = true
			s.start()
		} else {
			s.announce()
		}
	case 'd':
		s.want = status.WantDown
		s.owed, s.asked = false, false
		if s.pid != 0 {
			s.kill(syscall.SIGTERM)
			s.kill(syscall.SIGCONT)
			s.paused = false
		}
		s.announce()
	case 'p':
		s.paused = true
		s.announce()
		s.kill(syscall.SIGSTOP)
	case 'c':
		s.paused = false
		s.announce()
		s.kill(syscall.SIGCONT)
	case 'x':
		s.exiting = true
		s.announce()
	case 'h':
		s.kill(syscall.SIGHUP)
	case 'a':
		s.kill(syscall.SIGALRM)
	case 'i':
		s.kill(syscall.SIGINT)
	case 't':
		s.kill(syscall.SIGTERM)
	case 'k':
		s.kill(syscall.SIGKILL)
	}
}

func (s *supervisor) kill(sig syscall.Signal) {
	if s.pid != 0 {
		syscall.Kill(s.pid, sig)
	}
}

// start starts ./run now, or once a second has passed since the last
// start, and announces the outcome. A run that cannot be started is
// reported and, while the service is wanted up, tried again a second later.
//
// Callers leave the announcing of what led here to start: one status
// write fewer before the fork is a quicker restart, and the state skipped
// lasted less than a millisecond.
func (s *supervisor) start() {
	s.owed = true
	defer s.announce()
	if time.Since(s.lastStart) < restartGap {
		return
	}
	s.lastStart = time.Now()
	s.asked = false
	pid, err := syscall.ForkExec(run[0], run, &syscall.ProcAttr{
		Env:   s.env,
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		strerr.Report(s.stderr, "supervise", strerr.Fatal("unable to start ", s.dir, "/run: ", err))
		s.owed = s.want == status.WantUp
		return
	}
	s.owed = false
	s.pid = pid
	s.paused = false
	s.since = tai64.Now()
	if s.sigchld < 0 {
		// A failure leaves timeout to look once a second.
		if fd, err := pidfdOpen(pid, 0); err == nil {
			s.pidfd = fd
		}
	}
}

// announce writes the status record, warning when it cannot.
func (s *supervisor) announce() {
	err := status.Write(statusFile, status.Status{Since: s.since, Pid: s.pid, Paused: s.paused, Want: s.want})
	if err == nil {
		return
	}
	e := err.(*status.WriteError)
	switch e.Op {
	case "rename":
		strerr.Warn(s.stderr, "supervise", "unable to rename ", s.dir, "/", e.File, " to status: ", e.Err)
	default:
		strerr.Warn(s.stderr, "supervise", "unable to ", e.Op, " ", s.dir, "/", e.File, ": ", e.Err)
	}
}
