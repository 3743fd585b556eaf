// Package tai64n is the program tai64n, which puts a TAI64N label before
// every line of its input.
package tai64n

import (
	"io"

	"daemontools/internal/tai64"
	"daemontools/internal/timestamp"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(_ []string, stdin io.Reader, stdout, _ io.Writer) error {
	return timestamp.Stamp(stdin, stdout, tai64.Now)
}
