// Command svscan is svscan; the program itself is internal/command/svscan,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/svscan"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svscan", program.Run) }
