// Package pgrphack is the program pgrphack, which runs a program in a new
// session and process group.
package pgrphack

import (
	"io"
	"os"
	"syscall"

	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 2 {
		return strerr.Usage("pgrphack child")
	}
	// As in daemontools, a process that already leads a group stays in it.
	syscall.Setsid()
	return pathexec.Run(args[1:], os.Environ())
}
