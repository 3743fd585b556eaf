// Command envdir is envdir; the program itself is internal/command/envdir,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/envdir"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("envdir", program.Run) }
