// Package multilog is the program multilog, which appends its input lines to
// rotated log directories, selected by patterns, optionally with TAI64N
// labels.
package multilog

import (
	"io"
	"os"

	engine "daemontools/internal/multilog"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, stdin io.Reader, _, stderr io.Writer) error {
	m, err := engine.New(engine.Parse(args[1:]), stderr)
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
