// Package svscan is the program svscan, which starts and watches a supervise
// for every service directory in a directory: svscan [DIR].
package svscan

import (
	"io"
	"os"

	"daemontools/internal/scan"
	"daemontools/internal/sdnotify"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, stderr io.Writer) error {
	if len(args) > 1 {
		if err := os.Chdir(args[1]); err != nil {
			return strerr.Fatal("unable to chdir to ", args[1], ": ", err)
		}
	}
	// The socket is systemd's line to svscan alone: services must not
	// inherit it and speak for svscan.
	socket := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	var ready func()
	if socket != "" {
		ready = func() {
			if err := sdnotify.Ready(socket); err != nil {
				strerr.Warn(stderr, "svscan", "unable to notify ", socket, ": ", err)
			}
		}
	}
	scan.New(stderr, os.Environ()).Run(ready)
	return nil
}
