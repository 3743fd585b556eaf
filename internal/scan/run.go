package scan

import (
	"errors"
	"os"
	"os/signal"
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
)

// Run scans at once and then for ever: every Interval, at SIGHUP, and just
// after an entry is created, removed or renamed in the directory. ready, if
// not nil, is called once the first scan has started every service.
func (s *Scanner) Run(ready func()) {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGCHLD)
	// Our stderr is usually a pipe to readproctitle; should it die, a
	// warning must fail with EPIPE rather than kill svscan and with it
	// the supervision of every service.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	var changes <-chan fsnotify.Event
	var watchErrors <-chan error
	if w, err := watch(); err != nil {
		s.warn("unable to watch directory: ", err)
	} else {
		changes, watchErrors = w.Events, w.Errors
	}

	ticker := time.NewTicker(Interval)
	soon := newAlarm() // a scan shortly after a change
	s.Scan(true)
	if ready != nil {
		ready()
	}
	var lastSoon time.Time // when the latest scan after a change began
	scanSoon := func() { soon.set(max(settle, time.Until(lastSoon.Add(burstGap)))) }
	for {
		if s.Dropped() {
			scanSoon()
		}
		select {
		case <-ticker.C:
			s.Scan(true)
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				s.Scan(true)
			} else {
				s.Reap()
			}
		case ev, ok := <-changes:
			if !ok {
				changes = nil // the periodic scan carries on alone
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
			lastSoon = time.Now()
			s.Scan(false)
		}
	}
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
