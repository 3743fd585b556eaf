// Package rawsys makes the few system calls of a periodic scan (stat,
// getdents, reads of ready descriptors, waitid and wait4 without waiting)
// straight to the kernel, not through the Go runtime's entersyscall: made
// the usual way while the process idles, each one wakes the runtime's
// monitor thread (see internal/poller), and a scan every five seconds
// cost svscan several wake-ups each instead of one; awake while the
// process works, the monitor looks every 20 µs, taking the processor from
// it, some fifty times over a restart of ./run, whose calls (settings
// read, the status record replaced) are made so too. multilog's input loop
// makes its pipe calls (tee, read, splice) so too: a goroutine found in a
// system call once it has run 10 ms has its processor taken and handed
// back at every look of the monitor, which then looks every 20 µs. None of
// them blocks for long (a rename, on a busy disk, a few milliseconds).
package rawsys

import (
	"bytes"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

// Tee is tee(2) that does not wait (SPLICE_F_NONBLOCK): up to n bytes
// from the head of the pipe in copied into the pipe out, left in in.
func Tee(in, out, n int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_TEE, uintptr(in), uintptr(out), uintptr(n), unix.SPLICE_F_NONBLOCK, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Splice is splice(2) of n bytes from the pipe in, which holds them, to
// out, a descriptor that takes them at once (/dev/null).
func Splice(in, out, n int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Write is write(2), to a file or to a descriptor that does not block.
func Write(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(p), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Pread is pread(2) at offset off.
func Pread(fd int, b []byte, off int64) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	r, _, e := unix.RawSyscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(p), uintptr(len(b)), uintptr(off), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Pwrite is pwrite(2) at offset off.
func Pwrite(fd int, b []byte, off int64) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	r, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, uintptr(fd), uintptr(p), uintptr(len(b)), uintptr(off), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Openat is openat(2) of path relative to the directory open as at (or
// to the working directory for unix.AT_FDCWD); pass O_NONBLOCK where an
// open could wait (a FIFO).
func Openat(at int, path string, flags int, mode uint32) (int, error) {
	name, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	r, _, e := unix.RawSyscall6(unix.SYS_OPENAT, uintptr(at), uintptr(unsafe.Pointer(name)), uintptr(flags), uintptr(mode), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// Close is close(2).
func Close(fd int) error {
	if _, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0); e != 0 {
		return e
	}
	return nil
}

// Renameat is renameat(2), made as renameat2 without flags, which every
// architecture has.
func Renameat(oldAt int, oldPath string, newAt int, newPath string) error {
	from, err := unix.BytePtrFromString(oldPath)
	if err != nil {
		return err
	}
	to, err := unix.BytePtrFromString(newPath)
	if err != nil {
		return err
	}
	_, _, e := unix.RawSyscall6(unix.SYS_RENAMEAT2, uintptr(oldAt), uintptr(unsafe.Pointer(from)), uintptr(newAt), uintptr(unsafe.Pointer(to)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// ClockGettime is clock_gettime(2) of clock, for clocks the Go runtime
// does not read itself (CLOCK_BOOTTIME).
func ClockGettime(clock int32) unix.Timespec {
	var ts unix.Timespec
	unix.RawSyscall(unix.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
	return ts
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

// childInfo is the start of a siginfo_t as waitid fills it in for SIGCHLD.
type childInfo struct {
	signo, errno, code, _ int32
	pid                   int32
	uid                   uint32
	status                int32
}

// cldExited is siginfo's code for a child that called exit.
const cldExited = 1

// WaitPidfd reaps the child open as pidfd if it has exited, without
// waiting: its exit code, or the signal that killed it (sig non-zero).
// exited is false while it runs; err is waitid's, ECHILD when the process
// is not this one's child or was reaped already.
func WaitPidfd(pidfd int) (code, sig int, exited bool, err error) {
	for {
		var info unix.Siginfo
		_, _, e := unix.RawSyscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(pidfd), uintptr(unsafe.Pointer(&info)), unix.WEXITED|unix.WNOHANG, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, false, e
		}
		ch := (*childInfo)(unsafe.Pointer(&info))
		switch {
		case ch.pid == 0:
			return 0, 0, false, nil
		case ch.code == cldExited:
			return int(ch.status), 0, true, nil
		}
		return 0, int(ch.status), true, nil
	}
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
