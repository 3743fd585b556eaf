// Package multilog is the program multilog, which appends its input lines to
// rotated log directories, selected by patterns, optionally with TAI64N
// labels.
package multilog

import (
	"io"
	"os"
	"syscall"
	"time"

	engine "daemontools/internal/multilog"
	"daemontools/internal/sigevent"
	"daemontools/internal/strerr"
)

// PauseEnv names the test-only knob that shortens the 5-second pause after
// disk or processor trouble (a Go duration, e.g. "100ms").
const PauseEnv = "MULTILOG_TEST_PAUSE"

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, stdin io.Reader, _, stderr io.Writer) error {
	pause := engine.Pause
	if d, err := time.ParseDuration(os.Getenv(PauseEnv)); err == nil {
		pause = d
	}
	m, err := engine.New(engine.Parse(args[1:]), stderr, pause)
	if err != nil {
		return err
	}
	in := 0
	if f, ok := stdin.(*os.File); ok {
		in = int(f.Fd())
	}
	signals, err := sigevent.Notify(syscall.SIGTERM, syscall.SIGALRM, syscall.SIGIO)
	if err != nil {
		m.Close()
		return strerr.Fatal("unable to create pipe: ", err)
	}
	err = m.Run(in, signals)
	signals.Close()
	m.Close()
	return err
}
