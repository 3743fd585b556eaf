// Package svscanboot is the program svscanboot, which starts supervision at
// boot: svscan [DIR], default /service, with its messages shown by
// readproctitle.
package svscanboot

import (
	"io"
	"os"

	"daemontools/internal/boot"
	"daemontools/internal/inherit"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, _ io.Writer) error {
	dir := "/service"
	if len(args) > 1 {
		dir = args[1]
	}
	// Whatever the calling shell left open is not for svscan,
	// readproctitle or any service.
	inherit.OnlyStdio()
	return boot.Run(dir, os.Getenv("NOTIFY_SOCKET"))
}
