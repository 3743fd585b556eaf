// Command tai64n puts a TAI64N label before every line of its input.
package main

import (
	"io"

	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
	"daemontools/internal/timestamp"
)

func main() { strerr.Main("tai64n", run) }

func run(_ []string, stdin io.Reader, stdout, _ io.Writer) error {
	return timestamp.Stamp(stdin, stdout, tai64.Now)
}
