// Command svok is svok; the program itself is internal/command/svok,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/svok"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svok", program.Run) }
