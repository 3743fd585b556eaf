// Package svwait is the program svwait, which waits until supervised
// services are up, up and ready, down, or down with finish done: svwait
// [-u|-U|-H|-d|-D] [-o] [-t MS] DIR... Exits 0 when they are, 99 on timeout,
// 100 on a usage error, 111 when a DIR cannot be watched.
package svwait

import (
	"errors"
	"io"
	"strconv"
	"time"

	"daemontools/internal/getopt"
	"daemontools/internal/strerr"
	"daemontools/internal/watch"
)

const (
	usage       = "svwait [-u|-U|-H|-d|-D] [-o] [-t MS] dir ..."
	exitTimeout = 99
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	want, any := watch.Up, false
	var timeout time.Duration = -1
	opts := getopt.New("svwait", "uUHdDot:", args[1:], stderr)
	for c := opts.Next(); c != 0; c = opts.Next() {
		switch c {
		case 'u':
			want = watch.Up
		case 'U':
			want = watch.UpReady
		case 'H':
			want = watch.UpHealthy
		case 'd':
			want = watch.Down
		case 'D':
			want = watch.DownDone
		case 'o':
			any = true
		case 't':
			ms, err := strconv.ParseUint(opts.Arg, 10, 31)
			if err != nil {
				return strerr.Usage(usage)
			}
			timeout = time.Duration(ms) * time.Millisecond
		default:
			return strerr.Usage(usage)
		}
	}
	dirs := opts.Rest()
	if len(dirs) == 0 {
		return strerr.Usage(usage)
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	// With -t, a service whose supervise has not started yet (just
	// linked into the scan directory) is waited for; without, it fails.
	w, err := watch.Open(dirs, deadline)
	if err != nil {
		return fatal(err)
	}
	defer w.Close()
	held, err := w.Wait(want, any, deadline)
	if err != nil {
		return fatal(err)
	}
	if !held {
		return strerr.Exit(exitTimeout)
	}
	return nil
}

// fatal words a failure to watch as daemontools would.
func fatal(err error) error {
	var e *watch.Error
	if !errors.As(err, &e) {
		return strerr.Fatal("unable to watch: ", err)
	}
	if e.Err == watch.ErrNotRunning {
		return strerr.Fatal("unable to ", e.Op, " ", e.Dir, ": supervise not running")
	}
	return strerr.Fatal("unable to ", e.Op, " ", e.Dir, "/", e.File, ": ", e.Err)
}
