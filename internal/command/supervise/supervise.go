// Package supervise is the program supervise, which starts and monitors a
// service: supervise DIR.
package supervise

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/command/gomaxprocs"
	"daemontools/internal/inherit"
	"daemontools/internal/scan"
	"daemontools/internal/sigevent"
	"daemontools/internal/strerr"
	engine "daemontools/internal/supervise"
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(args []string, _ io.Reader, _, stderr io.Writer) error {
	gomaxprocs.One("supervise", args)
	env := os.Environ()
	if len(args) != 2 { // daemontools' supervise takes no more either
		return strerr.Usage("supervise dir")
	}
	signals, err := sigevent.Notify(syscall.SIGTERM, syscall.SIGCHLD)
	if err != nil {
		return strerr.Fatal("unable to create pipe for ", args[1], ": ", err) // daemontools' words
	}
	inherit.OnlyStdio()
	// A child subreaper: the processes that ./run's children leave (a
	// daemon that forks, say) come back here rather than to init, and are
	// reaped here; alone in this process, the supervisor may take them for
	// its service's.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	s, err := engine.Open(engine.Options{Dir: args[1], Env: env, Stdio: [3]int{0, 1, 2}, Stderr: stderr, Alone: true})
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
	return scan.Supervise(s, stderr, signals)
}
