// Package svc is the program svc, which controls supervised services:
// svc -udopchaitkxq12w DIR... It writes the option letters, in order and
// each once, to every DIR's supervise/control. q, 1, 2 and w (QUIT, USR1, USR2,
// WINCH) are ours: the usage line stays daemontools', and a second line
// names them.
package svc

import (
	"bytes"
	"errors"
	"io"
	"syscall"

	"daemontools/internal/control"
	"daemontools/internal/getopt"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var commands []byte
	p := getopt.New("svc", "udopchaitkxq12w", args[1:], stderr)
	for c := p.Next(); c != 0; c = p.Next() {
		if c == '?' {
			io.WriteString(stderr, "svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n"+
				"svc options also: q quit, 1 usr1, 2 usr2, w winch\n")
			return strerr.Exit(strerr.ExitUsage)
		}
		if bytes.IndexByte(commands, c) < 0 {
			commands = append(commands, c)
		}
	}
	orig, err := syscall.Open(".", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return strerr.Fatal("unable to open current directory: ", err)
	}
	for _, dir := range p.Rest() {
		if err := syscall.Chdir(dir); err != nil {
			strerr.Warn(stderr, "svc", "unable to chdir to ", dir, ": ", err)
			continue
		}
		err := control.Send(".", commands)
		var writing *control.Error
		switch {
		case err == nil:
		case err == control.ErrNotRunning:
			strerr.Warn(stderr, "svc", "unable to control ", dir, ": ", err.Error())
		case errors.As(err, &writing):
			strerr.Warn(stderr, "svc", "error writing commands to ", dir, ": ", writing.Err)
		default:
			strerr.Warn(stderr, "svc", "unable to control ", dir, ": ", err)
		}
		if err := syscall.Fchdir(orig); err != nil {
			return strerr.Fatal("unable to set directory: ", err)
		}
	}
	return nil
}
