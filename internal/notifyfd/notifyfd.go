// Package notifyfd is s6's readiness convention: the service directory's
// notification-fd file names a descriptor, ./run gets the write end of a
// pipe there, and the first newline written to it means "ready". The
// supervisor then closes its end, as s6-supervise does: a daemon writes
// its newline and closes the descriptor.
package notifyfd

import (
	"bytes"
	"strconv"

	"golang.org/x/sys/unix"
)

// File is the setting's name, relative to a service directory.
const File = "notification-fd"

// stdio names what descriptors 0-2 already are for ./run.
var stdio = [3]string{"standard input", "standard output", "standard error"}

// ParseError says why the contents of the file are not a descriptor
// number for ./run.
type ParseError struct{ Why string }

func (e *ParseError) Error() string { return e.Why }

// Parse reads the file's contents: a decimal descriptor number of at least
// 3 and below limit (./run's RLIMIT_NOFILE), optionally followed by a
// newline.
func Parse(b []byte, limit int) (int, error) {
	text := bytes.TrimSuffix(b, []byte{'\n'})
	if len(text) == 0 {
		return 0, &ParseError{"empty, not a descriptor number"}
	}
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, &ParseError{strconv.Quote(string(text[:min(len(text), 20)])) + " is not a descriptor number"}
		}
	}
	fd, err := strconv.Atoi(string(text))
	switch {
	case err != nil || fd >= limit:
		return 0, &ParseError{"descriptor " + string(text[:min(len(text), 20)]) + " is beyond ./run's limit of " + strconv.Itoa(limit)}
	case fd < len(stdio):
		return 0, &ParseError{"descriptor " + strconv.Itoa(fd) + " is already ./run's " + stdio[fd]}
	}
	return fd, nil
}

// State is what the pipe has told so far.
type State int

const (
	Waiting State = iota // no newline yet
	Ready                // a newline came; the pipe is closed
	Closed               // every writer closed it before a newline
)

// Pipe is one start's readiness pipe.
type Pipe struct {
	Read  int // the supervisor's end, non-blocking, to poll; -1 once closed
	Write int // ./run's end, to pass to it and then close with CloseWrite
}

// NewPipe makes a pipe whose ends are both closed on exec: the write end
// reaches ./run only by being placed at its descriptor number.
func NewPipe() (Pipe, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return Pipe{Read: -1, Write: -1}, err
	}
	// ./run's end blocks, as a descriptor a daemon inherits should.
	if err := unix.SetNonblock(p[1], false); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return Pipe{Read: -1, Write: -1}, err
	}
	return Pipe{Read: p[0], Write: p[1]}, nil
}

// CloseWrite closes the supervisor's copy of ./run's end, once ./run has
// it, so that the pipe reads as closed when ./run and its children have
// all closed theirs.
func (p *Pipe) CloseWrite() {
	if p.Write >= 0 {
		unix.Close(p.Write)
		p.Write = -1
	}
}

// Close closes both ends.
func (p *Pipe) Close() {
	p.CloseWrite()
	if p.Read >= 0 {
		unix.Close(p.Read)
		p.Read = -1
	}
}

// Scan reads what is waiting in the pipe (at most a pipe's worth, so that
// a writer that never stops cannot keep the supervisor here), without
// blocking and without keeping it, and says where the pipe stands. Once
// Ready or Closed, the pipe is closed.
func (p *Pipe) Scan() State {
	var b [4096]byte
	for range 16 {
		if p.Read < 0 {
			return Closed
		}
		n, err := unix.Read(p.Read, b[:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return Waiting
		case err != nil || n == 0:
			p.Close()
			return Closed
		case bytes.IndexByte(b[:n], '\n') >= 0:
			p.Close()
			return Ready
		}
	}
	return Waiting
}
