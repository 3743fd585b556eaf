// Package command finds a program by its name, for the one executable that
// is every program (multicall/). Each program lives in a package of its
// own below this one, which cmd/PROG/main.go runs alone, and which may do
// what a main does: change directory, environment and signal handling.
// svmetrics is not listed: an HTTP server, it is an executable of its own,
// so that package net stays out of this one.
package command

import (
	"io"

	"daemontools/internal/command/envdir"
	"daemontools/internal/command/envuidgid"
	"daemontools/internal/command/fghack"
	"daemontools/internal/command/multilog"
	"daemontools/internal/command/pgrphack"
	"daemontools/internal/command/readproctitle"
	"daemontools/internal/command/setlock"
	"daemontools/internal/command/setuidgid"
	"daemontools/internal/command/softlimit"
	"daemontools/internal/command/supervise"
	"daemontools/internal/command/svc"
	"daemontools/internal/command/svok"
	"daemontools/internal/command/svscan"
	"daemontools/internal/command/svscanboot"
	"daemontools/internal/command/svstat"
	"daemontools/internal/command/svwait"
	"daemontools/internal/command/tai64n"
	"daemontools/internal/command/tai64nlocal"
)

// Run is a program: args as the command line has them, the name first,
// and its standard streams. strerr.Main runs it.
type Run = func(args []string, stdin io.Reader, stdout, stderr io.Writer) error

// programs is every program, by name.
var programs = []struct {
	name string
	run  Run
}{
	{"envdir", envdir.Run},
	{"envuidgid", envuidgid.Run},
	{"fghack", fghack.Run},
	{"multilog", multilog.Run},
	{"pgrphack", pgrphack.Run},
	{"readproctitle", readproctitle.Run},
	{"setlock", setlock.Run},
	{"setuidgid", setuidgid.Run},
	{"softlimit", softlimit.Run},
	{"supervise", supervise.Run},
	{"svc", svc.Run},
	{"svok", svok.Run},
	{"svscan", svscan.Run},
	{"svscanboot", svscanboot.Run},
	{"svstat", svstat.Run},
	{"svwait", svwait.Run},
	{"tai64n", tai64n.Run},
	{"tai64nlocal", tai64nlocal.Run},
}

// Lookup returns the program named name, and false when there is none.
func Lookup(name string) (Run, bool) {
	for _, p := range programs {
		if p.name == name {
			return p.run, true
		}
	}
	return nil, false
}

// Names lists the programs' names.
func Names() []string {
	names := make([]string, len(programs))
	for i, p := range programs {
		names[i] = p.name
	}
	return names
}
