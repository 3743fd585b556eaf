// Command svstat is svstat; the program itself is internal/command/svstat,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/svstat"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svstat", program.Run) }
