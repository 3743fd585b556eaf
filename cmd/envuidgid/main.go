// Command envuidgid runs a program with $UID and $GID set to an account's
// uid and primary gid.
package main

import (
	"io"
	"os"
	"strconv"

	"daemontools/internal/account"
	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("envuidgid", run) }

func run(args []string, _ io.Reader, _, _ io.Writer) error {
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
