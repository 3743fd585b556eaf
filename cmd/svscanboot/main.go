// Command svscanboot is svscanboot; the program itself is internal/command/svscanboot,
// which the one executable package/install installs (multicall) runs too.
package main

import (
	program "daemontools/internal/command/svscanboot"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svscanboot", program.Run) }
