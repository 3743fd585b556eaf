// Command softlimit is softlimit; the program itself is internal/command/softlimit,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/softlimit"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("softlimit", program.Run) }
