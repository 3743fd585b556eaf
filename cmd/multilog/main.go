// Command multilog is multilog; the program itself is internal/command/multilog,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/multilog"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("multilog", program.Run) }
