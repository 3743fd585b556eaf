package status

import (
	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/rawsys"
)

// MarkFile marks a start of ./run under way: supervise writes it just
// before the fork, and clears it once the record naming the new ./run is
// written. A supervise killed in between leaves the mark, by which the
// next one finds that ./run rather than starting a second.
//
// It is overwritten in place, never replaced: one pwrite of markSize
// bytes at offset 0, the boot id (16 bytes), the boot clock in ticks (8,
// little-endian) and the last pid given out (4); all zero when no start is
// under way. Its reader is the next supervise, once the writer holds the
// lock no more, so it never sees a write half done.
const MarkFile = "supervise/spawn"

const markSize = 28

// Mark is the moment just before a start of ./run: the ./run it starts
// starts at Start or later, with a pid given out after LastPid (0 when
// not known), as procstart.StartedAfter tells. The zero Mark is none.
type Mark struct {
	Start   procstart.ID
	LastPid int
}

// OpenMark opens MarkFile in the service directory dir (a descriptor)
// for WriteMark, making it if it is not there. A supervisor keeps it open
// for its life, so that marking a start costs one system call, not three.
// A failure is a *WriteError.
func OpenMark(dir int) (int, error) {
	// O_NONBLOCK: a FIFO put in its place is refused (ENXIO), not waited on.
	fd, err := rawsys.Openat(dir, MarkFile, unix.O_WRONLY|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return -1, &WriteError{Op: "open", File: MarkFile, Err: err}
	}
	return fd, nil
}

// WriteMark writes m to fd, MarkFile as OpenMark opened it; the zero
// Mark clears it. A failure is a *WriteError.
func WriteMark(fd int, m Mark) error {
	var b [markSize]byte
	putID(b[0:24], m.Start)
	put32(b[24:28], uint32(m.LastPid))
	n, err := rawsys.Pwrite(fd, b[:], 0)
	switch {
	case err != nil:
		return &WriteError{Op: "write", File: MarkFile, Err: err}
	case n < len(b):
		return &WriteError{Op: "write", File: MarkFile, Err: ErrPartialWrite}
	}
	return nil
}

// ReadMark reads MarkFile in the service directory dir; the zero Mark
// when there is none, or the file is not one.
func ReadMark(dir int) Mark {
	b, err := read(dir, MarkFile)
	if err != nil || len(b) != markSize {
		return Mark{}
	}
	return Mark{Start: getID(b[0:24]), LastPid: int(get32(b[24:28]))}
}
