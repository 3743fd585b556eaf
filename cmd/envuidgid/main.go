// Command envuidgid is envuidgid; the program itself is internal/command/envuidgid,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/envuidgid"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("envuidgid", program.Run) }
