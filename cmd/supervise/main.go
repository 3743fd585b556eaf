// Command supervise starts and monitors a service: supervise DIR.
package main

import (
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/inherit"
	"daemontools/internal/strerr"
	"daemontools/internal/supervise"
)

// The Go runtime keeps allocation caches and threads for every processor it
// may use; supervise needs one, and GOMAXPROCS=1 saves about a sixth of its
// memory. The runtime reads the variable only at start-up, so supervise
// starts itself again once with it set, and mark tells the second start to
// take both variables out of the environment ./run gets.
var oneProc = []string{"GOMAXPROCS=1", "SUPERVISE_GOMAXPROCS=added"}

func main() {
	env := syscall.Environ()
	if _, set := syscall.Getenv("GOMAXPROCS"); !set {
		syscall.Exec("/proc/self/exe", os.Args, append(env, oneProc...))
		// Without /proc, run as we are.
	} else if i := slices.Index(env, oneProc[1]); i > 0 && env[i-1] == oneProc[0] {
		env = slices.Delete(env, i-1, i+1)
	}
	strerr.Main("supervise", func(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
		return run(args, env, stderr)
	})
}

func run(args, env []string, stderr io.Writer) error {
	if len(args) < 2 {
		return strerr.Usage("supervise dir")
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	inherit.OnlyStdio()
	opt := supervise.Options{Dir: args[1], Env: env, Stdio: [3]int{0, 1, 2}, Stderr: stderr, ChildSignal: -1}
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err == nil {
		unix.Close(fd)
	} else if opt.ChildSignal, err = notifyPipe(syscall.SIGCHLD); err != nil {
		return strerr.Fatal("unable to create pipe for ", args[1], ": ", err)
	}
	s, err := supervise.Open(opt)
	if err != nil {
		return err
	}
	defer s.Close()
	// The engine needs no working directory, but daemontools' supervise
	// runs in its service, and admins map a supervise to its service
	// through /proc/PID/cwd.
	syscall.Chdir(args[1])
	go obeyTerm(s, term, args[1], stderr)
	s.Run()
	return nil
}

// obeyTerm makes SIGTERM do what svc -dx does, by writing those commands
// into the control FIFO through the write end supervise holds.
func obeyTerm(s *supervise.Supervisor, term <-chan os.Signal, dir string, stderr io.Writer) {
	for range term {
		if err := s.Post([]byte("dx")); err != nil {
			strerr.Warn(stderr, "supervise", "unable to obey SIGTERM in ", dir, ": ", err)
		}
	}
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
