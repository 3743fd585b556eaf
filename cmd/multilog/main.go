// Command multilog reads a log from stdin and applies a script of actions to
// every line: select, print, save status, and write to rotated log
// directories.
package main

import (
	"io"
	"os"

	"daemontools/internal/multilog"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("multilog", run) }

func run(args []string, _ io.Reader, _, stderr io.Writer) error {
	return multilog.Run(args[1:], os.Stdin, stderr)
}
