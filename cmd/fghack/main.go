// Command fghack is fghack; the program itself is internal/command/fghack,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/fghack"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("fghack", program.Run) }
