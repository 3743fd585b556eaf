// Command setlock is setlock; the program itself is internal/command/setlock,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/setlock"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("setlock", program.Run) }
