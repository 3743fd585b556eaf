// Command supervise starts and monitors a service: supervise DIR.
package main

import (
	"io"
	"os"
	"slices"
	"syscall"

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
	return supervise.Run(args[1], env, stderr)
}
