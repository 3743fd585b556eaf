// Package svmetrics serves, over HTTP, the state of every service of a
// scan directory as the status records say it: /metrics in Prometheus'
// text format, /healthz for a liveness or readiness probe, /status as
// svstat -j's objects in one JSON array. It reads each service directory
// as svstat does (internal/report) and nothing else: no channel into
// svscan, so it works alike beside svscan, svscan -1 or any supervise.
package svmetrics

import (
	"errors"
	"os"
	"slices"
	"syscall"

	"daemontools/internal/report"
	"daemontools/internal/strerr"
)

// service is one service directory of the scan directory as a scrape
// found it.
type service struct {
	name   string // the entry's name; NAME/log for the log service of NAME
	report report.Report
}

// look lists the services of the scan directory dir as svscan counts
// them (every entry not starting with a dot that is a directory, or a
// link to one), each followed by its log service when it has a log/
// directory, in the order of their names, and reads each.
func look(dir string) ([]service, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	services := make([]service, 0, 2*len(names))
	for _, name := range names {
		if name[0] == '.' {
			continue
		}
		path := dir + "/" + name
		switch isDir, err := isDir(path); {
		case errors.Is(err, syscall.ENOENT):
			continue // gone since the listing
		case err != nil:
			services = append(services, service{name, report.Report{Problem: "unable to stat: " + strerr.Reason(err)}})
			continue
		case !isDir:
			continue
		}
		services = append(services, service{name, report.Look(path)})
		if isDir, err := isDir(path + "/log"); isDir {
			services = append(services, service{name + "/log", report.Look(path + "/log")})
		} else if err != nil && !errors.Is(err, syscall.ENOENT) {
			services = append(services, service{name + "/log", report.Report{Problem: "unable to stat: " + strerr.Reason(err)}})
		}
	}
	return services, nil
}

// isDir tells whether path is a directory, or a link to one.
func isDir(path string) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false, err
	}
	return st.Mode&syscall.S_IFMT == syscall.S_IFDIR, nil
}
