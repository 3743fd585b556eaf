// Command supervise starts and monitors a service: supervise DIR.
package main

import (
	"io"

	"daemontools/internal/strerr"
	"daemontools/internal/supervise"
)

func main() { strerr.Main("supervise", run) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return strerr.Usage("supervise dir")
	}
	return supervise.Run(args[1], stderr)
}
