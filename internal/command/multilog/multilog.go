// Package multilog is the program multilog, which appends its input lines to
// rotated log directories, selected by patterns, optionally with TAI64N
// labels.
package multilog

import (
	"io"
	"os"
	"os/signal"
	"syscall"

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
	commands, input := make(chan os.Signal, 4), make(chan os.Signal, 1)
	signal.Notify(commands, syscall.SIGTERM, syscall.SIGALRM)
	signal.Notify(input, syscall.SIGIO)
	err = m.Run(in, engine.Signals{Commands: commands, Input: input})
	signal.Stop(commands)
	signal.Stop(input)
	close(commands)
	close(input)
	m.Close()
	return err
}
