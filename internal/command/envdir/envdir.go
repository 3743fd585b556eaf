// Package envdir is the program envdir, which runs a program with
// environment variables set and removed as the files of a directory say.
package envdir

import (
	"io"
	"os"

	envfiles "daemontools/internal/envdir"
	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 3 {
		// daemontools' envdir exits 111 here, not 100.
		return &strerr.Error{Code: strerr.ExitFatal, Kind: "usage", Msg: "envdir dir child"}
	}
	settings, err := envfiles.Read(args[1])
	if err != nil {
		return err
	}
	return pathexec.Run(args[2:], envfiles.Apply(os.Environ(), settings))
}
