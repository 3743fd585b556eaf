package supervise

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/health"
	"daemontools/internal/status"
)

// TestWithoutPidfd steps a supervisor whose ./run has no pidfd, as on a
// kernel without them (before Linux 5.2): Watched gives the driver nothing
// to watch for its exit, so the driver Steps on SIGCHLD; a Step while it
// runs does nothing, and the Step after it exited reaps it (through its
// pid: child.wait, rawsys.Reap) and starts ./run again.
func TestWithoutPidfd(t *testing.T) {
	w := newWorld()
	s, stderr := inState(running, w)
	s.ready, s.alarm = newReadiness(), time.Time{} // no readiness, no watchdog
	s.ctl = &control.Listener{Commands: -1}        // a FIFO with nothing to read
	if got := s.Watched(nil); !slices.Equal(got, []int{-1}) {
		t.Errorf("Watched %v, want the control FIFO alone", got)
	}
	s.Step(t0)
	if len(w.calls) != 0 || len(w.written) != 0 {
		t.Errorf("a Step while ./run runs: %q, %d records", w.calls, len(w.written))
	}
	w.exits[100] = exit{0, 0}
	s.Step(t0)
	want := []string{"reap 100", "mark, start run", "unmark"}
	if !slices.Equal(w.calls, want) {
		t.Errorf("calls %q, want %q", w.calls, want)
	}
	var got []string
	for _, r := range w.written {
		got = append(got, summary(r))
	}
	if want := []string{"running pid=1001 want=u exit=0/0 restarts=1"}; !slices.Equal(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}

// The mark of a start under way is cleared once a record naming the new
// ./run is written, not before: while the record cannot be written, the
// mark is all a next supervisor would find. It is cleared by the first
// record written after that, with a warning for each failure.
func TestMarkClearedByRecord(t *testing.T) {
	w := newWorld()
	s, stderr := inState(stopped, w)
	w.writeErr = &status.WriteError{Op: "open", File: status.File + ".new", Err: unix.ENOSPC}
	s.dispatch(t0, input{ev: evUp})
	if want := []string{"mark, start run"}; !slices.Equal(w.calls, want) || len(w.unmarks) != 0 {
		t.Errorf("record not written: calls %q, want %q", w.calls, want)
	}
	w.writeErr = nil
	s.dispatch(t0, input{ev: evPause})
	s.dispatch(t0, input{ev: evContinue})
	if want := []string{"mark, start run", "signal 1001 SIGSTOP", "unmark", "signal 1001 SIGCONT"}; !slices.Equal(w.calls, want) || !slices.Equal(w.unmarks, []int{1}) {
		t.Errorf("calls %q, want %q; records written before each unmark %v, want [1]", w.calls, want, w.unmarks)
	}
	if got, want := stderr.String(), "supervise: warning: unable to open svc/supervise/status.new: out of disk space\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// runsv's files are each written only when what they say changes: a
// restart after a crash replaces supervise/pid, and leaves supervise/stat
// saying "run".
func TestRunitFilesWhenChanged(t *testing.T) {
	w := newWorld()
	s, _ := inState(running, w)
	s.dispatch(t0, input{ev: evPause})
	s.dispatch(t0, input{ev: evContinue})
	s.dispatch(t0, input{ev: evRunExited, exit: exit{1, 0}})
	if want := []string{"pid stat", "stat", "pid"}; !slices.Equal(w.runit, want) {
		t.Errorf("files written %q, want %q", w.runit, want)
	}
}

// TestTimeout checks the driver's timeout in each state: none while
// nothing is due, the rest of the restart gap while a start is due, and
// until KILL while a stop runs.
func TestTimeout(t *testing.T) {
	now := time.Now()
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		s    Supervisor
		want time.Duration
	}{
		{"up", Supervisor{state: running, child: child{pid: 10, pidfd: 3}}, -1},
		{"up, no pidfd", Supervisor{state: running, child: child{pid: 10, pidfd: -1}}, -1},
		{"down", Supervisor{child: noChild}, -1},
		{"start due", Supervisor{state: backoff, child: noChild, alarm: now.Add(700 * ms)}, 700 * ms},
		{"start overdue", Supervisor{state: backoff, child: noChild, alarm: now.Add(-5 * time.Second)}, 0},
		{"stopping, KILL due", Supervisor{state: stopping, child: child{pid: 10, pidfd: 3}, alarm: now.Add(300 * ms)}, 300 * ms},
	} {
		tc.s.probe = health.New()
		if got := tc.s.Timeout(now); got != tc.want {
			t.Errorf("%s: timeout %v, want %v", tc.name, got, tc.want)
		}
	}
}
