// Package report is what a reader of a service directory can know of it
// without asking supervise: whether a supervise runs there, whether the
// service is normally up, and its status record; and svstat -j's JSON
// object of that, which svstat and svmetrics both write.
package report

import (
	"errors"
	"syscall"

	"daemontools/internal/control"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
	"daemontools/internal/watch"
)

// Report is what Look found in one service directory.
type Report struct {
	// Problem is, in daemontools' words, why there is no record (the
	// service is not supervised, or its record cannot be read); else "".
	Problem    string
	Supervised bool // supervise/ok has a reader
	NormallyUp bool // no file down
	// Status has daemontools' fields, and ours when ExtErr is nil.
	Status status.Status
	ExtErr error // why our fields are unknown
}

// Look reads what there is to know of the service directory dir, in the
// order daemontools' svstat does; messages name the files relative to
// dir.
func Look(dir string) Report {
	var r Report
	var st syscall.Stat_t
	if err := syscall.Stat(dir+"/down", &st); err == syscall.ENOENT {
		r.NormallyUp = true
	} else if err != nil {
		return Report{Problem: "unable to stat down: " + strerr.Reason(err)}
	}
	running, err := control.Running(dir)
	if err != nil {
		r.Problem = "unable to open " + control.OkFile + ": " + strerr.Reason(err)
		return r
	}
	if !running {
		r.Problem = "supervise not running"
		return r
	}
	r.Supervised = true
	r.Status, err = status.ReadAll(dir + "/" + status.File)
	var failed *status.ReadError
	switch {
	case errors.As(err, &failed):
		r.Problem = "unable to " + failed.Op + " " + status.File + ": " + strerr.Reason(failed.Err)
	case err == status.ErrBadFormat:
		r.Problem = "unable to read " + status.File + ": bad format"
	default:
		r.ExtErr = err
	}
	return r
}

// Up tells whether the record says the service runs.
func (r Report) Up() bool { return r.Problem == "" && r.Status.Pid != 0 }

// Ready tells whether the service is up and ready, as svwait -U counts
// it: a service without readiness (no notification-fd, no notify-socket,
// or a record of another supervise) is ready once it is up.
func (r Report) Ready() bool { return r.Problem == "" && watch.UpReady.Holds(r.Status) }

// Healthy tells whether the service is up and its latest probe passed,
// as svwait -H counts it: a service without probes (or a record of
// another supervise) is healthy once up.
func (r Report) Healthy() bool { return r.Problem == "" && watch.UpHealthy.Holds(r.Status) }

// SecondsSince is how many whole seconds before now l was; 0 for a future
// l.
func SecondsSince(l, now tai64.Label) uint64 {
	if now.Sec > l.Sec {
		return now.Sec - l.Sec
	}
	return 0
}

// SecondsUntil is how many seconds, rounded up, after now l is.
func SecondsUntil(l, now tai64.Label) uint64 {
	if l.Sec < now.Sec || l.Sec == now.Sec && l.Nano <= now.Nano {
		return 0
	}
	n := l.Sec - now.Sec
	if l.Nano > now.Nano {
		n++
	}
	return n
}
