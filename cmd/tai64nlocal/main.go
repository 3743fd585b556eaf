// Command tai64nlocal is tai64nlocal; the program itself is internal/command/tai64nlocal,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/tai64nlocal"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("tai64nlocal", program.Run) }
