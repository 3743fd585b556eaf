// Command svwait is svwait; the program itself is internal/command/svwait,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/svwait"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svwait", program.Run) }
