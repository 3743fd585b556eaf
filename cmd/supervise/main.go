// Command supervise is supervise; the program itself is internal/command/supervise,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/supervise"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("supervise", program.Run) }
