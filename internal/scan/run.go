package scan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
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

// Run scans at once and then until told to stop: every interval (Interval
// but in tests), at SIGHUP, and just after an entry is created, removed or
// renamed in the directory. SIGCHLD reaps every child that has died,
// supervise or not. SIGTERM and SIGINT stop every service in order (Stop),
// and Run returns svscan's exit code once all are gone. signals carries the
// signals the caller has asked for. ready, if not nil, is called once the
// first scan has started every service.
func (s *Scanner) Run(interval time.Duration, signals <-chan os.Signal, ready func()) int {
	var changes <-chan fsnotify.Event
	var watchErrors <-chan error
	if w, err := watch(); err != nil {
		s.warn("unable to watch directory: ", err)
	} else {
		defer w.Close()
		s.watcher = w
		changes, watchErrors = w.Events, w.Errors
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	soon := newAlarm() // a scan shortly after a change
	s.Scan(true)
	if ready != nil {
		ready()
	}
	var lastSoon time.Time // when the latest scan after a change began
	scanSoon := func() { soon.set(max(settle, time.Until(lastSoon.Add(burstGap)))) }
	for s.phase != stopped {
		if s.Dropped() && s.phase == scanning {
			scanSoon()
		}
		var moveOn, watchTied <-chan time.Time
		if s.Leaving() {
			moveOn = time.After(StopPoll)
		}
		if s.phase == scanning && s.Unwatched() {
			watchTied = time.After(tiedRetry)
		}
		select {
		case <-ticker.C:
			if s.phase == scanning {
				s.Scan(true)
			}
		case sig := <-signals:
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
		case ev, ok := <-changes:
			if !ok {
				changes = nil // the periodic scan carries on alone
			} else if filepath.Dir(ev.Name) != "." {
				s.StatusEvent(ev) // in a tied service's supervise/
			} else if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				if !strings.HasPrefix(filepath.Base(ev.Name), ".") {
					scanSoon() // dot names are never services
				}
			}
		case err, ok := <-watchErrors:
			if !ok {
				watchErrors = nil
			} else if errors.Is(err, fsnotify.ErrEventOverflow) {
				scanSoon() // events were lost: look
			}
		case <-soon.C:
			soon.armed = false
			if s.phase == scanning {
				lastSoon = time.Now()
				s.Scan(false)
			}
		case <-moveOn:
			s.MoveOn()
		case <-watchTied:
			s.WatchUnwatched()
		}
	}
	return s.exit
}

func watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add("."); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// alarm is a timer that, once set, is not pushed back by setting it again.
type alarm struct {
	*time.Timer
	armed bool
}

func newAlarm() *alarm {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &alarm{Timer: t}
}

func (a *alarm) set(d time.Duration) {
	if !a.armed {
		a.Reset(d)
		a.armed = true
	}
}
