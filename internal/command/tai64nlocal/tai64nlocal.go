// Package tai64nlocal is the program tai64nlocal, which turns the TAI64N
// label at the start of each line into local time,
// YYYY-MM-DD HH:MM:SS.NNNNNNNNN.
package tai64nlocal

import (
	"io"
	"os"

	"daemontools/internal/localtime"
	"daemontools/internal/timestamp"
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(_ []string, stdin io.Reader, stdout, _ io.Writer) error {
	tz, set := os.LookupEnv("TZ")
	return timestamp.Local(stdin, stdout, localtime.Load(tz, set, os.Getenv("TZDIR")))
}
