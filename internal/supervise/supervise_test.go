package supervise

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/svtest"
)

// TestWithoutPidfd runs the supervisor in-process on the paths taken when
// the kernel has no pidfd_open (SIGCHLD through a pipe) and when it fails
// for ./run alone (a look once a second): in both, a ./run that exits at
// once must be noticed and started again.
func TestWithoutPidfd(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(pid int, flags int) (int, error)
	}{
		{"no pidfd_open", func(int, int) (int, error) { return -1, syscall.ENOSYS }},
		{"pidfd_open fails for run", func(pid, flags int) (int, error) {
			if pid == os.Getpid() {
				return unix.PidfdOpen(pid, flags)
			}
			return -1, syscall.EMFILE
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidfdOpen = tc.open
			defer func() { pidfdOpen = unix.PidfdOpen }()
			dir := t.TempDir()
			if err := os.WriteFile(dir+"/run", []byte("#!/bin/sh\necho $$ >>starts\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			var stderr bytes.Buffer
			done := make(chan error)
			go func() { done <- Run(".", os.Environ(), &stderr) }()
			svtest.WaitFor(t, 5*time.Second, "two starts", func() bool {
				b, _ := os.ReadFile(dir + "/starts")
				return strings.Count(string(b), "\n") >= 2
			})
			if err := control.Send(dir, []byte("dx")); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil || stderr.Len() != 0 {
					t.Errorf("Run: %v, stderr %q", err, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("supervisor did not exit on dx")
			}
		})
	}
}

// TestTimeout checks poll's timeout in each state: none while a pidfd or
// the SIGCHLD pipe will say when ./run exits, a second while only looking
// can tell, and the rest of the restart gap while a start is owed.
func TestTimeout(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		s        supervisor
		min, max int
	}{
		{"up, pidfd", supervisor{pid: 10, pidfd: 3, sigchld: -1}, -1, -1},
		{"up, SIGCHLD pipe", supervisor{pid: 10, pidfd: -1, sigchld: 3}, -1, -1},
		{"up, no pidfd", supervisor{pid: 10, pidfd: -1, sigchld: -1}, 1000, 1000},
		{"down", supervisor{pidfd: -1, sigchld: -1, lastStart: now}, -1, -1},
		{"start owed", supervisor{pidfd: -1, sigchld: -1, owed: true, lastStart: now.Add(-300 * time.Millisecond)}, 600, 701},
		{"start overdue", supervisor{pidfd: -1, sigchld: -1, owed: true, lastStart: now.Add(-5 * time.Second)}, 0, 0},
	} {
		if got := tc.s.timeout(); got < tc.min || got > tc.max {
			t.Errorf("%s: timeout %d, want %d to %d", tc.name, got, tc.min, tc.max)
		}
	}
}
