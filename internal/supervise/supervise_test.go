package supervise

import (
	"bytes"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/control"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// TestWithoutPidfd runs a supervisor in-process on the path taken when the
// kernel has no pidfd_open: SIGCHLD through a pipe. A ./run that exits at
// once must be noticed and started again.
func TestWithoutPidfd(t *testing.T) {
	var p [2]int
	testbin.Must(t, syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK))
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	defer signal.Stop(sigchld)
	go func() {
		for range sigchld {
			syscall.Write(p[1], []byte{0})
		}
	}()
	dir := t.TempDir()
	testbin.Must(t, os.WriteFile(dir+"/run", []byte("#!/bin/sh\necho $$ >>starts\n"), 0o755))
	var stderr bytes.Buffer
	s, err := Open(Options{Dir: dir, Env: os.Environ(), Stdio: [3]int{0, 1, 2}, Stderr: &stderr, ChildSignal: p[0]})
	testbin.Must(t, err)
	defer s.Close()
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	svtest.WaitFor(t, 5*time.Second, "two starts", func() bool {
		b, _ := os.ReadFile(dir + "/starts")
		return strings.Count(string(b), "\n") >= 2
	})
	testbin.Must(t, control.Send(dir, []byte("dx")))
	select {
	case <-done:
		if stderr.Len() != 0 {
			t.Errorf("stderr %q", stderr.String())
		}
	case <-time.After(svtest.Scaled(5 * time.Second)):
		t.Fatal("supervisor did not exit on dx")
	}
}

// TestTimeout checks poll's timeout in each state: none while a pidfd or
// the SIGCHLD pipe will say when ./run exits, a second while only looking
// can tell, and the rest of the restart gap while a start is due.
func TestTimeout(t *testing.T) {
	now := time.Now()
	running := child{pid: 10, pidfd: -1}
	for _, tc := range []struct {
		name     string
		s        Supervisor
		min, max int
	}{
		{"up, pidfd", Supervisor{phase: up, child: child{pid: 10, pidfd: 3}, opt: Options{ChildSignal: -1}}, -1, -1},
		{"up, SIGCHLD pipe", Supervisor{phase: up, child: running, opt: Options{ChildSignal: 3}}, -1, -1},
		{"up, no pidfd", Supervisor{phase: up, child: running, opt: Options{ChildSignal: -1}}, 1000, 1000},
		{"down", Supervisor{child: noChild, opt: Options{ChildSignal: -1}}, -1, -1},
		{"start due", Supervisor{child: noChild, alarm: now.Add(700 * time.Millisecond)}, 700, 700},
		{"start overdue", Supervisor{child: noChild, alarm: now.Add(-5 * time.Second)}, 0, 0},
		{"stopping, KILL due", Supervisor{phase: stopping, child: child{pid: 10, pidfd: 3}, alarm: now.Add(300 * time.Millisecond)}, 300, 300},
		{"no pidfd, KILL due sooner", Supervisor{phase: stopping, child: running, opt: Options{ChildSignal: -1}, alarm: now.Add(300 * time.Millisecond)}, 300, 300},
		{"no pidfd, KILL due later", Supervisor{phase: stopping, child: running, opt: Options{ChildSignal: -1}, alarm: now.Add(3 * time.Second)}, 1000, 1000},
	} {
		if got := tc.s.Timeout(now); got < tc.min || got > tc.max {
			t.Errorf("%s: timeout %d, want %d to %d", tc.name, got, tc.min, tc.max)
		}
	}
}
