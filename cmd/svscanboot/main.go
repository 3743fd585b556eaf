// Command svscanboot starts supervision at boot: svscan [DIR], default
// /service, with its messages shown by readproctitle.
package main

import (
	"io"

	"daemontools/internal/boot"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svscanboot", run) }

func run(args []string, _ io.Reader, _, _ io.Writer) error {
	dir := "/service"
	if len(args) > 1 {
		dir = args[1]
	}
	return boot.Run(dir)
}
