package onescan

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/scan"
)

// A scan after a change in the directory waits settle for the rest of a
// burst of changes, and follows the previous one by burstGap at least.
const (
	settle   = 10 * time.Millisecond
	burstGap = 100 * time.Millisecond
)

// Run scans at once, then every scan.Interval, at SIGHUP and soon after an
// entry of the directory is created, removed or renamed, and drives every
// supervisor in between. ready, if not nil, is called once the first scan
// is done. SIGTERM and SIGINT retire every service (its supervisor stops
// it; loggers end once they have read everything) and Run returns once
// all are gone.
func (s *Scanner) Run(ready func()) {
	signals, err := s.signalPipe()
	if err != nil {
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

	now := time.Now()
	s.Scan(true, now)
	if ready != nil {
		ready()
	}
	nextScan := now.Add(scan.Interval)
	var soon, lastSoon time.Time // a scan after a change; zero when none is due
	stopping := false
	events := make([]unix.EpollEvent, 256)
	for !stopping || len(s.services) > 0 {
		now = time.Now()
		deadline := nextScan
		if !soon.IsZero() && soon.Before(deadline) {
			deadline = soon
		}
		timeout := int(max(0, (time.Until(deadline)+time.Millisecond-1)/time.Millisecond))
		for _, u := range s.units {
			if u.sup != nil {
				if t := u.sup.Timeout(now); t >= 0 && t < timeout {
					timeout = t
				}
			}
		}
		n, _ := unix.EpollWait(s.epoll, events, timeout)
		now = time.Now()
		for _, ev := range events[:max(n, 0)] {
			switch ev.Fd {
			case keySignal:
				for _, sig := range drain(signals) {
					switch syscall.Signal(sig) {
					case syscall.SIGHUP:
						s.Scan(true, now)
					case syscall.SIGTERM, syscall.SIGINT:
						stopping = true
						for _, sv := range s.services {
							sv.leaving = true
						}
					}
				}
			case keyNotify:
				drain(changes)
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
		if !stopping && !now.Before(nextScan) {
			s.Scan(true, now)
			nextScan = now.Add(scan.Interval)
		}
		if !stopping && !soon.IsZero() && !now.Before(soon) {
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

// signalPipe returns the read end of a pipe in the epoll set that gets
// the number of every SIGHUP, SIGTERM and SIGINT. SIGPIPE is caught too:
// a warning to a dead readproctitle must fail, not kill every supervisor.
func (s *Scanner) signalPipe() (int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return -1, err
	}
	if err := s.watch(p[0], keySignal); err != nil {
		return -1, err
	}
	c := make(chan os.Signal, 16)
	signal.Notify(c, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go func() {
		for sig := range c {
			unix.Write(p[1], []byte{byte(sig.(syscall.Signal))})
		}
	}()
	return p[0], nil
}

// drain reads what fd holds.
func drain(fd int) []byte {
	var all []byte
	var b [4096]byte
	for {
		n, err := unix.Read(fd, b[:])
		if n <= 0 || err != nil {
			return all
		}
		all = append(all, b[:n]...)
	}
}
