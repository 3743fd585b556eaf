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
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	pause := engine.Pause
	if d, err := time.ParseDuration(os.Getenv(PauseEnv)); err == nil {
		pause = d
	}
	script := engine.Parse(args[1:])
	if script.Named && script.Name == "" {
		if dir, err := os.Getwd(); err == nil {
			script.Name = engine.ServiceName(dir)
		}
	}
	m, err := engine.New(script, descriptor(stdout, 1), stderr, pause)
	if err != nil {
		return err
	}
	in := descriptor(stdin, 0)
	signals, err := sigevent.Notify(syscall.SIGTERM, syscall.SIGALRM)
	if err != nil {
		m.Close()
		return strerr.Fatal("unable to create pipe: ", err)
	}
	err = m.Run(in, signals)
	signals.Close()
	m.Close()
	return err
}

// descriptor is f's file descriptor when it is a file, else std's.
func descriptor(f any, std int) int {
	if f, ok := f.(*os.File); ok {
		return int(f.Fd())
	}
	return std
}
