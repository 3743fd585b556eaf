// Package gomaxprocs gives a long-running program the one processor it needs
// (supervise, svscan): the Go runtime's caches and threads for a second
// one cost a supervise about 200 KiB and svscan about 250. The runtime
// reads $GOMAXPROCS only at start-up, so the program starts itself again
// with it set; calling runtime.GOMAXPROCS(1) later keeps most of that
// memory. Like the programs, this changes the whole process.
package gomaxprocs

import (
	"os"
	"runtime"
	"strings"
	"syscall"
)

// One runs the program named name (args as its command line has them)
// with GOMAXPROCS=1, unless the environment already sets GOMAXPROCS: it
// starts the program again, with GOMAXPROCS=1 and a mark in its
// environment, through the file it was started as, whose name ps, pgrep
// and pidof show (through /proc/self/exe they showed "exe"). When that
// file is not named name (run through a link to the one executable under
// another name, or replaced since), it sets one processor late. Once it
// returns, the environment is the one the program was given: the second
// start takes both out, so that the program's children never see them.
func One(name string, args []string) {
	mark := strings.ToUpper(name) + "_GOMAXPROCS"
	if procs, set := os.LookupEnv("GOMAXPROCS"); set {
		if os.Getenv(mark) == "added" && procs == "1" {
			os.Unsetenv("GOMAXPROCS")
			os.Unsetenv(mark)
		}
		return
	}
	if self, err := os.Readlink("/proc/self/exe"); err == nil && strings.HasSuffix(self, "/"+name) {
		syscall.Exec(self, args, append(os.Environ(), "GOMAXPROCS=1", mark+"=added"))
	}
	runtime.GOMAXPROCS(1)
}
