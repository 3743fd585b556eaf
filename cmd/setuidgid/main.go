// Command setuidgid is setuidgid; the program itself is internal/command/setuidgid,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/setuidgid"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("setuidgid", program.Run) }
