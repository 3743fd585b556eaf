// Package status encodes and decodes supervise/status, the binary record
// through which supervise tells svstat (and every other daemontools reader)
// what its service is doing. It is the only place that knows the layout.
//
// The first Size bytes are daemontools 0.76's record: a TAI64N label of the
// last change of pid, the pid (little-endian, 0 when down), the paused flag
// and the wanted state. Readers use those bytes and ignore anything after
// them, so later versions may append fields (readiness, last exit status)
// without breaking old clients.
package status

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Size is the length of daemontools' record, the bytes every reader needs.
const Size = 18

// What the service is wanted to do, as stored in byte 17.
const (
	WantNone = 0   // svc -o: run once, no preference
	WantUp   = 'u' // restart whenever it exits
	WantDown = 'd' // stay down
)

// ErrBadFormat means the record is shorter than Size bytes.
var ErrBadFormat = errors.New("bad format")

// Status is one supervise/status record.
type Status struct {
	Since  tai64.Label // when Pid last changed
	Pid    int         // pid of ./run, 0 when the service is down
	Paused bool        // stopped by svc -p; meaningful only while Pid != 0
	Want   byte        // WantUp, WantDown or WantNone
}

// Append appends the encoded record to b. Paused is written as 0 while the
// service is down, as daemontools does.
func (s Status) Append(b []byte) []byte {
	var r [Size]byte
	s.Since.Pack(r[0:12])
	p := uint32(s.Pid)
	r[12], r[13], r[14], r[15] = byte(p), byte(p>>8), byte(p>>16), byte(p>>24)
	if s.Pid != 0 && s.Paused {
		r[16] = 1
	}
	r[17] = s.Want
	return append(b, r[:]...)
}

// Decode reads a record from its first Size bytes and ignores the rest.
// Like daemontools' svstat it accepts any bytes of the right length: only a
// short record is ErrBadFormat.
func Decode(b []byte) (Status, error) {
	if len(b) < Size {
		return Status{}, ErrBadFormat
	}
	return Status{
		Since:  tai64.Unpack(b[0:12]),
		Pid:    int(uint32(b[12]) | uint32(b[13])<<8 | uint32(b[14])<<16 | uint32(b[15])<<24),
		Paused: b[16] != 0,
		Want:   b[17],
	}, nil
}

// File is the record's name, relative to a service directory.
const File = "supervise/status"

// Write replaces the record in the service directory dir (a descriptor)
// atomically: it writes File.new (mode 0644) and renames it over File, so
// readers never see half a record. A failure is a *WriteError naming the
// step.
func Write(dir int, s Status) error {
	tmp := File + ".new"
	fd, err := unix.Openat(dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &WriteError{Op: "open", File: tmp, Err: err}
	}
	b := s.Append(make([]byte, 0, Size))
	n, err := syscall.Write(fd, b)
	syscall.Close(fd)
	if err != nil {
		return &WriteError{Op: "write", File: tmp, Err: err}
	}
	if n < len(b) {
		return &WriteError{Op: "write", File: tmp, Err: ErrPartialWrite}
	}
	if err := unix.Renameat(dir, tmp, dir, File); err != nil {
		return &WriteError{Op: "rename", File: tmp, Err: err}
	}
	return nil
}

// ErrPartialWrite means fewer than Size bytes reached the file.
var ErrPartialWrite error = strerr.Text("partial write")

// WriteError is a failure of Write: Op is "open", "write" or "rename".
type WriteError struct {
	Op   string
	File string
	Err  error
}

func (e *WriteError) Error() string { return e.Op + " " + e.File + ": " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }
