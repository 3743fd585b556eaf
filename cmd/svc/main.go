// Command svc is svc; the program itself is internal/command/svc,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/svc"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svc", program.Run) }
