package scan

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"daemontools/internal/poller"
	"daemontools/internal/rawsys"
	"daemontools/internal/sigevent"
	"daemontools/internal/supervise"
)

// burstGap is the least time between two scans that follow changes: the
// first change is looked at at once, and the rest of a burst (a tree being
// copied in, many links made by a script) waits for the next, so that a
// directory that keeps changing costs ten scans a second at most.
const burstGap = 100 * time.Millisecond

// Keys of the poller's events that are not a slot's; slots' follow.
const (
	keySignal  = iota // sigevent's descriptor
	keyChanges        // the wake pipe of directory events
	keySlots          // slots' keys are above it
)

// loop is what the event loop waits on: one poller for the signals, the
// directory events and every descriptor the supervisors inside this
// process watch, its deadline the nearest of the scans, the stops and the
// supervisors' alarms. Directory events reach it from the watcher's
// goroutine, queued on changes, with a byte in the wake pipe.
type loop struct {
	poller  *poller.Poller
	wake    [2]int
	changes chan change
	lost    atomic.Bool       // changes was full: events were dropped
	watcher *fsnotify.Watcher // nil without one
	// forwarded is closed once the watcher's events have stopped coming:
	// the wake pipe may be closed then.
	forwarded chan struct{}
	events    []unix.EpollEvent
	buf       []byte
	fds       []int
}

// change is a directory event, or an error of the watcher.
type change struct {
	ev  fsnotify.Event
	err error
}

func newLoop() (*loop, error) {
	p, err := poller.New()
	if err != nil {
		return nil, err
	}
	l := &loop{poller: p, changes: make(chan change, 64), events: make([]unix.EpollEvent, 64), buf: make([]byte, 256)}
	if err := unix.Pipe2(l.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		p.Close()
		return nil, err
	}
	if err := p.Add(l.wake[0], keyChanges); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *loop) close() {
	if l.watcher != nil {
		l.watcher.Close()
		<-l.forwarded
	}
	l.poller.Close()
	unix.Close(l.wake[0])
	unix.Close(l.wake[1])
}

// watchDirectory starts watching the scanned directory for entries coming
// and going; the watcher also watches tied services' supervise/.
func (l *loop) watchDirectory() error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add("."); err != nil {
		w.Close()
		return err
	}
	l.watcher, l.forwarded = w, make(chan struct{})
	go l.forward(w)
	return nil
}

// forward queues the watcher's events and errors for the loop, and wakes
// it, until the watcher is closed. A full queue drops the event and says
// that events were lost: the loop then scans everything.
func (l *loop) forward(w *fsnotify.Watcher) {
	defer close(l.forwarded)
	for {
		var c change
		var ok bool
		select {
		case c.ev, ok = <-w.Events:
		case c.err, ok = <-w.Errors:
		}
		if !ok {
			return
		}
		select {
		case l.changes <- c:
		default:
			l.lost.Store(true)
		}
		unix.Write(l.wake[1], []byte{0})
	}
}

// watch puts every descriptor sup waits on in the poller under key; one
// already there is fine.
func (l *loop) watch(sup *supervise.Supervisor, key int32) error {
	l.fds = sup.Watched(l.fds[:0])
	for _, fd := range l.fds {
		if err := l.poller.Add(fd, key); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	return nil
}

// Run scans at once and then until told to stop: every interval, at
// SIGHUP, and just after an entry is created, removed or renamed in the
// directory; and it drives every supervisor inside svscan in between.
// signals carries the signals the caller has asked for: SIGCHLD reaps
// every child that has exited, supervise or orphan; SIGTERM and SIGINT
// (and SIGQUIT, which the caller asks for as PID 1) stop every service in
// order (Stop), and so does a tied service down for good. Run returns
// svscan's exit code once all are gone.
//
// Idle, svscan wakes once every interval and for nothing else: it waits
// through internal/poller, and the scan's system calls are internal/rawsys'.
func (s *Scanner) Run(signals *sigevent.Events) int {
	defer s.loop.close()
	if err := s.loop.watchDirectory(); err != nil {
		s.warn("unable to watch directory: ", err) // the periodic scan carries on alone
	}
	s.run(signals)
	return s.exit
}

// run is the event loop, of svscan in both modes and of the supervise
// program (single).
func (s *Scanner) run(signals *sigevent.Events) {
	l := s.loop
	if err := l.poller.Add(signals.Fd(), keySignal); err != nil {
		s.warn("unable to catch signals: ", err)
	}
	now := time.Now()
	// The next periodic scan, a scan after a change, and the latest one
	// begun: zero when none is due.
	var nextScan, soon, lastSoon time.Time
	if !s.single {
		s.Scan(true, now)
		if s.opt.Ready != nil {
			s.opt.Ready(len(s.services))
		}
		nextScan = now.Add(s.opt.Interval)
	}
	scanSoon := func() {
		if soon.IsZero() {
			soon = lastSoon.Add(burstGap)
			if soon.Before(now) {
				soon = now // the first change of a burst is looked at at once
			}
		}
	}
	for s.phase != stopped {
		now = time.Now()
		if s.dropped && s.phase == scanning {
			scanSoon()
		}
		n, err := l.poller.Wait(l.events, s.timeout(now, nextScan, soon))
		if err != nil {
			s.warn("unable to wait for events: ", err)
			n = 0
		}
		now = time.Now()
		children := false
		for _, ev := range l.events[:n] {
			switch ev.Fd {
			case keySignal:
				signals.Drain()
				signals.Take().Each(func(sig syscall.Signal) {
					switch sig {
					case syscall.SIGHUP:
						if s.phase == scanning && !s.single {
							s.Scan(true, now)
						}
					case syscall.SIGCHLD:
						children = true
					case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
						s.Stop()
					}
				})
			case keyChanges:
				for k := len(l.buf); k == len(l.buf); {
					k, _ = rawsys.Read(l.wake[0], l.buf)
				}
				if s.changed() {
					scanSoon()
				}
			default:
				if u := s.slots[ev.Fd]; u != nil && u.sup != nil {
					s.step(u, func() { u.sup.Step(now) }, now)
				}
			}
		}
		for _, u := range s.slots {
			if u.sup != nil && u.sup.Timeout(now) == 0 {
				s.step(u, func() { u.sup.Step(now) }, now)
			}
		}
		// After the supervisors' steps, which reap their own children.
		if children {
			s.reap(now)
		}
		if s.phase == scanning && !s.single && !now.Before(nextScan) {
			nextScan = now.Add(s.opt.Interval)
			s.Scan(true, now)
		}
		if s.phase == scanning && !soon.IsZero() && !now.Before(soon) {
			soon, lastSoon = time.Time{}, now
			s.Scan(false, now)
		}
		for _, sv := range s.services {
			if sv.leaving {
				s.retire(sv, now)
			}
		}
	}
}

// timeout is the wait's at now: until the next scan, the nearest alarm of
// a supervisor, or, while services leave, the next look at their stops;
// -1 for none.
func (s *Scanner) timeout(now, nextScan, soon time.Time) time.Duration {
	timeout := time.Duration(-1)
	earlier := func(d time.Duration) {
		if d >= 0 && (timeout < 0 || d < timeout) {
			timeout = d
		}
	}
	for _, t := range []time.Time{nextScan, soon} {
		if !t.IsZero() {
			earlier(max(0, t.Sub(now)))
		}
	}
	for _, u := range s.slots {
		if u.sup != nil {
			earlier(u.sup.Timeout(now))
		}
	}
	for _, sv := range s.services {
		if sv.leaving {
			earlier(StopPoll)
			break
		}
	}
	return timeout
}

// changed takes every directory event queued, and tells whether the
// directory changed in a way that calls for a scan: an entry other than a
// dot name came or went, or events were lost (then every tied service's
// record is looked at too). Events of a tied service's supervise/ are
// handled here.
func (s *Scanner) changed() bool {
	scan, lost := false, s.loop.lost.Swap(false)
	for more := true; more; {
		select {
		case c := <-s.loop.changes:
			dir, name := filepath.Split(c.ev.Name)
			switch {
			case c.err != nil:
				lost = true // the kernel's queue overflowed, or a read failed
			case dir == "./":
				scan = scan || name[0] != '.' && c.ev.Has(fsnotify.Create|fsnotify.Remove|fsnotify.Rename)
			default:
				s.statusEvent(c.ev)
			}
		default:
			more = false
		}
	}
	if lost {
		for _, sv := range s.services {
			s.checkTied(sv)
		}
	}
	return scan || lost
}

// reap collects every child that has exited: a supervise process, whose
// slot the next full scan fills again, or an orphan of a service, which
// comes back to svscan (a child subreaper, or PID 1). A child of a
// supervisor inside svscan is left to it, and it is stepped at once so
// that the children behind can be reaped.
func (s *Scanner) reap(now time.Time) {
	for last := 0; ; {
		pid := rawsys.Exited()
		if pid <= 0 {
			return
		}
		u := s.owner(pid)
		switch {
		case u == nil:
			rawsys.Reap(pid)
		case u.pid == pid:
			ws, _ := rawsys.Reap(pid)
			s.reaped(u, ws)
		case pid == last:
			return // its supervisor does not reap it yet
		default:
			last = pid
			s.step(u, func() { u.sup.Step(now) }, now)
		}
	}
}

// owner is the slot whose supervise process pid is, or whose supervisor's
// child it is; nil for an orphan.
func (s *Scanner) owner(pid int) *slot {
	for _, u := range s.slots {
		if u.pid == pid || u.sup != nil && u.sup.Reaps(pid) {
			return u
		}
	}
	return nil
}

// reaped follows the exit of the slot's supervise process: the next full
// scan starts it again, as daemontools' svscan does. One that was told to
// exit (svc -x) may end svscan, when tied.
func (s *Scanner) reaped(u *slot, ws unix.WaitStatus) {
	u.pid = 0
	if !u.log && ws.Exited() && ws.ExitStatus() == 0 {
		s.checkTied(u.sv)
	}
}
