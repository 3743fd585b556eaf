// Package supervise is the supervisor of one service: it starts ./run,
// starts it again whenever it exits while wanted up (at most once a
// second), obeys the one-byte commands svc writes to supervise/control, and
// records every change in supervise/status, as daemontools' supervise does.
//
// A Supervisor is a value that owns one service and nothing else: the
// service directory through a descriptor (never the process's working
// directory), its lock, FIFOs and status record, and the children it
// started, which it reaps through their pidfds. Several can run in one
// process. Process-wide matters (signal handlers, inherited descriptors)
// are the caller's.
//
// Run sleeps in poll(2) until something happens: ./run exits (its pidfd
// becomes readable), a command arrives, or a throttled restart falls due.
// Waking in the same thread that then reaps, restarts and writes the status
// keeps restarts as quick as daemontools'. The one-second throttle is
// poll's timeout, so commands are obeyed while it runs.
package supervise

import (
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

const (
	lockFile = "supervise/lock"
	// restartGap is the least time between two starts of ./run.
	restartGap = time.Second
)

// Options say which service to supervise and what its programs get.
type Options struct {
	Dir    string    // the service directory, as the user gave it: opened once, and named in messages
	Env    []string  // environment of ./run
	Stdio  [3]int    // descriptors ./run gets as 0, 1 and 2
	Stderr io.Writer // warnings
	// ChildSignal, when not -1, is the read end of a non-blocking pipe
	// that gets a byte on every SIGCHLD: the supervisor then learns of its
	// children's exits through it instead of through pidfds (kernels
	// before 5.3 have none).
	ChildSignal int
}

// phase is what the service is doing.
type phase int

const (
	down phase = iota // nothing runs; a start may be due
	up                // ./run runs
)

// Supervisor supervises one service; see Open, Run and Close.
type Supervisor struct {
	opt  Options
	dir  int    // the service directory
	cwd  string // what a child chdirs to: the directory through /proc, or Dir without it
	lock int
	ctl  *control.Listener

	phase  phase
	child  child       // ./run, while up
	since  tai64.Label // when the pid last changed
	paused bool
	want   byte // status.WantUp, WantDown or WantNone

	exiting   bool      // svc -x: exit once the service is down
	due       time.Time // when the next start is to be made; zero for none
	dueAsked  bool      // svc -u or -o asked for the due start: -x waits for it
	lastStart time.Time
}

// Open takes charge of the service in opt.Dir: it makes supervise/, takes
// its lock, makes the FIFOs and records the service down; clients see it
// supervised from then on. Run starts the service. A failure is a fatal
// error in daemontools' words, and leaves nothing open.
func Open(opt Options) (*Supervisor, error) {
	s := &Supervisor{opt: opt, dir: -1, lock: -1, want: status.WantUp, child: noChild}
	if err := s.open(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Supervisor) open() error {
	dir, err := unix.Open(s.opt.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		s.dir = dir
		// What chdir would check: search permission.
		err = unix.Faccessat(dir, ".", unix.X_OK, 0)
	}
	if err != nil {
		return strerr.Fatal("unable to chdir to ", s.opt.Dir, ": ", err)
	}
	s.cwd = "/proc/self/fd/" + strconv.Itoa(dir)
	if unix.Access(s.cwd, unix.X_OK) != nil {
		// No /proc: the path, resolved when ./run starts.
		if s.cwd, err = filepath.Abs(s.opt.Dir); err != nil {
			return strerr.Fatal("unable to chdir to ", s.opt.Dir, ": ", err)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dir, "down", &st, 0); err == nil {
		s.want = status.WantDown
	} else if err != unix.ENOENT {
		return strerr.Fatal("unable to stat ", s.opt.Dir, "/down: ", err)
	}
	unix.Mkdirat(dir, "supervise", 0o700)
	// Non-blocking: a FIFO named lock fails with ENXIO, as daemontools'.
	s.lock, err = unix.Openat(dir, lockFile, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err == nil {
		err = unix.Flock(s.lock, unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		return strerr.Fatal("unable to acquire ", s.opt.Dir, "/", lockFile, ": ", err)
	}
	if s.ctl, err = control.Listen(dir); err != nil {
		return s.fatal(err)
	}
	s.since = tai64.Now()
	s.announce()
	if err := s.ctl.Ready(); err != nil {
		return s.fatal(err)
	}
	return nil
}

// fatal turns a *control.Error into daemontools' message for it.
func (s *Supervisor) fatal(err error) error {
	var e *control.Error
	if !errors.As(err, &e) {
		return strerr.Fatal(err)
	}
	return strerr.Fatal("unable to ", e.Verb, " ", s.opt.Dir, "/", e.File, ": ", e.Err)
}

// Close lets go of the service: FIFOs, lock and directory. A child still
// running is left running, as after a kill of daemontools' supervise.
func (s *Supervisor) Close() {
	if s.ctl != nil {
		s.ctl.Close()
	}
	s.child.release()
	for _, fd := range []int{s.lock, s.dir} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	s.lock, s.dir = -1, -1
}

// Post writes commands into the service's control FIFO as svc would; it
// is how a SIGTERM becomes svc -dx, whatever the FIFO's name has become.
func (s *Supervisor) Post(commands []byte) error { return s.ctl.Post(commands) }

// Run starts the service unless it is normally down, then supervises it
// until told to exit (svc -x) and the service is down.
func (s *Supervisor) Run() {
	if s.want == status.WantUp {
		s.start()
	}
	fds := []unix.PollFd{{Fd: int32(s.ctl.Commands), Events: unix.POLLIN}, {Events: unix.POLLIN}}
	for !s.Done() {
		fds[1].Fd = int32(s.child.pidfd)
		if s.opt.ChildSignal >= 0 {
			fds[1].Fd = int32(s.opt.ChildSignal)
		}
		// Errors are EINTR or a passing ENOMEM: look around and poll again.
		unix.Poll(fds, s.timeout(time.Now()))
		if s.opt.ChildSignal >= 0 && fds[1].Revents != 0 {
			var b [64]byte
			unix.Read(s.opt.ChildSignal, b[:])
		}
		s.Step(time.Now())
	}
	s.announce()
}

// Done says whether the supervisor is to end: told to, and the service
// down. "svc -ux" on a service that is down runs it once, as with
// daemontools, even when the start waits for the restart gap.
func (s *Supervisor) Done() bool { return s.exiting && s.phase == down && !s.dueAsked }

// timeout is poll's, in milliseconds, at now: until a start that is due
// may be made, and a second while ./run is up with no way to learn of its
// exit but looking; else none.
func (s *Supervisor) timeout(now time.Time) int {
	switch {
	case s.phase == down && !s.due.IsZero():
		wait := s.due.Sub(now)
		return int(max(0, (wait+time.Millisecond-1)/time.Millisecond))
	case s.phase == up && s.child.pidfd < 0 && s.opt.ChildSignal < 0:
		return int(restartGap / time.Millisecond)
	}
	return -1
}

// Step does whatever is to be done at now, without blocking: it reaps an
// exited child, obeys the commands waiting in the control FIFO, and makes a
// start that has fallen due.
func (s *Supervisor) Step(now time.Time) {
	if s.phase == up {
		if _, exited := s.child.wait(); exited {
			s.child.release()
			s.phase = down
			s.since = tai64.Now()
			if !s.exiting && s.want == status.WantUp {
				s.start()
			} else {
				s.announce()
			}
		}
	}
	if s.Done() {
		return
	}
	var b [64]byte
	n, _ := unix.Read(s.ctl.Commands, b[:])
	for _, c := range b[:max(n, 0)] {
		s.command(c)
		if s.Done() {
			return // like daemontools, which reads a byte at a time
		}
	}
	if s.phase == down && !s.due.IsZero() && !now.Before(s.due) {
		s.start()
	}
}

func (s *Supervisor) command(c byte) {
	switch c {
	case 'u', 'o':
		s.want = status.WantUp
		if c == 'o' {
			s.want = status.WantNone
		}
		if s.phase == down {
			s.dueAsked = true
			s.start()
		} else {
			s.announce()
		}
	case 'd':
		s.want = status.WantDown
		s.due, s.dueAsked = time.Time{}, false
		if s.phase == up {
			s.kill(unix.SIGTERM)
			s.kill(unix.SIGCONT)
			s.paused = false
		}
		s.announce()
	case 'p':
		s.paused = true
		s.announce()
		s.kill(unix.SIGSTOP)
	case 'c':
		s.paused = false
		s.announce()
		s.kill(unix.SIGCONT)
	case 'x':
		s.exiting = true
		s.announce()
	case 'h':
		s.kill(unix.SIGHUP)
	case 'a':
		s.kill(unix.SIGALRM)
	case 'i':
		s.kill(unix.SIGINT)
	case 't':
		s.kill(unix.SIGTERM)
	case 'k':
		s.kill(unix.SIGKILL)
	}
}

// kill signals ./run, if it runs.
func (s *Supervisor) kill(sig syscall.Signal) {
	if s.phase == up {
		s.child.signal(sig)
	}
}

// start starts ./run now, or once a second has passed since the last
// start, and announces the outcome. A run that cannot be started is
// reported and, while the service is wanted up, tried again a second later.
//
// Callers leave the announcing of what led here to start: one status
// write fewer before the fork is a quicker restart, and the state skipped
// lasted less than a millisecond.
func (s *Supervisor) start() {
	defer s.announce()
	now := time.Now()
	if next := s.lastStart.Add(restartGap); now.Before(next) {
		s.due = next
		return
	}
	s.lastStart = now
	s.due, s.dueAsked = time.Time{}, false
	c, err := s.spawn([]string{"./run"}, s.opt.Env)
	if err != nil {
		strerr.Report(s.opt.Stderr, "supervise", strerr.Fatal("unable to start ", s.opt.Dir, "/run: ", err))
		if s.want == status.WantUp {
			s.due = now.Add(restartGap)
		}
		return
	}
	s.child = c
	s.phase = up
	s.paused = false
	s.since = tai64.Now()
}

// announce writes the status record, warning when it cannot.
func (s *Supervisor) announce() {
	err := status.Write(s.dir, status.Status{Since: s.since, Pid: s.child.pid, Paused: s.paused, Want: s.want})
	var e *status.WriteError
	switch {
	case err == nil:
	case !errors.As(err, &e):
		strerr.Warn(s.opt.Stderr, "supervise", "unable to write ", s.opt.Dir, "/", status.File, ": ", err)
	case e.Op == "rename":
		strerr.Warn(s.opt.Stderr, "supervise", "unable to rename ", s.opt.Dir, "/", e.File, " to status: ", e.Err)
	default:
		strerr.Warn(s.opt.Stderr, "supervise", "unable to ", e.Op, " ", s.opt.Dir, "/", e.File, ": ", e.Err)
	}
}
