package multilog

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Pause is how long multilog waits before retrying after disk trouble or a
// failed processor: 5 seconds as in daemontools. Tests shorten it through
// the environment variable MULTILOG_TEST_PAUSE (a Go duration); nothing
// else sets it.
var Pause = 5 * time.Second

func init() {
	if d, err := time.ParseDuration(os.Getenv("MULTILOG_TEST_PAUSE")); err == nil {
		Pause = d
	}
}

// logDir is one open log directory: its lock and its current file.
type logDir struct {
	DirConfig
	stderr  io.Writer
	lock    *os.File
	current *os.File
	bytes   int64  // size of current including buf
	buf     []byte // written to current by flush
}

func (d *logDir) path(name string) string { return d.Path + "/" + name }

// warn reports disk trouble and pauses before the caller retries.
func (d *logDir) warn(parts ...any) {
	strerr.Warn(d.stderr, "multilog", parts...)
	time.Sleep(Pause)
}

// retry runs op until it succeeds, warning "unable to WHAT, pausing: REASON"
// and pausing after each failure.
func (d *logDir) retry(what string, op func() error) {
	for {
		err := op()
		if err == nil {
			return
		}
		d.warn("unable to ", what, ", pausing: ", err)
	}
}

// openDir creates and locks the directory, finishes what a crash left behind
// and opens current for appending. Failures here are fatal: no input has
// been read yet.
func openDir(cfg DirConfig, stderr io.Writer) (*logDir, error) {
	d := &logDir{DirConfig: cfg, stderr: stderr}
	if err := os.Mkdir(d.Path, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, strerr.Fatal("unable to open directory ", d.Path, ": ", err)
	}
	lock, err := os.OpenFile(d.path("lock"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, strerr.Fatal("unable to open directory ", d.Path, ": ", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, strerr.Fatal("unable to lock directory ", d.Path, ": ", err)
	}
	d.lock = lock
	if err := d.recoverDir(); err != nil {
		return nil, err
	}
	if err := d.openCurrent(); err != nil {
		return nil, strerr.Fatal("unable to open ", d.path("current"), ": ", err)
	}
	return d, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// recoverDir completes a rotation a crash interrupted and turns a current
// that was not closed cleanly (no execute bit) into a .u file.
func (d *logDir) recoverDir() error {
	if f, err := os.OpenFile(d.path("state"), os.O_WRONLY|os.O_CREATE, 0o644); err != nil {
		return strerr.Fatal("unable to open ", d.path("state"), ": ", err)
	} else {
		f.Close()
	}
	if exists(d.path("previous")) {
		// The processor had not finished: run it again on previous.
		d.process()
	} else if exists(d.path("processed")) {
		d.finishProcessed()
	}
	os.Remove(d.path("newstate"))
	st, err := os.Stat(d.path("current"))
	if err == nil && st.Mode()&0o100 == 0 && st.Size() > 0 {
		d.retry("rename "+d.path("current"), func() error {
			return os.Rename(d.path("current"), d.oldName("u"))
		})
		d.removeOldest()
	}
	return nil
}

func (d *logDir) openCurrent() error {
	f, err := os.OpenFile(d.path("current"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	d.current, d.bytes = f, st.Size()
	return nil
}

// oldName returns a fresh name @TAI64N.suffix for a finished log.
func (d *logDir) oldName(suffix string) string {
	l := tai64.Now()
	for {
		p := d.path(l.String() + "." + suffix)
		if !exists(p) {
			return p
		}
		l.Nano++
	}
}

// put queues b for current, rotating in the middle of a line only when
// current would grow past Size.
func (d *logDir) put(b []byte) {
	for len(b) > 0 {
		room := d.Size - d.bytes
		if room <= 0 {
			d.rotate()
			continue
		}
		n := int(min(int64(len(b)), room))
		d.buf = append(d.buf, b[:n]...)
		d.bytes += int64(n)
		b = b[n:]
		if len(d.buf) >= 1<<16 {
			d.flush()
		}
	}
}

// endLine rotates once current is within 2000 bytes of Size.
func (d *logDir) endLine() {
	if d.bytes+2000 >= d.Size {
		d.rotate()
	}
}

// flush writes the queued bytes to current, retrying after disk trouble so
// that every byte lands exactly once.
func (d *logDir) flush() {
	b := d.buf
	for len(b) > 0 {
		n, err := d.current.Write(b)
		if n < 0 {
			n = 0
		}
		b = b[n:]
		if err != nil {
			d.warn("unable to write to ", d.path("current"), ", pausing: ", err)
		}
	}
	d.buf = d.buf[:0]
}

// rotate finishes current: fsync, mode 0744, processor or rename to
// @TAI64N.s, then a fresh current and deletion of the oldest logs.
func (d *logDir) rotate() {
	d.finishCurrent()
	if d.Processor == "" {
		d.retry("rename "+d.path("current"), func() error {
			return os.Rename(d.path("current"), d.oldName("s"))
		})
	} else {
		d.retry("rename "+d.path("current")+" to previous", func() error {
			return os.Rename(d.path("current"), d.path("previous"))
		})
		d.process()
	}
	d.removeOldest()
	d.retry("create "+d.path("current"), d.openCurrent)
}

// finishCurrent makes current durable and marks it complete (mode 0744).
func (d *logDir) finishCurrent() {
	d.flush()
	d.retry("fsync "+d.path("current"), d.current.Sync)
	d.retry("set mode of "+d.path("current"), func() error { return d.current.Chmod(0o744) })
	d.current.Close()
	d.current = nil
}

// process runs the processor on previous until it succeeds, then installs
// its output as @TAI64N.s and newstate as state.
func (d *logDir) process() {
	for {
		err := d.runProcessor()
		if err == nil {
			break
		}
		d.warn("processor failed in ", d.Path, ", pausing")
	}
	// previous goes first: processed without previous means "done".
	d.retry("remove "+d.path("previous"), func() error {
		err := os.Remove(d.path("previous"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	})
	d.finishProcessed()
}

// finishProcessed installs the output of a successful processor.
func (d *logDir) finishProcessed() {
	if exists(d.path("newstate")) {
		d.retry("rename "+d.path("newstate"), func() error {
			return os.Rename(d.path("newstate"), d.path("state"))
		})
	}
	d.retry("rename "+d.path("processed"), func() error {
		return os.Rename(d.path("processed"), d.oldName("s"))
	})
}

// runProcessor runs `sh -c processor` in the directory with previous on fd
// 0, processed on fd 1, state on fd 4 and newstate on fd 5.
func (d *logDir) runProcessor() error {
	prev, err := os.Open(d.path("previous"))
	if err != nil {
		return err
	}
	defer prev.Close()
	out, err := os.OpenFile(d.path("processed"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	state, err := os.Open(d.path("state"))
	if err != nil {
		return err
	}
	defer state.Close()
	newstate, err := os.OpenFile(d.path("newstate"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer newstate.Close()
	cmd := exec.Command("/bin/sh", "-c", d.Processor)
	cmd.Dir = d.Path
	cmd.Stdin, cmd.Stdout, cmd.Stderr = prev, out, os.Stderr
	cmd.ExtraFiles = []*os.File{nil, state, newstate}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return unix.EAGAIN
		}
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := newstate.Sync(); err != nil {
		return err
	}
	return out.Chmod(0o744)
}

// removeOldest deletes the oldest @ files until fewer than Num remain.
func (d *logDir) removeOldest() {
	for {
		entries, err := os.ReadDir(d.Path)
		if err != nil {
			d.warn("unable to read directory ", d.Path, ", pausing: ", err)
			continue
		}
		var old []string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "@") {
				old = append(old, e.Name())
			}
		}
		if len(old) < d.Num {
			return
		}
		slices.Sort(old)
		for _, name := range old[:len(old)-d.Num+1] {
			if err := os.Remove(d.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				d.warn("unable to remove ", d.path(name), ", pausing: ", err)
			}
		}
	}
}

// close makes current durable and marks it complete, as at rotation.
func (d *logDir) close() {
	d.finishCurrent()
	d.lock.Close()
}
