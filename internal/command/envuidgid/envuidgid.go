// Package envuidgid is the program envuidgid, which runs a program with $UID
// and $GID set to an account's uid and primary gid.
package envuidgid

import (
	"io"
	"os"
	"strconv"

	"daemontools/internal/account"
	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 3 {
		return strerr.Usage("envuidgid account child")
	}
	ids, err := account.Lookup(args[1])
	if err != nil {
		return err
	}
	env := pathexec.Setenv(os.Environ(), "GID", strconv.Itoa(ids.GID))
	env = pathexec.Setenv(env, "UID", strconv.Itoa(ids.UID))
	return pathexec.Run(args[2:], env)
}
