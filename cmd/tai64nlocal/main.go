// Command tai64nlocal turns the TAI64N label at the start of each line into
// local time, YYYY-MM-DD HH:MM:SS.NNNNNNNNN.
package main

import (
	"io"
	"os"

	"daemontools/internal/localtime"
	"daemontools/internal/strerr"
	"daemontools/internal/timestamp"
)

func main() { strerr.Main("tai64nlocal", run) }

func run(_ []string, stdin io.Reader, stdout, _ io.Writer) error {
	tz, set := os.LookupEnv("TZ")
	return timestamp.Local(stdin, stdout, localtime.Load(tz, set, os.Getenv("TZDIR")))
}
