// Package poller waits, for a daemon that spends its life waiting as
// svscan does, on descriptors and deadlines without waking the Go runtime
// beyond the wait itself.
//
// Why: while every goroutine waits, the runtime's monitor thread (sysmon)
// sleeps until the next Go timer, or a minute at most. A Go timer wakes it
// as well as the goroutine; so does the first system call made through the
// usual path (the runtime's entersyscall) while it sleeps, after which it
// polls every 20 µs until the process waits again. Here the wait parks the
// goroutine in the runtime's poller, on an epoll descriptor of our own,
// and a deadline is a timerfd in that epoll set. The calls made between
// two waits go through internal/rawsys for the same reason.
package poller

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
)

// timerKey is the timerfd's key in the epoll set; a caller's keys are 0 or more.
const timerKey = -1

// Poller waits for descriptors to become readable, or for a timeout.
type Poller struct {
	epoll int
	timer int
	file  *os.File // the epoll descriptor, which the Go runtime polls
	conn  syscall.RawConn
}

// New returns a Poller watching nothing yet.
func New() (*Poller, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	timer, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, err
	}
	p := &Poller{epoll: ep, timer: timer}
	// Non-blocking, the descriptor goes into the runtime's poller.
	if err = unix.SetNonblock(ep, true); err == nil {
		err = p.Add(timer, timerKey)
	}
	if err == nil {
		p.file = os.NewFile(uintptr(ep), "epoll")
		p.conn, err = p.file.SyscallConn()
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close releases the Poller's descriptors; the watched ones stay open.
func (p *Poller) Close() {
	unix.Close(p.timer)
	if p.file != nil {
		p.file.Close()
	} else {
		unix.Close(p.epoll)
	}
}

// Add watches fd for reading; Wait reports it under key, 0 or more.
func (p *Poller) Add(fd int, key int32) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: key}
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(p.epoll), unix.EPOLL_CTL_ADD, uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Wait waits until a watched descriptor is readable or timeout has passed
// (a negative timeout: for ever), and fills events with what is ready:
// none when the time is up.
func (p *Poller) Wait(events []unix.EpollEvent, timeout time.Duration) (int, error) {
	if timeout == 0 {
		n, _, err := p.take(events)
		return n, err
	}
	var when unix.ItimerSpec // zero disarms
	if timeout > 0 {
		when.Value = unix.NsecToTimespec(int64(timeout))
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(p.timer), 0, uintptr(unsafe.Pointer(&when)), 0, 0, 0); e != 0 {
		return 0, e
	}
	var n int
	var werr error
	err := p.conn.Read(func(uintptr) bool {
		var timedOut bool
		n, timedOut, werr = p.take(events)
		return n > 0 || timedOut || werr != nil
	})
	if err != nil {
		return 0, err
	}
	return n, werr
}

// take fills events with what is ready, leaving out the timer, and tells
// whether the timer had expired.
func (p *Poller) take(events []unix.EpollEvent) (n int, timedOut bool, err error) {
	if len(events) == 0 {
		return 0, false, nil
	}
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epoll), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e == unix.EINTR {
		return 0, false, nil
	}
	if e != 0 {
		return 0, false, e
	}
	for _, ev := range events[:r] {
		if ev.Fd == timerKey {
			var b [8]byte
			rawsys.Read(p.timer, b[:])
			timedOut = true
			continue
		}
		events[n] = ev
		n++
	}
	return n, timedOut, nil
}
