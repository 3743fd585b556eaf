// Package control is the FIFO protocol between supervise and its clients.
// supervise reads one-byte commands from supervise/control and holds
// supervise/ok open for reading; a client opens either FIFO for writing
// without blocking, so the open fails with ENXIO ("supervise not running")
// exactly when no supervise holds the reading end.
package control

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// The FIFOs, relative to a service directory.
const (
	ControlFile = "supervise/control"
	OkFile      = "supervise/ok"
)

// ErrNotRunning means no supervise has the FIFO open for reading.
var ErrNotRunning = errors.New("supervise not running")

// Error is a failed step of the protocol: Verb says what could not be done
// ("create", "read", "write"), File which FIFO it was done to.
type Error struct {
	Verb string
	File string
	Err  error
}

func (e *Error) Error() string { return "unable to " + e.Verb + " " + e.File + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// openWrite opens a FIFO for writing without waiting for a reader.
func openWrite(file string) (int, error) {
	fd, err := syscall.Open(file, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err == syscall.ENXIO {
		return -1, ErrNotRunning
	}
	return fd, err
}

// Send writes commands to the control FIFO of the service in dir. It
// returns ErrNotRunning when no supervise listens, an *Error with Verb
// "write" when the commands could not all be written, else the system's
// error from opening the FIFO.
func Send(dir string, commands []byte) error {
	file := dir + "/" + ControlFile
	fd, err := openWrite(file)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	// Blocking from here: a full FIFO means wait for supervise to read.
	if err := syscall.SetNonblock(fd, false); err != nil {
		return &Error{Verb: "write", File: file, Err: err}
	}
	for len(commands) > 0 {
		n, err := syscall.Write(fd, commands)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &Error{Verb: "write", File: file, Err: err}
		}
		commands = commands[n:]
	}
	return nil
}

// Running tells whether a supervise runs for the service in dir: it opens
// the ok FIFO for writing. Not running is (false, nil); any other failure
// to open (no supervise/ok at all, for one) is returned.
func Running(dir string) (bool, error) {
	fd, err := openWrite(dir + "/" + OkFile)
	if err == ErrNotRunning {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	syscall.Close(fd)
	return true, nil
}

// Listener is supervise's end of the protocol in one service directory.
type Listener struct {
	Commands int // read end of the control FIFO, non-blocking, for poll(2)
	keep     int // write end of control, so reads never see end-of-file
	ok       int // read end of the ok FIFO
	dir      int // the service directory
}

// Listen makes the control FIFO (mode 0600) in the service directory dir
// (a descriptor) and opens it for reading and writing. Call Ready
// afterwards to open the ok FIFO, and Close when done.
func Listen(dir int) (*Listener, error) {
	if err := mkfifo(dir, ControlFile); err != nil {
		return nil, err
	}
	r, err := unix.Openat(dir, ControlFile, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Verb: "read", File: ControlFile, Err: err}
	}
	w, err := unix.Openat(dir, ControlFile, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		syscall.Close(r)
		return nil, &Error{Verb: "write", File: ControlFile, Err: err}
	}
	return &Listener{Commands: r, keep: w, ok: -1, dir: dir}, nil
}

// Post writes commands into the control FIFO through the write end the
// listener holds, as a client would, waiting while the FIFO is full.
func (l *Listener) Post(commands []byte) error {
	for len(commands) > 0 {
		n, err := syscall.Write(l.keep, commands)
		switch {
		case n > 0:
			commands = commands[n:]
		case err == syscall.EAGAIN:
			unix.Poll([]unix.PollFd{{Fd: int32(l.keep), Events: unix.POLLOUT}}, -1)
		case err != syscall.EINTR:
			return &Error{Verb: "write", File: ControlFile, Err: err}
		}
	}
	return nil
}

// Ready makes the ok FIFO (mode 0600) and opens it for reading, from which
// moment clients see supervise running.
func (l *Listener) Ready() error {
	if err := mkfifo(l.dir, OkFile); err != nil {
		return err
	}
	fd, err := unix.Openat(l.dir, OkFile, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &Error{Verb: "read", File: OkFile, Err: err}
	}
	l.ok = fd
	return nil
}

// Close closes both FIFOs, from which moment clients see supervise gone.
func (l *Listener) Close() {
	for _, fd := range []int{l.Commands, l.keep, l.ok} {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
	l.Commands, l.keep, l.ok = -1, -1, -1
}

func mkfifo(dir int, file string) error {
	if err := unix.Mkfifoat(dir, file, 0o600); err != nil && err != syscall.EEXIST {
		return &Error{Verb: "create", File: file, Err: err}
	}
	return nil
}
