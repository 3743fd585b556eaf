// Package setuidgid is the program setuidgid, which runs a program as an
// account: supplementary groups reduced to the account's primary group, then
// its gid, then its uid.
package setuidgid

import (
	"io"
	"os"
	"syscall"

	"daemontools/internal/account"
	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 3 {
		return strerr.Usage("setuidgid account child")
	}
	ids, err := account.Lookup(args[1])
	if err != nil {
		return err
	}
	// Go's syscall functions change every thread of the process.
	if err := syscall.Setgroups([]int{ids.GID}); err != nil {
		return strerr.Fatal("unable to setgid: ", err)
	}
	if err := syscall.Setgid(ids.GID); err != nil {
		return strerr.Fatal("unable to setgid: ", err)
	}
	if err := syscall.Setuid(ids.UID); err != nil {
		return strerr.Fatal("unable to setuid: ", err)
	}
	return pathexec.Run(args[2:], os.Environ())
}
