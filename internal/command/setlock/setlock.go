// Package setlock is the program setlock, which runs a program holding an
// exclusive lock on a file. The lock lives on a descriptor the program
// inherits, so it is held until the program and everything it started have
// exited.
package setlock

import (
	"io"
	"os"
	"syscall"

	"daemontools/internal/getopt"
	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

var usage = strerr.Usage("setlock [ -nNxX ] file program [ arg ... ]")

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, stderr io.Writer) error {
	wait, quiet := true, false
	opts := getopt.New("setlock", "nNxX", args[1:], stderr)
	for c := opts.Next(); c != 0; c = opts.Next() {
		switch c {
		case 'n':
			wait = false
		case 'N':
			wait = true
		case 'x':
			quiet = true
		case 'X':
			quiet = false
		default:
			return usage
		}
	}
	rest := opts.Rest()
	if len(rest) < 2 {
		return usage
	}
	file := rest[0]
	fail := func(err error) error {
		if quiet {
			return strerr.Exit(0)
		}
		return err
	}
	// No O_CLOEXEC: the child must inherit the descriptor, and with it the lock.
	fd, err := syscall.Open(file, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_APPEND|syscall.O_CREAT, 0o600)
	if err != nil {
		return fail(strerr.Fatal("unable to open ", file, ": ", err))
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(fd, how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fail(strerr.Fatal("unable to lock ", file, ": ", err))
	}
	return pathexec.Run(rest[1:], os.Environ())
}
