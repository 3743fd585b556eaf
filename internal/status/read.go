package status

import "golang.org/x/sys/unix"

// ReadError is a failure of ReadAll to open or read the file: Op is
// "open" or "read".
type ReadError struct {
	Op  string
	Err error
}

func (e *ReadError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// ReadAll reads the record in file as daemontools' svstat does, opening
// it without blocking: a FIFO with no writer is empty, so ErrBadFormat,
// and one whose writer has said nothing fails with EAGAIN. What one read
// returns, or a read to the end, decides; DecodeAll decodes it.
func ReadAll(file string) (Status, error) {
	return ReadAllAt(unix.AT_FDCWD, file)
}

// ReadAllAt is ReadAll of file relative to the directory descriptor dir.
func ReadAllAt(dir int, file string) (Status, error) {
	b, err := read(dir, file)
	if err != nil {
		return Status{}, err
	}
	return DecodeAll(b)
}

// maxRecord is more than any record of ours: what is longer is not one.
const maxRecord = Size + extSize + 5*0xffff + 1

// read reads at most maxRecord bytes of file, relative to dir.
func read(dir int, file string) ([]byte, error) {
	fd, err := unix.Openat(dir, file, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &ReadError{Op: "open", Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 512)
	n := 0
	for n < maxRecord {
		if n == len(b) {
			b = append(b, make([]byte, min(maxRecord-n, len(b)))...)
		}
		r, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil && n == 0 {
			return nil, &ReadError{Op: "read", Err: err}
		}
		if err != nil || r == 0 {
			break
		}
		n += r
	}
	return b[:n], nil
}
