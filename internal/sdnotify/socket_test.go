package sdnotify

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func listen(t *testing.T) *Socket {
	t.Helper()
	s, err := Listen()
	testbin.Must(t, err)
	t.Cleanup(s.Close)
	return s
}

// patience is how long, in milliseconds, to wait for a datagram before
// calling the test failed.
var patience = int(svtest.Scaled(2*time.Second) / time.Millisecond)

// receive polls s until a datagram arrives.
func receive(t *testing.T, s *Socket) Datagram {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(s.Fd()), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, patience); n != 1 {
		t.Fatalf("no datagram: %v", err)
	}
	d, err := s.Receive()
	testbin.Must(t, err)
	return d
}

// send sends b to the socket named name from a socket of its own, with
// descriptors fds along.
func send(t *testing.T, name string, b []byte, fds ...int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	testbin.Must(t, err)
	defer unix.Close(fd)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	testbin.Must(t, unix.Sendmsg(fd, b, oob, &unix.SockaddrUnix{Name: name}, 0))
}

// The socket has an abstract name that the client side (Ready, as a
// daemon would) reaches, and every datagram comes with the sender's pid
// and uid.
func TestSocketReceives(t *testing.T) {
	s := listen(t)
	if !strings.HasPrefix(s.Name(), "@") || len(s.Name()) < 2 {
		t.Fatalf("name %q is not abstract", s.Name())
	}
	if _, err := s.Receive(); err != unix.EAGAIN {
		t.Fatalf("Receive on an empty socket: %v, want EAGAIN", err)
	}
	testbin.Must(t, Ready(s.Name()))
	d := receive(t, s)
	if string(d.Text) != "READY=1" || d.Size != 7 || d.Pid != os.Getpid() || d.Uid != os.Getuid() {
		t.Errorf("got %+v %q, want READY=1 from pid %d uid %d", d, d.Text, os.Getpid(), os.Getuid())
	}
	// A second socket gets a name of its own; a closed one's name is free.
	s2 := listen(t)
	if s2.Name() == s.Name() {
		t.Errorf("two sockets named %q", s.Name())
	}
	s2.Close()
	if err := Ready(s2.Name()); err == nil {
		t.Errorf("sent to %q after Close", s2.Name())
	}
}

// A datagram longer than MaxSize is read whole from the queue (the next
// one is intact) and its true size is told.
func TestSocketLongDatagram(t *testing.T) {
	s := listen(t)
	testbin.Must(t, unix.SetsockoptInt(s.Fd(), unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20))
	big := bytes.Repeat([]byte("STATUS=x\n"), 65536/9)
	send(t, s.Name(), big)
	send(t, s.Name(), []byte("READY=1"))
	if d := receive(t, s); d.Size != len(big) || len(d.Text) != MaxSize {
		t.Errorf("long datagram: size %d, %d bytes kept; want %d, %d", d.Size, len(d.Text), len(big), MaxSize)
	}
	if d := receive(t, s); string(d.Text) != "READY=1" {
		t.Errorf("after the long datagram: %q", d.Text)
	}
}

// Descriptors sent along are closed on receipt: the sender's barrier (a
// pipe whose write end it sends) sees end-of-file, and none leaks here.
func TestSocketClosesPassedDescriptors(t *testing.T) {
	s := listen(t)
	var p [2]int
	testbin.Must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	defer unix.Close(p[0])
	send(t, s.Name(), []byte("BARRIER=1"), p[1], p[1], p[1])
	unix.Close(p[1])
	before := openDescriptors(t)
	d := receive(t, s)
	if string(d.Text) != "BARRIER=1" {
		t.Errorf("got %q", d.Text)
	}
	if after := openDescriptors(t); after != before {
		t.Errorf("%d descriptors open before Receive, %d after", before, after)
	}
	var b [1]byte
	if n, err := unix.Read(p[0], b[:]); n != 0 || err != nil {
		t.Errorf("barrier pipe: read %d, %v; want end-of-file", n, err)
	}
}

func openDescriptors(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	testbin.Must(t, err)
	return len(ents)
}

// A flood of datagrams costs no memory past the socket's own: the
// kernel's queue is bounded and Receive reuses its buffers.
func TestSocketFlood(t *testing.T) {
	s := listen(t)
	done := make(chan error, 1)
	go func() {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			to := &unix.SockaddrUnix{Name: s.Name()}
			for i := 0; i < 10000 && err == nil; i++ {
				err = unix.Sendto(fd, []byte("WATCHDOG=1\nSTATUS=flooding"), 0, to)
			}
			unix.Close(fd)
		}
		done <- err
	}()
	got := 0
	fds := []unix.PollFd{{Fd: int32(s.Fd()), Events: unix.POLLIN}}
	for got < 10000 {
		if n, _ := unix.Poll(fds, patience); n == 0 {
			t.Fatalf("flood stalled after %d datagrams", got)
		}
		for {
			d, err := s.Receive()
			if err == unix.EAGAIN {
				break
			}
			testbin.Must(t, err)
			if m, err := Parse(d.Text); err != nil || m.Events != EventWatchdog {
				t.Fatalf("datagram %d: %+v %v", got, m, err)
			}
			got++
		}
	}
	testbin.Must(t, <-done)
	// Receiving allocates only the control messages' small slice.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	testbin.Must(t, err)
	defer unix.Close(fd)
	testbin.Must(t, unix.Connect(fd, &unix.SockaddrUnix{Name: s.Name()}))
	watchdog := []byte("WATCHDOG=1")
	allocs := testing.AllocsPerRun(100, func() {
		unix.Write(fd, watchdog)
		if _, err := s.Receive(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations per datagram received", allocs)
	}
}
