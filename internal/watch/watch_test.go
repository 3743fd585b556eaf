package watch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// Each state waited for, against the records supervise writes.
func TestHolds(t *testing.T) {
	ready := tai64.Label{Sec: tai64.Offset + 1}
	records := map[string]status.Status{
		"down":               {State: status.Stopped},
		"finishing":          {State: status.Stopping, Finishing: true},
		"up, no readiness":   {Pid: 7, State: status.Running},
		"up, not ready":      {Pid: 7, State: status.Starting, Readiness: true},
		"up, ready":          {Pid: 7, State: status.Running, Readiness: true, Ready: ready},
		"stopping":           {Pid: 7, State: status.Stopping},
		"daemontools' up":    {Pid: 7},
		"daemontools' down":  {},
		"up, health unknown": {Pid: 7, State: status.Running, Health: status.HealthUnknown},
		"up, healthy":        {Pid: 7, State: status.Running, Health: status.HealthHealthy},
		"up, unhealthy":      {Pid: 7, State: status.Running, Health: status.HealthUnhealthy, Failures: 1},
		"down, healthy":      {State: status.Stopped, Health: status.HealthHealthy},
	}
	want := map[Want]map[string]bool{
		Up: {"up, no readiness": true, "up, not ready": true, "up, ready": true, "stopping": true, "daemontools' up": true,
			"up, health unknown": true, "up, healthy": true, "up, unhealthy": true},
		UpReady: {"up, no readiness": true, "up, ready": true, "stopping": true, "daemontools' up": true,
			"up, health unknown": true, "up, healthy": true, "up, unhealthy": true},
		Down:     {"down": true, "finishing": true, "daemontools' down": true, "down, healthy": true},
		DownDone: {"down": true, "daemontools' down": true, "down, healthy": true},
		UpHealthy: {"up, no readiness": true, "up, not ready": true, "up, ready": true, "stopping": true, "daemontools' up": true,
			"up, healthy": true},
	}
	for w, holds := range want {
		for name, rec := range records {
			if got := w.Holds(rec); got != holds[name] {
				t.Errorf("Want %d, record %q: Holds %v", w, name, got)
			}
		}
	}
	if Want(9).Holds(records["up, ready"]) {
		t.Error("an unknown Want holds")
	}
}

// When a wait is over: all or any of the services as wanted, or one
// whose supervise has gone when that decides it.
func TestOutcome(t *testing.T) {
	const (
		held = iota // as wanted, supervise running
		wait        // not yet, supervise running
		lost        // not as wanted, supervise gone
		left        // as wanted, supervise gone since
	)
	for _, tc := range []struct {
		any      bool
		services []int
		done     bool
		gone     string // the service reported not running; "" for no error
	}{
		{false, []int{held, held}, true, ""},
		{false, []int{held, wait}, false, ""},
		{false, []int{held, left}, true, ""},
		{false, []int{held, lost}, false, "b"},
		{false, []int{lost, wait}, false, "a"},
		{true, []int{wait, held}, true, ""},
		{true, []int{lost, held}, true, ""},
		{true, []int{wait, wait}, false, ""},
		{true, []int{lost, wait}, false, ""},
		{true, []int{lost, lost}, false, "b"},
	} {
		w := &Watcher{}
		for i, state := range tc.services {
			s := service{dir: string(rune('a' + i)), ok: 3, holds: state == held || state == left}
			if state == lost || state == left {
				s.ok = -1
			}
			w.services = append(w.services, s)
		}
		done, err := w.outcome(tc.any)
		gone := ""
		var e *Error
		if errors.As(err, &e) && e.Err == ErrNotRunning {
			gone = e.Dir
		} else if err != nil {
			gone = err.Error()
		}
		if done != tc.done || gone != tc.gone {
			t.Errorf("any %v, services %v: done %v, error %v; want %v, %q", tc.any, tc.services, done, err, tc.done, tc.gone)
		}
	}
}

// fakeSupervise makes a service directory with what a running supervise
// has: the FIFOs, held open for reading, and a status record.
func fakeSupervise(t *testing.T, rec status.Status) (dir string, fd int, l *control.Listener) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "svc")
	testbin.Must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o755))
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testbin.Must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	l, err = control.Listen(fd)
	testbin.Must(t, err)
	t.Cleanup(l.Close)
	testbin.Must(t, status.Write(fd, rec))
	testbin.Must(t, l.Ready())
	return dir, fd, l
}

// waitInBackground runs w.Wait(want, false, no deadline) and hands its
// outcome over.
func waitInBackground(w *Watcher, want Want) <-chan error {
	done := make(chan error, 1)
	go func() {
		ok, err := w.Wait(want, false, time.Time{})
		if err == nil && !ok {
			err = errors.New("Wait without a deadline returned false")
		}
		done <- err
	}()
	return done
}

// A wait with no deadline wakes on the record's rename (status.new over
// status, as supervise writes it); a record still down and a change of
// another file in supervise/ leave it waiting.
func TestWakesOnRename(t *testing.T) {
	dir, fd, _ := fakeSupervise(t, status.Status{State: status.Stopped})
	w, err := Open([]string{dir}, time.Time{})
	testbin.Must(t, err)
	defer w.Close()
	if ok, err := w.Wait(Up, false, time.Now()); ok || err != nil {
		t.Fatalf("Wait for up on a service down: %v, %v", ok, err)
	}
	done := waitInBackground(w, Up)
	// Another record, still down, and another file: no outcome.
	testbin.Must(t, status.Write(fd, status.Status{State: status.Stopped, Want: status.WantUp}))
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "supervise", "other"), []byte("x"), 0o644))
	testbin.Must(t, status.Write(fd, status.Status{Pid: 7, State: status.Running}))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(svtest.Scaled(5 * time.Second)):
		t.Fatal("Wait did not wake on the rename of a record that is up")
	}
}

// A supervise that exits (its ok FIFO closed) before the state is reached
// ends the wait with ErrNotRunning; one not running fails Open.
func TestSuperviseGone(t *testing.T) {
	dir, _, l := fakeSupervise(t, status.Status{Pid: 7, State: status.Running})
	w, err := Open([]string{dir}, time.Time{})
	testbin.Must(t, err)
	defer w.Close()
	done := waitInBackground(w, Down)
	l.Close()
	var e *Error
	select {
	case err := <-done:
		if !errors.As(err, &e) || e.Err != ErrNotRunning || e.Dir != dir {
			t.Fatalf("Wait after supervise exited: %v", err)
		}
	case <-time.After(svtest.Scaled(5 * time.Second)):
		t.Fatal("Wait did not end when supervise exited")
	}
	if _, err := Open([]string{dir}, time.Time{}); !errors.As(err, &e) || e.Err != ErrNotRunning || e.Op != "watch" {
		t.Errorf("Open with supervise gone: %v", err)
	}
}
