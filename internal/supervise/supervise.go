// Package supervise is the supervisor of one service: it starts ./run,
// starts it again whenever it exits while wanted up (at most once a
// second), obeys the one-byte commands svc writes to supervise/control, and
// records every change in supervise/status, as daemontools' supervise does.
//
// It sleeps until something happens: a child exits, a command arrives, or a
// throttled restart falls due. The one-second throttle is a timer, so
// commands are obeyed while it runs.
package supervise

import (
	"io"
	"os"
	"os/signal"
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
	statusFile = "supervise/status"
	lockFile   = "supervise/lock"
	// restartGap is the least time between two starts of ./run.
	restartGap = time.Second
)

// run is the program started, with cwd the service directory.
var run = []string{"./run"}

type supervisor struct {
	dir    string // as the user gave it, for messages
	env    []string
	stderr io.Writer

	pid     int
	since   tai64.Label // when pid last changed
	paused  bool
	want    byte // status.WantUp, WantDown or WantNone
	exiting bool // svc -x: exit once the service is down

	lastStart time.Time
	owed      bool // a start is due once the throttle allows it
	asked     bool // svc -u or -o asked for a start not yet tried: -x waits for it
	timer     *time.Timer
	timerC    <-chan time.Time // timer.C while armed, else nil
}

// Run supervises the service in dir, starting ./run with environment env,
// until told to exit (svc -x, or SIGTERM, which does what svc -dx does).
// It returns only startup failures and nil.
func Run(dir string, env []string, stderr io.Writer) error {
	s := &supervisor{dir: dir, env: env, stderr: stderr, want: status.WantUp}
	closeOnExec()
	// Catch SIGCHLD before the first child can exit.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM)
	if err := syscall.Chdir(dir); err != nil {
		return strerr.Fatal("unable to chdir to ", dir, ": ", err)
	}
	if _, err := os.Stat("down"); err == nil {
		s.want = status.WantDown
	} else if !os.IsNotExist(err) {
		return strerr.Fatal("unable to stat ", dir, "/down: ", err)
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
	cmds := make(chan byte)
	go read(l.Commands, cmds)
	if s.want == status.WantUp {
		s.start()
	}
	s.loop(sigs, cmds)
	s.announce()
	return nil
}

// closeOnExec marks every descriptor above 2 close-on-exec, so that ./run
// gets none that supervise inherited.
func closeOnExec() {
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	fds, _ := os.ReadDir("/proc/self/fd") // kernels before 5.11
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// fatal turns a *control.Error into daemontools' message for it.
func (s *supervisor) fatal(err error) error {
	e := err.(*control.Error)
	return strerr.Fatal("unable to ", e.Verb, " ", s.dir, "/", e.File, ": ", e.Err)
}

// read passes every byte of the control FIFO to cmds. supervise holds the
// FIFO's write end, so the read never ends.
func read(f *os.File, cmds chan<- byte) {
	var b [64]byte
	for {
		n, err := f.Read(b[:])
		for _, c := range b[:n] {
			cmds <- c
		}
		if err != nil && n == 0 {
			return
		}
	}
}

func (s *supervisor) loop(sigs <-chan os.Signal, cmds <-chan byte) {
	// "svc -ux" on a service that is down runs it once, as with
	// daemontools, even when the start waits for the restart gap.
	for !(s.exiting && s.pid == 0 && !s.asked) {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTERM {
				s.command('d')
				s.command('x')
				continue
			}
			if s.reap() && !s.exiting && s.want == status.WantUp {
				s.start()
			}
		case c := <-cmds:
			s.command(c)
		case <-s.timerC:
			s.timerC = nil
			if s.owed && s.pid == 0 {
				s.start()
			}
		}
	}
}

// reap collects every exited child and reports whether ./run was one.
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
			s.since = tai64.Now()
			s.announce()
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
		s.announce()
		if s.pid == 0 {
			s.asked = true
			s.start()
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
// start. A run that cannot be started is reported and, while the service
// is wanted up, tried again a second later.
func (s *supervisor) start() {
	s.owed = true
	if wait := restartGap - time.Since(s.lastStart); wait > 0 {
		s.arm(wait)
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
		if s.want != status.WantUp {
			s.owed = false
			return
		}
		s.arm(restartGap)
		return
	}
	s.owed = false
	s.pid = pid
	s.paused = false
	s.since = tai64.Now()
	s.announce()
}

// arm makes the timer fire after d, unless it is already armed.
func (s *supervisor) arm(d time.Duration) {
	if s.timerC != nil {
		return
	}
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	s.timerC = s.timer.C
}

// announce writes the status record, warning when it cannot.
func (s *supervisor) announce() {
	err := status.Write(statusFile, status.Status{Since: s.since, Pid: s.pid, Paused: s.paused, Want: s.want})
	if err == nil {
		return
	}
	e := err.(*status.WriteError)
	reason := any(e.Err)
	if e.Err == status.ErrPartialWrite {
		reason = "partial write"
	}
	switch e.Op {
	case "rename":
		strerr.Warn(s.stderr, "supervise", "unable to rename ", s.dir, "/", e.File, " to status: ", reason)
	default:
		strerr.Warn(s.stderr, "supervise", "unable to ", e.Op, " ", s.dir, "/", e.File, ": ", reason)
	}
}
