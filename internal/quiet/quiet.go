// Package quiet is for a daemon that spends its life waiting, as svscan
// does: it waits for descriptors and deadlines, and makes the few system
// calls of a periodic scan, without waking the Go runtime beyond the wait
// itself.
//
// Why: while every goroutine waits, the runtime's monitor thread (sysmon)
// sleeps until the next Go timer, or a minute at most. A Go timer wakes it
// as well as the goroutine; so does the first system call made through the
// usual path (the runtime's entersyscall) while it sleeps, after which it
// polls every 20 µs until the process waits again. A scan every five
// seconds cost svscan several wake-ups each instead of one. Here the wait
// parks the goroutine in the runtime's poller, on an epoll descriptor of
// our own; a deadline is a timerfd in that epoll set; and the calls that
// never block for long (stat, getdents, wait4 without waiting, reads of
// ready descriptors) go to the kernel directly.
package quiet

import (
	"bytes"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

// NewPoller returns a Poller watching nothing yet.
func NewPoller() (*Poller, error) {
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
	return unix.EpollCtl(p.epoll, unix.EPOLL_CTL_ADD, fd, &ev)
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
			Read(p.timer, b[:])
			timedOut = true
			continue
		}
		events[n] = ev
		n++
	}
	return n, timedOut, nil
}

// Read is read(2) of a descriptor that does not block (non-blocking, or
// known to be ready).
func Read(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(p), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// File is what Stat tells of a file.
type File struct {
	Mode     uint16 // type and permissions, as st_mode
	Dev, Ino uint64
}

// IsDir tells whether the file is a directory.
func (f File) IsDir() bool { return f.Mode&unix.S_IFMT == unix.S_IFDIR }

// Stat is stat(2) of path, relative to the directory open as at (or to
// the working directory for unix.AT_FDCWD), links followed.
func Stat(at int, path string) (File, error) {
	name, err := unix.BytePtrFromString(path)
	if err != nil {
		return File{}, err
	}
	return stat(at, name, 0)
}

// StatName is Stat of a name as Entries gives it, without copying it.
func StatName(at int, name []byte) (File, error) { return statName(at, name, 0) }

// LstatName is StatName of a name followed by a NUL in its slice's
// capacity, as Entries gives them, but a symbolic link is the link itself.
func LstatName(at int, name []byte) (File, error) {
	return statName(at, name, unix.AT_SYMLINK_NOFOLLOW)
}

func statName(at int, name []byte, flags int) (File, error) {
	if len(name) == 0 || len(name) == cap(name) || name[:len(name)+1][len(name)] != 0 {
		p, err := unix.BytePtrFromString(string(name))
		if err != nil {
			return File{}, err
		}
		return stat(at, p, flags)
	}
	return stat(at, &name[0], flags)
}

func stat(at int, name *byte, flags int) (File, error) {
	var st unix.Statx_t
	_, _, e := unix.RawSyscall6(unix.SYS_STATX, uintptr(at), uintptr(unsafe.Pointer(name)), uintptr(flags), unix.STATX_TYPE|unix.STATX_INO, uintptr(unsafe.Pointer(&st)), 0)
	if e != 0 {
		return File{}, e
	}
	return File{Mode: st.Mode, Dev: unix.Mkdev(st.Dev_major, st.Dev_minor), Ino: st.Ino}, nil
}

// Entries calls f with the name of every entry of the directory open as
// dir but . and .., read from its start in as few reads as buf allows. A
// name is f's for the call only: it is in buf, followed by a NUL, and
// StatName takes it as it is, so that reading a directory costs no
// memory.
func Entries(dir int, buf []byte, f func(name []byte)) error {
	if _, _, e := unix.RawSyscall(unix.SYS_LSEEK, uintptr(dir), 0, 0); e != 0 {
		return e
	}
	for {
		r, _, e := unix.RawSyscall(unix.SYS_GETDENTS64, uintptr(dir), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		switch {
		case e == unix.EINTR:
			continue
		case e != 0:
			return e
		case r == 0:
			return nil
		}
		for off := 0; off < int(r); {
			d := (*unix.Dirent)(unsafe.Pointer(&buf[off]))
			name := buf[off+int(unsafe.Offsetof(d.Name)) : off+int(d.Reclen)]
			off += int(d.Reclen)
			name = name[:bytes.IndexByte(name, 0)]
			if d.Ino != 0 && string(name) != "." && string(name) != ".." {
				f(name)
			}
		}
	}
}

// Exited is the pid of a child that has exited, left to be reaped (waitid
// with WNOWAIT), so that the caller can tell whose it is first: 0 when
// none has.
func Exited() int {
	for {
		var info unix.Siginfo
		_, _, e := unix.RawSyscall6(unix.SYS_WAITID, unix.P_ALL, 0, uintptr(unsafe.Pointer(&info)), unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0
		}
		return int((*childInfo)(unsafe.Pointer(&info)).pid)
	}
}

// childInfo is the start of a siginfo_t as waitid fills it in.
type childInfo struct {
	signo, errno, code, _ int32
	pid                   int32
}

// Reap collects the child pid if it has exited, without waiting, and
// tells how it ended.
func Reap(pid int) (status unix.WaitStatus, reaped bool) {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(&status)), unix.WNOHANG, 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		return status, e == 0 && int(r) == pid
	}
}
