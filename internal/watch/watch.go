// Package watch waits for supervised services to reach a state, for
// svwait. It never polls at an interval: it sleeps in poll(2) on a FIFO of
// its own in each DIR/supervise/event, into which supervise writes once it
// has written a new record (package eventfifo), or, for a supervise that
// makes no event directory (daemontools'), on an inotify watch of
// DIR/supervise, where supervise renames status.new over status; and on a
// write end of each DIR/supervise/ok FIFO, which reports an error the
// moment supervise exits and closes its reading end.
package watch

import (
	"errors"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/eventfifo"
	"daemontools/internal/status"
	"daemontools/internal/tai64"
)

// Want is the state waited for.
type Want int

const (
	Up        Want = iota // ./run runs (or a one-shot task is done)
	UpReady               // ./run runs and said it is ready (or has no way to say it), or a one-shot task is done
	Down                  // ./run does not run
	DownDone              // ./run does not run and ./finish is done
	UpHealthy             // ./run runs and its latest probe passed (or it has no probe)
)

// Holds tells whether a service whose record is s is in state w. A
// service without readiness (or a record without our fields, from
// daemontools' supervise) is ready once up.
func (w Want) Holds(s status.Status) bool {
	switch w {
	case Up:
		return s.Done || s.Pid != 0
	case UpReady:
		// A one-shot task done is as ready as it will be.
		return s.Done || s.Pid != 0 && (!s.Readiness || s.Ready != (tai64.Label{}))
	case Down:
		return s.Pid == 0
	case DownDone:
		return s.Pid == 0 && !s.Finishing
	case UpHealthy:
		return s.Pid != 0 && (s.Health == status.HealthNone || s.Health == status.HealthHealthy)
	}
	return false
}

// Error is a service that cannot be watched: Op ("open", "watch" or
// "read") could not be done to File, relative to Dir ("" for Dir itself).
// Err is ErrNotRunning when its supervise is not running, or has exited
// before the state was reached.
type Error struct {
	Dir  string
	Op   string
	File string
	Err  error
}

func (e *Error) Error() string { return e.Op + " " + e.Dir + "/" + e.File + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrNotRunning means no supervise runs for the service.
var ErrNotRunning = control.ErrNotRunning

// Watcher watches a set of services.
type Watcher struct {
	inotify  int // made when a service needs it; -1 before
	services []service
	buf      [4096]byte
}

type service struct {
	dir    string
	events *eventfifo.Waiter // nil when watched through inotify
	wd     int               // inotify's watch of dir/supervise
	ok     int               // write end of dir/supervise/ok; -1 once supervise has gone
	holds  bool
	// passed: Down or DownDone held at a moment no look saw, between two
	// looks at the record (a ./run that restarted right after ./finish).
	passed bool
	last   *status.Status // the record at the latest look; nil before
	ours   bool           // last has our fields (restarts)
}

const (
	statusName = "status" // the record's name inside supervise/
	events     = unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
)

// Open starts watching the services in dirs. A service whose directory
// exists but whose supervise is not running (yet: svscan starts it a few
// milliseconds after the directory appears) is waited for until appear,
// zero for not at all. Open fails with an *Error for the first one whose
// supervise is not running by then or that cannot be watched.
func Open(dirs []string, appear time.Time) (*Watcher, error) {
	w := &Watcher{inotify: -1}
	for _, dir := range dirs {
		s := service{dir: dir, ok: -1}
		// Running first, then watching, then reading the record: a change
		// after the reading is seen by the watch, and a supervise that
		// exits after the first step closes the FIFO.
		var err error
		if s.ok, err = openOk(dir, appear); err != nil {
			w.Close()
			return nil, err
		}
		s.events, _ = eventfifo.Listen(dir)
		w.services = append(w.services, s)
		if s.events == nil {
			if err := w.watchDir(len(w.services) - 1); err != nil {
				w.Close()
				return nil, err
			}
		}
	}
	return w, nil
}

// watchDir watches service i's supervise/ through inotify.
func (w *Watcher) watchDir(i int) error {
	s := &w.services[i]
	var err error
	if w.inotify < 0 {
		if w.inotify, err = unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK); err != nil {
			w.inotify = -1
			return &Error{Dir: s.dir, Op: "watch", File: "supervise", Err: err}
		}
	}
	if s.wd, err = unix.InotifyAddWatch(w.inotify, s.dir+"/supervise", events); err != nil {
		return &Error{Dir: s.dir, Op: "watch", File: "supervise", Err: err}
	}
	return nil
}

// openOk opens dir/supervise/ok for writing, as svok does, which
// succeeds only while a supervise runs; until appear, when dir is a
// directory, it tries again each time supervise/ changes.
func openOk(dir string, appear time.Time) (int, error) {
	ok, err := tryOk(dir)
	if err == nil || appear.IsZero() || !notYet(err) {
		return ok, err
	}
	if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
		return -1, err
	}
	in, ierr := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if ierr != nil {
		return -1, err
	}
	// Closed aside: the close waits for the kernel's fsnotify grace
	// period (package eventfifo), while the wait for the service goes on.
	defer func() { go unix.Close(in) }()
	// Watching first, then trying: what supervise does after a try
	// wakes the wait. It makes supervise/, then ok, and opens ok.
	if _, ierr := unix.InotifyAddWatch(in, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ONLYDIR); ierr != nil {
		return -1, err
	}
	var buf [4096]byte
	for {
		// Fails until supervise/ exists; adding it again is harmless.
		unix.InotifyAddWatch(in, dir+"/supervise", unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_OPEN|unix.IN_ONLYDIR)
		if ok, err = tryOk(dir); err == nil || !notYet(err) {
			return ok, err
		}
		left := time.Until(appear)
		if left <= 0 {
			return -1, err
		}
		fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}
		unix.Poll(fds, int((left+time.Millisecond-1)/time.Millisecond))
		for {
			if n, _ := unix.Read(in, buf[:]); n <= 0 {
				break
			}
		}
	}
}

// tryOk opens dir/supervise/ok once, with the *Error of a failure.
func tryOk(dir string) (int, error) {
	ok, err := unix.Open(dir+"/"+control.OkFile, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case err == unix.ENXIO:
		return -1, &Error{Dir: dir, Op: "watch", Err: ErrNotRunning}
	case err != nil:
		return -1, &Error{Dir: dir, Op: "open", File: control.OkFile, Err: err}
	}
	return ok, nil
}

// notYet tells whether a failure of tryOk is one that a supervise
// starting up ends: no supervise/ok yet, or nobody reading it.
func notYet(err error) bool {
	return errors.Is(err, ErrNotRunning) || errors.Is(err, unix.ENOENT)
}

// Close stops watching.
func (w *Watcher) Close() {
	for i := range w.services {
		if w.services[i].ok >= 0 {
			unix.Close(w.services[i].ok)
		}
		if w.services[i].events != nil {
			w.services[i].events.Close()
		}
	}
	if w.inotify >= 0 {
		unix.Close(w.inotify)
	}
}

// Wait waits until want holds for every service, or for one of them when
// any, and tells whether it does; false means deadline (zero for none)
// passed first. A supervise that exits before its service is as wanted,
// when that decides the outcome, is an *Error with ErrNotRunning.
func (w *Watcher) Wait(want Want, any bool, deadline time.Time) (bool, error) {
	for i := range w.services {
		if err := w.check(i, want); err != nil {
			return false, err
		}
	}
	fds := make([]unix.PollFd, 1+2*len(w.services))
	for {
		if done, err := w.outcome(any); done || err != nil {
			return done, err
		}
		timeout := -1
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return false, nil
			}
			timeout = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		// A negative descriptor is left out by poll.
		fds[0] = unix.PollFd{Fd: int32(w.inotify), Events: unix.POLLIN}
		for i, s := range w.services {
			fds[1+2*i] = unix.PollFd{Fd: int32(s.ok)}
			fds[2+2*i] = unix.PollFd{Fd: -1, Events: unix.POLLIN}
			if s.events != nil {
				fds[2+2*i].Fd = int32(s.events.Fd())
			}
		}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return false, err
		}
		if fds[0].Revents != 0 {
			if err := w.changed(want); err != nil {
				return false, err
			}
		}
		for i := range w.services {
			if fds[2+2*i].Revents != 0 && w.services[i].events != nil {
				w.services[i].events.Drain()
				if err := w.check(i, want); err != nil {
					return false, err
				}
			}
			if fds[1+2*i].Revents != 0 {
				if err := w.gone(i, want); err != nil {
					return false, err
				}
			}
		}
	}
}

// outcome tells whether the wait is over: done when want holds as asked,
// an error when it no longer can.
func (w *Watcher) outcome(any bool) (bool, error) {
	held, lost := 0, -1
	for i, s := range w.services {
		switch {
		case s.holds:
			held++
		case s.ok < 0:
			lost = i
		}
	}
	if any && held > 0 || !any && held == len(w.services) {
		return true, nil
	}
	if lost >= 0 && (!any || allGone(w.services)) {
		return false, &Error{Dir: w.services[lost].dir, Op: "watch", Err: ErrNotRunning}
	}
	return false, nil
}

func allGone(services []service) bool {
	for _, s := range services {
		if s.ok >= 0 {
			return false
		}
	}
	return true
}

// changed reads the waiting inotify events and checks again the services
// whose record was replaced; after an overflow, every service.
func (w *Watcher) changed(want Want) error {
	for {
		n, err := unix.Read(w.inotify, w.buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return nil // EAGAIN: all read
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&w.buf[off]))
			name := w.buf[off+unix.SizeofInotifyEvent : min(n, off+unix.SizeofInotifyEvent+int(ev.Len))]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW == 0 && ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) == 0 && cString(name) != statusName {
				continue
			}
			for i := range w.services {
				if ev.Mask&unix.IN_Q_OVERFLOW != 0 || w.services[i].wd == int(ev.Wd) {
					if err := w.check(i, want); err != nil {
						return err
					}
				}
			}
		}
	}
}

// cString is a NUL-padded name from an inotify event.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// newRun tells whether the record now names a ./run started since the
// record then: the service was down in between, with ./finish done, as
// supervise starts ./run again only once ./finish has exited. Our records
// count starts (a pid may change within one run: a pidfile's daemon,
// MAINPID=); daemontools' change pid or time only for a new ./run.
func newRun(then, now status.Status, ours bool) bool {
	switch {
	case now.Pid == 0:
		return false
	case then.Pid == 0:
		return true
	case ours:
		return now.Restarts != then.Restarts
	}
	return now.Pid != then.Pid || now.Since != then.Since
}

// gone notes that service i's supervise has exited, and reads the record
// it left: a service that is down stays down.
func (w *Watcher) gone(i int, want Want) error {
	s := &w.services[i]
	unix.Close(s.ok)
	s.ok = -1
	return w.check(i, want)
}

// check reads service i's record and notes whether want holds. A record
// that is missing while supervise has gone is a service that does not
// run; any other failure to read it is an *Error.
func (w *Watcher) check(i int, want Want) error {
	s := &w.services[i]
	rec, err := status.ReadAll(s.dir + "/" + status.File)
	if s.events != nil && err == status.ErrNoExtension {
		// A supervise that posts no events (daemontools') wrote it,
		// though an event directory is there: watch as for one without.
		s.events.Close()
		s.events = nil
		if err := w.watchDir(i); err != nil {
			return err
		}
		return w.check(i, want)
	}
	var re *status.ReadError
	var ext *status.ExtensionError
	switch {
	case err == nil, err == status.ErrNoExtension, errors.As(err, &ext):
		if (want == Down || want == DownDone) && s.last != nil && newRun(*s.last, rec, s.ours && err == nil) {
			s.passed = true
		}
		s.last, s.ours = &rec, err == nil
		s.holds = s.passed || want.Holds(rec)
	case s.ok < 0 && errors.As(err, &re) && re.Err == unix.ENOENT:
		s.holds = false
	case errors.As(err, &re):
		return &Error{Dir: s.dir, Op: "read", File: status.File, Err: re.Err}
	default:
		return &Error{Dir: s.dir, Op: "read", File: status.File, Err: err}
	}
	return nil
}
