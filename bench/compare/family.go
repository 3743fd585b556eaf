package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// A family is one supervision suite: ours, Debian's daemontools 0.76, runit
// or s6. An empty path means that program is not built yet.
type family struct {
	name       string
	supervisor string // supervise, runsv, s6-supervise
	scanner    string // svscan, runsvdir, s6-svscan
	launcher   string // the scanner that starts the supervisors
	path       string // PATH for the launcher, to find its supervisor
	ready      string // file the supervisor writes once it obeys commands
	up, down   func(dir string) []string
	scan       func(dir string) []string // launcher command line
	rescan     func(dir string) []string // nil if the scanner finds new services itself
	oneProcess bool                      // the scanner supervises every service itself: no supervisor processes
}

// oneProcess is ours under svscan -1, named "ours -1"; nil while svscan is
// not built.
func oneProcess(me *family) *family {
	if me.scanner == "" {
		return nil
	}
	f := *me
	f.name, f.launcher, f.oneProcess = "ours -1", me.scanner, true
	f.scan = func(dir string) []string { return []string{me.scanner, "-1", dir} }
	return &f
}

// asOurs returns values with the figure of the family name in ours' column.
func asOurs[T any](values map[string]T, name string) map[string]T {
	out := map[string]T{}
	for k, v := range values {
		if k != "ours" && k != name {
			out[k] = v
		}
	}
	if v, ok := values[name]; ok {
		out["ours"] = v
	}
	return out
}

// families returns ours, daemontools, runit and s6, with our programs taken
// from the directory ours (those missing there are not built yet).
func families(ours string) []*family {
	built := func(name string) string {
		p := filepath.Join(ours, name)
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	svc := func(prog, flag string) func(string) []string {
		return func(dir string) []string { return []string{prog, flag, dir} }
	}
	plain := func(prog string) func(string) []string {
		return func(dir string) []string { return []string{prog, dir} }
	}
	me := &family{name: "ours", supervisor: built("supervise"), scanner: built("svscan"),
		path: ours + ":/usr/bin:/bin", ready: "supervise/status"}
	if svcOurs := built("svc"); svcOurs != "" {
		me.up, me.down = svc(svcOurs, "-u"), svc(svcOurs, "-d")
	}
	if me.scanner != "" {
		me.launcher, me.scan = me.scanner, plain(me.scanner)
	} else if me.supervisor != "" {
		// Debian's svscan runs our supervise, found first on PATH.
		me.launcher, me.scan = "/usr/bin/svscan", plain("/usr/bin/svscan")
	}
	return []*family{
		me,
		{name: "daemontools", supervisor: "/usr/bin/supervise", scanner: "/usr/bin/svscan",
			launcher: "/usr/bin/svscan", path: "/usr/bin:/bin", ready: "supervise/status",
			up: svc("/usr/bin/svc", "-u"), down: svc("/usr/bin/svc", "-d"),
			scan: plain("/usr/bin/svscan")},
		{name: "runit", supervisor: "/usr/bin/runsv", scanner: "/usr/bin/runsvdir",
			launcher: "/usr/bin/runsvdir", path: "/usr/bin:/bin", ready: "supervise/stat",
			up: svc("/usr/bin/sv", "up"), down: svc("/usr/bin/sv", "down"),
			scan: plain("/usr/bin/runsvdir")},
		{name: "s6", supervisor: "/usr/bin/s6-supervise", scanner: "/usr/bin/s6-svscan",
			launcher: "/usr/bin/s6-svscan", path: "/usr/bin:/bin", ready: "supervise/status",
			up: svc("/usr/bin/s6-svc", "-u"), down: svc("/usr/bin/s6-svc", "-d"),
			scan:   func(dir string) []string { return []string{"/usr/bin/s6-svscan", "-c", "2000", dir} },
			rescan: svc("/usr/bin/s6-svscanctl", "-a")},
	}
}

// runScript is every service: it notes each start, then becomes a process
// that sleeps, as a daemon does most of the time.
const runScript = "#!/bin/sh\necho $$ >>starts\nexec sleep 1000000\n"

// makeService creates a service directory; down makes it start down.
func makeService(dir string, down bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "run"), []byte(runScript), 0o755); err != nil {
		return err
	}
	if down {
		return os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
	}
	return nil
}

// starts returns how often the service in dir has started, and the pid of
// the latest start.
func starts(dir string) (n, pid int) {
	b, _ := os.ReadFile(filepath.Join(dir, "starts"))
	lines := bytes.Fields(b)
	if len(lines) == 0 {
		return 0, 0
	}
	pid, _ = strconv.Atoi(string(lines[len(lines)-1]))
	return len(lines), pid
}
