// Command svmetrics is svmetrics; the program itself is
// internal/command/svmetrics. Unlike the other programs it is not part of
// the one executable (multicall): package/compile builds it alone, so
// that package net stays out of every other program.
package main

import (
	program "daemontools/internal/command/svmetrics"
	"daemontools/internal/strerr"
)

func main() { strerr.Main("svmetrics", program.Run) }
