package supervise

import (
	"bytes"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/health"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// drive is the driver's side of the contract in its plainest form: it
// polls every descriptor Watched lists, and sigchld (a pipe that gets a
// byte on every SIGCHLD; -1 for none), until Timeout, then Steps, until
// the supervisor is Done.
func drive(s *Supervisor, sigchld int) {
	s.Begin(time.Now())
	for !s.Done() {
		var fds []unix.PollFd
		for _, fd := range s.Watched(nil) {
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		if sigchld >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(sigchld), Events: unix.POLLIN})
		}
		timeout := -1
		if d := s.Timeout(time.Now()); d >= 0 {
			timeout = int((d + time.Millisecond - 1) / time.Millisecond)
		}
		unix.Poll(fds, timeout)
		if sigchld >= 0 {
			var b [64]byte
			unix.Read(sigchld, b[:])
		}
		s.Step(time.Now())
	}
	s.End()
}

// TestWithoutPidfd runs a supervisor whose child has no pidfd, as on a
// kernel without them: it learns of the exit from the Step its driver
// makes on SIGCHLD, and a ./run that exits at once is started again.
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
	testbin.Must(t, os.WriteFile(dir+"/run", []byte("#!/bin/sh\necho $$ >>starts\nexec sleep 0.2\n"), 0o755))
	var stderr bytes.Buffer
	s, err := Open(Options{Dir: dir, Env: os.Environ(), Stdio: [3]int{0, 1, 2}, Stderr: &stderr})
	testbin.Must(t, err)
	defer s.Close()
	s.Begin(time.Now())
	s.child.release() // what a kernel without pidfds leaves: the pid alone
	s.child.pid, _ = strconv.Atoi(waitLines(t, dir+"/starts", 1)[0])
	done := make(chan struct{})
	go func() { drive(s, p[0]); close(done) }()
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
