// Command pgrphack is pgrphack; the program itself is internal/command/pgrphack,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/pgrphack"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("pgrphack", program.Run) }
