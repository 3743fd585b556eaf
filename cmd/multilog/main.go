// Command multilog appends its input lines to rotated log directories,
// selected by patterns, optionally with TAI64N labels.
package main

import (
	"io"
	"os"

	"daemontools/internal/multilog"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("multilog", run) }

func run(args []string, stdin io.Reader, _, stderr io.Writer) error {
	m, err := multilog.New(multilog.Parse(args[1:]), stderr)
	if err != nil {
		return err
	}
	in := 0
	if f, ok := stdin.(*os.File); ok {
		in = int(f.Fd())
	}
	err = m.Run(in)
	m.Close()
	return err
}
