package multilog

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// A window is how much output of a log directory is written at once:
// then its writeback is started, and waited for two windows later. A
// directory holds at most four windows in memory. The directories share
// maxWindow (big windows make the fewest system calls), each having at
// least minWindow: one directory keeps 2 MB, each one more 448 KB at most.
const (
	maxWindow = 512 << 10
	minWindow = 112 << 10
)

// windowFor is the window of each of dirs directories, in whole pages.
func windowFor(dirs int) int {
	return max(minWindow, maxWindow/max(dirs, 1)&^(4096-1))
}

// logDir is a log directory being written: current, rotated into
// @TAI64N.s files through previous (and processed, when there is a
// processor), the oldest deleted so that fewer than num remain.
//
// A write(2) that succeeds only puts bytes in the page cache. The disk may
// still fail them (EIO, or ENOSPC on thin storage); the kernel then says
// so once, to the next wait for writeback or sync, and the filesystem may
// have lost the blocks' mapping along with their contents, even, with
// ext4, of bytes whose own writeback was waited for just before. So the
// bytes of current stay in memory until the wait after theirs has
// succeeded too, and after a failure current is cut back to the oldest of
// them, which are written again into new blocks.
type logDir struct {
	Action
	ml      *Multilog
	window  int    // bytes: see windowFor
	lock    int    // descriptor of lock
	cur     int    // descriptor of current
	bytes   int64  // size of current, counting buf
	buf     []byte // the window being filled
	written int    // of buf
	kept    [][]byte
	keptAt  int64    // offset in current of the first byte kept, or of buf
	spare   [][]byte // windows to fill again
}

func (d *logDir) file(name string) string { return filepath.Join(d.Path, name) }

// name is how messages show a file of the directory: DIR/name.
func (d *logDir) name(file string) string { return d.Path + "/" + file }

// open locks the directory, completes what a crash left behind and opens
// current. Failures before input is read are fatal, like daemontools'.
func (d *logDir) open() error {
	os.Mkdir(d.Path, 0o700)
	// Opened as daemontools opens it, before it learns what it opened: a
	// file the account cannot read is "access denied", not "not a
	// directory", and a FIFO does not wait for a writer.
	dir, err := unix.Open(d.Path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		var st unix.Stat_t
		if err = unix.Fstat(dir, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			err = unix.ENOTDIR
		}
		unix.Close(dir)
	}
	if err != nil {
		return strerr.Fatal("unable to open directory ", d.Path, ": ", err)
	}
	// Files are opened non-blocking, as by daemontools: a FIFO where one
	// belongs fails (device not configured) instead of waiting for a
	// reader.
	d.lock, err = unix.Open(d.file("lock"), unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err == nil {
		err = unix.Flock(d.lock, unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		return strerr.Fatal("unable to lock directory ", d.Path, ": ", err)
	}
	state, err := unix.Open(d.file("state"), unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return strerr.Fatal("unable to create ", d.name("state"), ": ", err)
	}
	unix.Close(state)
	d.recover()
	var st unix.Stat_t
	err = unix.Stat(d.file("current"), &st)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return strerr.Fatal("unable to stat ", d.name("current"), ": ", err)
	}
	if err == nil && st.Mode&0o100 == 0 {
		d.finish("current", 'u') // a crash left it: possibly cut short
	}
	if err := d.openCurrent(); err != nil {
		return strerr.Fatal("unable to append to ", d.name("current"), ": ", err)
	}
	return nil
}

// recover completes a rotation a crash interrupted. previous is complete
// (fsynced before the rename), so it is processed again; processed without
// previous means the processor had finished and its output was synced.
func (d *logDir) recover() {
	if d.exists("previous") {
		d.remove("processed")
		d.remove("newstate")
		d.processPrevious()
		return
	}
	if d.exists("processed") {
		if d.exists("newstate") {
			d.retry(func() error { return unix.Rename(d.file("newstate"), d.file("state")) },
				"unable to rename newstate to state in directory ", d.Path)
		}
		d.finish("processed", 's')
		return
	}
	d.remove("newstate")
}

func (d *logDir) exists(name string) bool {
	_, err := os.Lstat(d.file(name))
	return err == nil
}

func (d *logDir) remove(name string) {
	d.retry(func() error {
		if err := os.Remove(d.file(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}, "unable to remove ", d.name(name))
}

// retry runs op until it succeeds, pausing after each failure with a
// warning made of what and op's error.
func (d *logDir) retry(op func() error, what ...any) {
	for {
		err := op()
		if err == nil {
			return
		}
		d.ml.pause(err, what...)
	}
}

// openCurrent opens current for appending, marked incomplete (0644).
func (d *logDir) openCurrent() error {
	fd, err := unix.Open(d.file("current"), unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err = unix.Fstat(fd, &st); err == nil {
		err = unix.Fchmod(fd, 0o644)
	}
	if err != nil {
		unix.Close(fd)
		return err
	}
	d.cur, d.bytes = fd, st.Size
	for _, w := range d.kept {
		d.spare = append(d.spare, w[:0])
	}
	d.buf, d.written, d.kept, d.keptAt = d.buf[:0], 0, d.kept[:0], st.Size
	return nil
}

// write adds p to current, rotating after the first newline within window
// bytes of the size limit, or at the limit itself inside an endless line.
func (d *logDir) write(p []byte) {
	for len(p) > 0 {
		if d.bytes >= d.Size {
			d.rotate()
		}
		n := min(int64(len(p)), d.Size-d.bytes)
		if d.bytes+n >= d.Size-window {
			from := max(0, d.Size-window-1-d.bytes)
			if j := bytes.IndexByte(p[from:n], '\n'); j >= 0 {
				n = from + int64(j) + 1
				d.add(p[:n])
				p = p[n:]
				d.rotate()
				continue
			}
		}
		d.add(p[:n])
		p = p[n:]
	}
}

// writeLines writes whole lines, each after label, as write would write
// each label and line in turn, but stamping them straight into buf.
func (d *logDir) writeLines(label, lines []byte) {
	if len(label) == 0 {
		d.write(lines)
		return
	}
	// Lines that fit in buf and end short of the rotation zone go in
	// as they are; the others through write.
	limit := d.Size - int64(d.window)
	for len(lines) > 0 {
		j := bytes.IndexByte(lines, '\n') + 1
		n := len(label) + j
		if d.buf != nil && len(d.buf)+n <= d.window && d.bytes+int64(n) < limit {
			d.buf = append(append(d.buf, label...), lines[:j]...)
			d.bytes += int64(n)
			if len(d.buf)-d.written >= d.window/2 || len(d.buf) == d.window {
				d.flush()
			}
		} else {
			d.write(label)
			d.write(lines[:j])
		}
		lines = lines[j:]
	}
}

// add takes p into buf, which never grows past a window.
func (d *logDir) add(p []byte) {
	for len(p) > 0 {
		if d.buf == nil {
			if n := len(d.spare); n > 0 {
				d.buf, d.spare = d.spare[n-1], d.spare[:n-1]
			} else {
				d.buf = make([]byte, 0, min(int64(d.window), d.Size)) // current never outgrows Size
			}
		}
		n := min(len(p), d.window-len(d.buf))
		d.buf = append(d.buf, p[:n]...)
		d.bytes += int64(n)
		p = p[n:]
		if len(d.buf)-d.written >= d.window/2 || len(d.buf) == d.window {
			d.flush()
		}
	}
}

// flush writes what current is owed; on trouble it warns, pauses and
// goes on from the first byte not written. A full window is sealed.
func (d *logDir) flush() {
	for d.written < len(d.buf) {
		n, err := unix.Write(d.cur, d.buf[d.written:])
		if n > 0 {
			d.written += n
			continue
		}
		if err == nil {
			err = unix.EIO
		}
		if err != unix.EINTR {
			d.ml.pause(err, "unable to write to ", d.name("current"))
		}
	}
	if len(d.buf) >= d.window {
		d.seal()
	}
}

// seal starts the writeback of buf and waits for that of the window two
// before it (started two windows ago, so mostly done), then lets go of the
// window before that one, which has now outlived two waits.
func (d *logDir) seal() {
	unix.SyncFileRange(d.cur, d.bytes-int64(len(d.buf)), int64(len(d.buf)), unix.SYNC_FILE_RANGE_WRITE)
	d.kept = append(d.kept, d.buf)
	d.buf, d.written = nil, 0
	if len(d.kept) < 3 {
		return
	}
	wait, at := len(d.kept)-3, d.keptAt
	for _, w := range d.kept[:wait] {
		at += int64(len(w))
	}
	d.makeSure(unix.SyncFileRange(d.cur, at, int64(len(d.kept[wait])),
		unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER),
		unix.Fdatasync)
	if wait > 0 {
		d.keptAt += int64(len(d.kept[0]))
		d.spare = append(d.spare, d.kept[0][:0])
		d.kept = append(d.kept[:0], d.kept[1:]...)
	}
}

// makeSure deals with err, the outcome of a wait for writeback or a sync:
// after a failure it pauses, writes every byte kept again and syncs, until
// a sync succeeds.
func (d *logDir) makeSure(err error, sync func(fd int) error) {
	for err != nil {
		d.ml.pause(err, "unable to write ", d.name("current"), " to disk")
		if err = d.rewrite(); err == nil {
			err = sync(d.cur)
		}
	}
}

// rewrite cuts current back to the first byte kept and writes the kept
// windows and buf again (current is open for appending).
func (d *logDir) rewrite() error {
	if err := unix.Ftruncate(d.cur, d.keptAt); err != nil {
		return err
	}
	d.written = 0
	for _, w := range append(d.kept, d.buf) {
		for len(w) > 0 {
			n, err := unix.Write(d.cur, w)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			w = w[n:]
		}
	}
	d.written = len(d.buf)
	return nil
}

// closeCurrent syncs current and marks it complete (mode 0744).
func (d *logDir) closeCurrent() {
	d.flush()
	d.makeSure(unix.Fsync(d.cur), unix.Fsync)
	d.retry(func() error { return unix.Fchmod(d.cur, 0o744) }, "unable to set mode of ", d.name("current"))
	unix.Close(d.cur)
	d.cur = -1
}

// rotate turns current into an @ file and starts a new current.
func (d *logDir) rotate() {
	d.closeCurrent()
	d.retry(func() error { return unix.Rename(d.file("current"), d.file("previous")) },
		"unable to rename current to previous in directory ", d.Path)
	d.processPrevious()
	d.retry(d.openCurrent, "unable to write to ", d.name("current"))
}

// processPrevious runs the processor on previous, if there is one, and
// makes the result the newest @TAI64N.s file.
func (d *logDir) processPrevious() {
	if d.Processor == "" {
		d.finish("previous", 's')
		return
	}
	for !d.runProcessor() {
		d.ml.warn("processor failed in ", d.Path, ", pausing")
		d.ml.sleep()
	}
	d.syncFile("processed", 0o744)
	d.syncFile("newstate", 0)
	d.retry(func() error { return os.Remove(d.file("previous")) }, "unable to remove ", d.name("previous"))
	d.retry(func() error { return unix.Rename(d.file("newstate"), d.file("state")) },
		"unable to rename newstate to state in directory ", d.Path)
	d.finish("processed", 's')
}

// runProcessor runs /bin/sh -c processor in the directory with previous on
// fd 0, processed on 1, state on 4 and newstate on 5.
func (d *logDir) runProcessor() bool {
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	open := func(name string, flag int) *os.File {
		f, err := os.OpenFile(d.file(name), flag, 0o644)
		if err != nil {
			return nil
		}
		files = append(files, f)
		return f
	}
	trunc := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	in, out := open("previous", os.O_RDONLY), open("processed", trunc)
	state, newstate := open("state", os.O_RDONLY), open("newstate", trunc)
	if in == nil || out == nil || state == nil || newstate == nil {
		return false
	}
	// What e printed comes before what the processor says.
	d.ml.flushEcho()
	cmd := exec.Command("/bin/sh", "-c", d.Processor) // never through $PATH
	cmd.Dir = d.Path
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, d.ml.stderrFile()
	cmd.ExtraFiles = []*os.File{nil, state, newstate}
	return cmd.Run() == nil
}

// syncFile makes sure name exists and is on disk, with mode when not 0.
func (d *logDir) syncFile(name string, mode uint32) {
	d.retry(func() error {
		fd, err := unix.Open(d.file(name), unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err = unix.Fsync(fd); err == nil && mode != 0 {
			err = unix.Fchmod(fd, mode)
		}
		return err
	}, "unable to write ", d.name(name), " to disk")
}

// finish gives name its @TAI64N name with suffix code ('s' or 'u'), then
// deletes the oldest files. A hard link first, so that a crash leaves the
// file under one name or both, never none.
func (d *logDir) finish(name string, code byte) {
	var st unix.Stat_t
	for {
		err := unix.Stat(d.file(name), &st)
		if err == nil {
			break
		}
		if errors.Is(err, unix.ENOENT) {
			return
		}
		d.ml.pause(err, "unable to stat ", d.name(name))
	}
	if st.Nlink == 1 {
		for {
			fn := string(append(tai64.Now().AppendExternal(nil), '.', code))
			err := os.Link(d.file(name), d.file(fn))
			if err == nil {
				break
			}
			if !errors.Is(err, os.ErrExist) {
				d.ml.pause(err, "unable to link to ", d.name(fn))
			}
		}
	}
	d.remove(name)
	d.filesFit()
}

// filesFit deletes the oldest @ files until fewer than Num remain.
func (d *logDir) filesFit() {
	for {
		var names []string
		d.retry(func() error {
			f, err := os.Open(d.Path)
			if err != nil {
				return err
			}
			defer f.Close()
			names, err = f.Readdirnames(-1)
			return err
		}, "unable to read directory ", d.Path)
		count, oldest := 0, ""
		for _, n := range names {
			if strings.HasPrefix(n, "@") && len(n) >= tai64.ExternalLen {
				count++
				if oldest == "" || n < oldest {
					oldest = n
				}
			}
		}
		if count < d.Num {
			return
		}
		d.remove(oldest)
	}
}

// close ends the directory at exit: everything written, synced, complete.
func (d *logDir) close() {
	d.closeCurrent()
	unix.Close(d.lock)
}
