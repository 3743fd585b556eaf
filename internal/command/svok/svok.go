// Package svok is the program svok, which tells by its exit code whether
// supervise runs for DIR: 0 running, 100 not running, 111 unable to tell.
package svok

import (
	"io"
	"syscall"

	"daemontools/internal/control"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return strerr.Usage("svok dir")
	}
	dir := args[1]
	if err := syscall.Chdir(dir); err != nil {
		return strerr.Fatal("unable to chdir to ", dir, ": ", err)
	}
	running, err := control.Running(".")
	if err == syscall.ENOENT || (err == nil && !running) {
		return strerr.Exit(strerr.ExitUsage)
	}
	if err != nil {
		return strerr.Fatal("unable to open ", dir, "/", control.OkFile, ": ", err)
	}
	return nil
}
