// Command readproctitle is readproctitle; the program itself is internal/command/readproctitle,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/readproctitle"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("readproctitle", program.Run) }
