// Package supervise is the program supervise, which starts and monitors a
// service: supervise DIR.
package supervise

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/command/oneproc"
	"daemontools/internal/inherit"
	"daemontools/internal/sigevent"
	"daemontools/internal/strerr"
	engine "daemontools/internal/supervise"
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(args []string, _ io.Reader, _, stderr io.Writer) error {
	oneproc.Ensure("supervise", args)
	env := os.Environ()
	if len(args) != 2 { // daemontools' supervise takes no more either
		return strerr.Usage("supervise dir")
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	inherit.OnlyStdio()
	opt := engine.Options{Dir: args[1], Env: env, Stdio: [3]int{0, 1, 2}, Stderr: stderr, ChildSignal: -1}
	// A child subreaper: the processes that ./run's children leave (a
	// daemon that forks, say) come back here rather than to init, and the
	// engine, alone in this process, reaps them.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	sigchld, err := sigevent.Notify(syscall.SIGCHLD)
	if err != nil {
		return strerr.Fatal("unable to create pipe for ", args[1], ": ", err)
	}
	opt.Orphans = sigchld.Fd()
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err == nil {
		unix.Close(fd)
	} else {
		opt.ChildSignal = sigchld.Fd()
	}
	s, err := engine.Open(opt)
	if err != nil {
		return err
	}
	// The engine needs no working directory, but daemontools' supervise
	// runs in its service, and admins map a supervise to its service
	// through /proc/PID/cwd.
	if err := syscall.Chdir(args[1]); err != nil { // moved or made private since Open
		s.Close()
		return strerr.Fatal("unable to chdir to ", args[1], ": ", err)
	}
	defer s.Close()
	go obeyTerm(s, term, args[1], stderr)
	s.Run()
	return nil
}

// obeyTerm makes SIGTERM do what svc -dx does, by writing those commands
// into the control FIFO through the write end supervise holds.
func obeyTerm(s *engine.Supervisor, term <-chan os.Signal, dir string, stderr io.Writer) {
	for range term {
		if err := s.Post([]byte("dx")); err != nil {
			strerr.Warn(stderr, "supervise", "unable to obey SIGTERM in ", dir, ": ", err)
		}
	}
}
