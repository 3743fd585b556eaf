// Command pgrphack runs a program in a new session and process group.
package main

import (
	"io"
	"os"
	"syscall"

	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("pgrphack", run) }

func run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 2 {
		return strerr.Usage("pgrphack child")
	}
	// As in daemontools, a process that already leads a group stays in it.
	syscall.Setsid()
	return pathexec.Run(args[1:], os.Environ())
}
