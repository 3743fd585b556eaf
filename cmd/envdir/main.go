// Command envdir runs a program with environment variables set and removed
// as the files of a directory say.
package main

import (
	"io"
	"os"

	"daemontools/internal/envdir"
	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("envdir", run) }

func run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 3 {
		// daemontools' envdir exits 111 here, not 100.
		return &strerr.Error{Code: strerr.ExitFatal, Kind: "usage", Msg: "envdir dir child"}
	}
	settings, err := envdir.Read(args[1])
	if err != nil {
		return err
	}
	return pathexec.Run(args[2:], envdir.Apply(os.Environ(), settings))
}
