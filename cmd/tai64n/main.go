// Command tai64n is tai64n; the program itself is internal/command/tai64n,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/tai64n"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("tai64n", program.Run) }
