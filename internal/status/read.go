package status

import "golang.org/x/sys/unix"

// ReadError is a failure of Read to open or read the file: Op is "open" or
// "read".
type ReadError struct {
	Op  string
	Err error
}

func (e *ReadError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// Read reads the record in file as daemontools' svstat does, opening it
// without blocking: a FIFO with no writer is empty, so ErrBadFormat, and
// one whose writer has said nothing fails with EAGAIN. What one read
// returns, or a read to the end, decides: a short record is ErrBadFormat.
func Read(file string) (Status, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return Status{}, &ReadError{Op: "open", Err: err}
	}
	defer unix.Close(fd)
	var b [Size]byte
	n := 0
	for n < Size {
		r, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil && n == 0 {
			return Status{}, &ReadError{Op: "read", Err: err}
		}
		if err != nil || r == 0 {
			break
		}
		n += r
	}
	return Decode(b[:n])
}
