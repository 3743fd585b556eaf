package onescan

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/quiet"
	"daemontools/internal/scan"
	"daemontools/internal/sigevent"
)

// A scan after a change in the directory waits settle for the rest of a
// burst of changes, and follows the previous one by burstGap at least.
const (
	settle   = 10 * time.Millisecond
	burstGap = 100 * time.Millisecond
)

// Run scans at once, then every scan.Interval, at SIGHUP and soon after an
// entry of the directory is created, removed or renamed, and drives every
// supervisor in between. signals are those the caller has asked for. SIGCHLD reaps the orphans of services. SIGTERM and SIGINT (and
// SIGQUIT, which the caller asks for as PID 1) stop every service in
// order, as plain svscan does (scan.Pair.Retire), and so does a tied
// service down for good. Run returns svscan's exit code once all are gone.
// ready, if not nil, is called once the first scan is done.
func (s *Scanner) Run(signals *sigevent.Events, ready func()) int {
	if err := s.watch(signals.Fd(), keySignal); err != nil {
		s.warn("unable to catch signals: ", err)
	}
	changes, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err == nil {
		defer unix.Close(changes)
		_, err = unix.InotifyAddWatch(changes, ".", unix.IN_CREATE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO|unix.IN_ONLYDIR)
	}
	if err == nil {
		err = s.watch(changes, keyNotify)
	}
	if err != nil {
		s.warn("unable to watch directory: ", err) // the periodic scan carries on alone
	}
	if s.statuses, err = unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK); err == nil {
		if err = s.watch(s.statuses, keyStatus); err != nil {
			unix.Close(s.statuses)
		}
	}
	if err != nil {
		s.statuses = -1
		s.warn("unable to watch the status of tied services: ", err)
	} else {
		defer unix.Close(s.statuses)
	}

	now := time.Now()
	s.Scan(true, now)
	if ready != nil {
		ready()
	}
	nextScan := now.Add(scan.Interval)
	var soon, lastSoon time.Time // a scan after a change; zero when none is due
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 4096)
	for !s.stopping || len(s.services) > 0 {
		n, err := s.poller.Wait(events, s.timeout(time.Now(), nextScan, soon))
		if err != nil {
			s.warn("unable to wait for events: ", err)
			n = 0
		}
		now = time.Now()
		orphans := false
		for _, ev := range events[:n] {
			switch ev.Fd {
			case keySignal:
				signals.Drain()
				signals.Take().Each(func(sig syscall.Signal) {
					switch sig {
					case syscall.SIGHUP:
						if !s.stopping {
							s.Scan(true, now)
						}
					case syscall.SIGCHLD:
						orphans = true
					case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
						s.Stop()
					}
				})
			case keyStatus:
				drain(s.statuses, buf)
				for _, u := range s.units {
					if u.pid != 0 {
						s.checkTied(u)
					}
				}
			case keyNotify:
				drain(changes, buf)
				if soon.IsZero() {
					soon = now.Add(settle)
					if gap := lastSoon.Add(burstGap); gap.After(soon) {
						soon = gap
					}
				}
			default:
				if u := s.units[ev.Fd]; u != nil && u.sup != nil {
					s.step(u, func() { u.sup.Step(now) }, now)
				}
			}
		}
		for _, u := range s.units {
			if u.sup != nil && u.sup.Timeout(now) == 0 {
				s.step(u, func() { u.sup.Step(now) }, now)
			}
		}
		// After the supervisors' steps, which reap their own children.
		if orphans {
			s.reapOrphans(now)
		}
		if !s.stopping && !now.Before(nextScan) {
			s.Scan(true, now)
			nextScan = now.Add(scan.Interval)
		}
		if !s.stopping && !soon.IsZero() && !now.Before(soon) {
			soon, lastSoon = time.Time{}, now
			s.Scan(false, now)
		}
		for _, sv := range s.services {
			if sv.leaving {
				s.retire(sv, now)
			}
		}
	}
	return s.exit
}

// timeout is the wait's at now: until the next scan, the nearest alarm
// of a supervisor, or, while services leave, the next look at their stops.
func (s *Scanner) timeout(now, nextScan, soon time.Time) time.Duration {
	deadline := nextScan
	if !soon.IsZero() && soon.Before(deadline) {
		deadline = soon
	}
	timeout := max(0, deadline.Sub(now))
	for _, u := range s.units {
		if u.sup != nil {
			if t := time.Duration(u.sup.Timeout(now)) * time.Millisecond; t >= 0 && t < timeout {
				timeout = t
			}
		}
	}
	for _, sv := range s.services {
		if sv.leaving {
			return min(timeout, scan.StopPoll)
		}
	}
	return timeout
}

// drain reads what the non-blocking fd holds, through buf, and forgets it.
func drain(fd int, buf []byte) {
	for {
		if n, err := quiet.Read(fd, buf); n <= 0 || err != nil {
			return
		}
	}
}
