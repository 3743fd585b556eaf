package sigevent

import (
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
)

// wait polls the Events' descriptor as a loop would, and gathers what
// arrives until want has, or the deadline passes.
func wait(t *testing.T, e *Events, want Set) Set {
	t.Helper()
	var got Set
	deadline := time.Now().Add(svtest.Scaled(5 * time.Second))
	for got&want != want && time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(e.Fd()), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 100); n == 1 {
			e.Drain()
			got |= e.Take()
		}
	}
	return got
}

func TestSignalsBecomeEvents(t *testing.T) {
	e, err := Notify(syscall.SIGUSR1, syscall.SIGUSR2)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.Take(); got != 0 {
		t.Fatalf("before any signal: %b", got)
	}
	unix.Kill(unix.Getpid(), unix.SIGUSR2)
	if got := wait(t, e, 1<<syscall.SIGUSR2); got != 1<<syscall.SIGUSR2 {
		t.Fatalf("after USR2: %b", got)
	}
	// Drained and taken: the descriptor is quiet, the set empty.
	fds := []unix.PollFd{{Fd: int32(e.Fd()), Events: unix.POLLIN}}
	if n, _ := unix.Poll(fds, 0); n != 0 || e.Take() != 0 {
		t.Fatalf("after taking: readable %d, set %b", n, e.Take())
	}
}

// A flood of one signal, more than the pipe holds bytes for, never hides
// another: each kind counts once, as the kernel counts it.
func TestFloodHidesNothing(t *testing.T) {
	e, err := Notify(syscall.SIGUSR1, syscall.SIGUSR2)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i := 0; i < 100000; i++ {
		unix.Kill(unix.Getpid(), unix.SIGUSR1)
	}
	unix.Kill(unix.Getpid(), unix.SIGUSR2)
	want := Set(1<<syscall.SIGUSR1 | 1<<syscall.SIGUSR2)
	if got := wait(t, e, want); got != want {
		t.Fatalf("got %b, want %b", got, want)
	}
}

func TestSetEachInOrder(t *testing.T) {
	s := Set(1<<syscall.SIGTERM | 1<<syscall.SIGHUP | 1<<syscall.SIGCHLD)
	var got []syscall.Signal
	s.Each(func(sig syscall.Signal) { got = append(got, sig) })
	want := []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGCHLD}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s.Has(syscall.SIGINT) || !s.Has(syscall.SIGCHLD) || s.Has(0) || s.Has(64) {
		t.Fatal("Has")
	}
}
