// Command multicall is every program in one executable, the one
// package/install installs: it runs the program named by the last element
// of the name it was run as, so that links named svc, svstat, supervise...
// to it are those programs. One executable instead of one per program
// keeps the installation small, and every running program shares its
// pages.
package main

import (
	"os"
	"strings"

	"daemontools/internal/command"
	"daemontools/internal/strerr"
)

func main() {
	name := os.Args[0]
	name = name[strings.LastIndexByte(name, '/')+1:]
	run, ok := command.Lookup(name)
	if !ok {
		os.Stderr.WriteString("multicall: usage: run through a link named after a program: " + strings.Join(command.Names(), " ") + "\n")
		os.Exit(strerr.ExitUsage)
	}
	strerr.Main(name, run)
}
