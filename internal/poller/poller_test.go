package poller

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
)

func TestWaitForDescriptorOrTimeout(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	defer unix.Close(pipe[1])
	if err := p.Add(pipe[0], 7); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 4)

	if n, err := p.Wait(events, 0); n != 0 || err != nil {
		t.Fatalf("nothing ready: Wait(0) = %d, %v", n, err)
	}
	start := time.Now()
	if n, err := p.Wait(events, 20*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("nothing ready: Wait(20ms) = %d, %v", n, err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("Wait(20ms) returned after %v", waited)
	}

	go func() {
		time.Sleep(10 * time.Millisecond)
		unix.Write(pipe[1], []byte("x"))
	}()
	n, err := p.Wait(events, -1)
	if n != 1 || err != nil || events[0].Fd != 7 {
		t.Fatalf("pipe written: Wait = %d, %v, %+v", n, err, events[:max(n, 0)])
	}
	var b [8]byte
	if k, err := rawsys.Read(pipe[0], b[:]); k != 1 || err != nil || b[0] != 'x' {
		t.Errorf("Read = %d, %v, %q", k, err, b[:max(k, 0)])
	}
	if _, err := rawsys.Read(pipe[0], b[:]); err != unix.EAGAIN {
		t.Errorf("Read of an empty pipe: %v, want EAGAIN", err)
	}
	// A timeout set by an earlier Wait does not linger.
	if n, err := p.Wait(events, 0); n != 0 || err != nil {
		t.Errorf("read out: Wait(0) = %d, %v", n, err)
	}
}
