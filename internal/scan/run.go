package scan

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"daemontools/internal/quiet"
	"daemontools/internal/sigevent"
)

const (
	// settle gathers a burst of directory events (a tree being copied in,
	// many links made by a script) into one scan.
	settle = 10 * time.Millisecond
	// burstGap is the least time between two scans that follow changes:
	// a directory that keeps changing costs ten scans a second at most.
	burstGap = 100 * time.Millisecond
	// tiedRetry is how soon svscan looks again for the supervise/ of a
	// tied service, which its new supervise makes at once.
	tiedRetry = 100 * time.Millisecond
)

// Keys of the descriptors Run waits on.
const (
	keySignal  = iota // the pipe that carries the signals
	keyChanges        // inotify: the directory, and tied services' supervise/
)

// dirEvents are the changes to the directory that may be a service coming
// or going.
const dirEvents = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO

// Run scans at once and then until told to stop: every interval (Interval
// but in tests), at SIGHUP, and just after an entry is created, removed or
// renamed in the directory. SIGCHLD reaps every child that has died,
// supervise or not. SIGTERM and SIGINT stop every service in order (Stop),
// and Run returns svscan's exit code once all are gone. signals are those
// the caller has asked for. ready, if not nil, is called once the
// first scan has started every service. The error is a failure to set up
// the waiting, before anything has started.
//
// Idle, svscan wakes once every interval and for nothing else: it waits
// through package quiet, and the scan's system calls are quiet's.
func (s *Scanner) Run(interval time.Duration, signals *sigevent.Events, ready func()) (int, error) {
	poller, err := quiet.NewPoller()
	if err != nil {
		return 0, err
	}
	defer poller.Close()
	if err := poller.Add(signals.Fd(), keySignal); err != nil {
		return 0, err
	}
	if err := s.watch(poller); err != nil {
		s.warn("unable to watch directory: ", err) // the periodic scan carries on alone
	}

	now := time.Now()
	s.Scan(true)
	if ready != nil {
		ready()
	}
	nextScan := now.Add(interval)
	// A scan after a change, the latest one begun, and the next look at
	// leaving and at unwatched tied services: zero when none is due.
	var soon, lastSoon, moveOn, watchTied time.Time
	scanSoon := func() {
		if soon.IsZero() {
			soon = now.Add(settle)
			if gap := lastSoon.Add(burstGap); gap.After(soon) {
				soon = gap
			}
		}
	}
	events := make([]unix.EpollEvent, 2)
	buf := make([]byte, 4096)
	for s.phase != stopped {
		now = time.Now()
		if s.Dropped() && s.phase == scanning {
			scanSoon()
		}
		if s.Leaving() && moveOn.IsZero() {
			moveOn = now.Add(StopPoll)
		}
		if s.phase == scanning && s.Unwatched() && watchTied.IsZero() {
			watchTied = now.Add(tiedRetry)
		}
		deadline := nextScan
		for _, t := range []time.Time{soon, moveOn, watchTied} {
			if !t.IsZero() && t.Before(deadline) {
				deadline = t
			}
		}
		n, err := poller.Wait(events, max(0, deadline.Sub(now)))
		if err != nil {
			s.warn("unable to wait for events: ", err)
			n = 0
		}
		now = time.Now()
		for _, ev := range events[:n] {
			switch ev.Fd {
			case keySignal:
				signals.Drain()
				signals.Take().Each(s.obey)
			case keyChanges:
				if s.changed(buf) {
					scanSoon()
				}
			}
		}
		if !now.Before(nextScan) {
			nextScan = now.Add(interval)
			if s.phase == scanning {
				s.Scan(true)
			}
		}
		if !soon.IsZero() && !now.Before(soon) {
			soon = time.Time{}
			if s.phase == scanning {
				lastSoon = now
				s.Scan(false)
			}
		}
		if !moveOn.IsZero() && !now.Before(moveOn) {
			moveOn = time.Time{}
			s.MoveOn()
		}
		if !watchTied.IsZero() && !now.Before(watchTied) {
			watchTied = time.Time{}
			s.WatchUnwatched()
		}
	}
	return s.exit, nil
}

// obey does what sig asks.
func (s *Scanner) obey(sig syscall.Signal) {
	switch sig {
	case syscall.SIGHUP:
		if s.phase == scanning {
			s.Scan(true)
		}
	case syscall.SIGCHLD:
		s.Reap()
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
		s.Stop()
	}
}

// watch starts watching the directory for entries coming and going.
func (s *Scanner) watch(poller *quiet.Poller) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	if s.dirWatch, err = unix.InotifyAddWatch(fd, ".", dirEvents|unix.IN_ONLYDIR); err == nil {
		err = poller.Add(fd, keyChanges)
	}
	if err != nil {
		unix.Close(fd)
		return err
	}
	s.changes = fd
	return nil
}

// changed reads every waiting inotify event, in as few reads as buf
// allows, and tells whether the directory changed in a way that calls for
// a scan: an entry other than a dot name came or went, or events were
// lost. Events from a tied service's supervise/ are handled here.
func (s *Scanner) changed(buf []byte) bool {
	scan := false
	for {
		n, err := quiet.Read(s.changes, buf)
		if err != nil || n <= 0 {
			return scan // EAGAIN: all read
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : min(n, off+unix.SizeofInotifyEvent+int(ev.Len))]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0:
				scan = true
			case int(ev.Wd) == s.dirWatch:
				scan = scan || ev.Mask&dirEvents != 0 && len(name) > 0 && name[0] != '.'
			default:
				s.statusEvent(int(ev.Wd), ev.Mask, name)
			}
		}
	}
}
