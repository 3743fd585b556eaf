package faults

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// tmpfs mounts a tmpfs of size bytes on a new directory and unmounts it
// when the test ends (after its processes are killed: cleanups run last
// registered first).
func tmpfs(t testing.TB, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	testbin.Must(t, os.Mkdir(dir, 0755))
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	// A file of this test's own, read just before, may stay open a moment
	// in a child another test is forking (Go's fork inherits every
	// descriptor until exec): busy is an error only if it lasts.
	t.Cleanup(func() {
		var err error
		svtest.Poll(10*time.Second, func() bool { err = unix.Unmount(dir, 0); return err != unix.EBUSY })
		if err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// remount makes the tmpfs on dir read-only or writable again. Linux
// refuses (EBUSY) while a file on it is open for writing.
func remount(t testing.TB, dir string, readOnly bool) {
	t.Helper()
	flags := uintptr(unix.MS_REMOUNT)
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", dir, "", flags, ""); err != nil {
		t.Fatalf("remount %s (read-only %v): %v", dir, readOnly, err)
	}
}

// fill writes a file in dir until the filesystem is full and returns its
// name: removing it gives the space back.
func fill(t testing.TB, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	testbin.Must(t, err)
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return name
		}
	}
}

// waitOutput waits until p has printed every one of wants.
func waitOutput(t testing.TB, p *proc, timeout time.Duration, wants ...string) {
	t.Helper()
	svtest.WaitForNil(t, timeout, "warning", func() error {
		out := p.out.String()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				return fmt.Errorf("no %q in output %q", w, out)
			}
		}
		return nil
	})
}

// waitLogged waits until the log directory holds lines 0..n-1.
func waitLogged(t testing.TB, dir string, n int) {
	t.Helper()
	svtest.WaitForNil(t, 20*time.Second, fmt.Sprintf("%d lines logged", n), func() error {
		r, err := readLog(dir, true)
		if err == nil && r.next < n {
			err = fmt.Errorf("lines up to %d logged", r.next)
		}
		return err
	})
}

// A full disk under multilog: a warning, retries, and once space comes
// back every line is there, in order, once.
func TestMultilogFullDisk(t *testing.T) {
	t.Parallel()
	needRoot(t)
	mnt := tmpfs(t, 512<<10)
	log := filepath.Join(mnt, "log")
	f := newFeeder(t)
	m := f.multilog(t, mnt, "t", "s16384", "n100", "./log")
	testbin.Must(t, f.write(500))
	waitLogged(t, log, 500)

	filler := fill(t, mnt)
	done := make(chan struct{})
	go func() { // more than the pipe holds: multilog must take it
		defer close(done)
		if err := f.write(1500); err != nil {
			t.Error(err)
		}
	}()
	waitOutput(t, m, 10*time.Second, "multilog: warning: ", "out of disk space")
	if m.HasExited() {
		t.Fatalf("multilog exited on a full disk: %v\n%s", m.Cmd.ProcessState, m.out)
	}
	testbin.Must(t, os.Remove(filler))
	select {
	case <-done:
	case <-time.After(svtest.Scaled(30 * time.Second)):
		t.Fatalf("multilog takes no more input once space is back\n%s", m.out)
	}
	waitLogged(t, log, 2000)
	finishLog(t, f, m, log)
}

// finishLog ends multilog's input and checks that it exits 0 with every
// line logged once, in order.
func finishLog(t testing.TB, f *feeder, m *proc, log string) {
	t.Helper()
	f.w.Close()
	if code := m.Wait(t, 20*time.Second); code != 0 {
		t.Fatalf("multilog: exit %d\n%s", code, m.out)
	}
	noPanic(t, "multilog", m.out.String())
	if r := checkLog(t, log, f.next, 0); r.dups > 0 {
		t.Errorf("%d lines written twice", r.dups)
	}
}

// A read-only log filesystem: multilog, started on it, fails with a clear
// message (exit 111) each time it is restarted, input waits in the pipe,
// and once the filesystem is writable again every line is logged.
//
// Linux refuses to remount a filesystem read-only while a file on it is
// open for writing (multilog always holds current and lock), so multilog
// is stopped with TERM first, as svc -d would.
func TestMultilogReadOnly(t *testing.T) {
	t.Parallel()
	needRoot(t)
	mnt := tmpfs(t, 4<<20)
	log := filepath.Join(mnt, "log")
	f := newFeeder(t)
	m := f.multilog(t, mnt, "t", "./log")
	testbin.Must(t, f.write(500))
	waitLogged(t, log, 500)
	m.Cmd.Process.Signal(syscall.SIGTERM)
	if code := m.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("multilog on TERM: exit %d\n%s", code, m.out)
	}

	remount(t, mnt, true)
	testbin.Must(t, f.write(300)) // waits in the pipe
	for range 3 {                 // supervise would restart it every second
		m = f.multilog(t, mnt, "t", "./log")
		if code := m.Wait(t, 10*time.Second); code != 111 {
			t.Fatalf("multilog on a read-only filesystem: exit %d, want 111\n%s", code, m.out)
		}
		out := m.out.String()
		if !strings.HasPrefix(out, "multilog: fatal: unable to ") || !strings.HasSuffix(out, ": read-only file system\n") || strings.Count(out, "\n") != 1 {
			t.Fatalf("multilog on a read-only filesystem said %q", out)
		}
	}
	remount(t, mnt, false)
	m = f.multilog(t, mnt, "t", "./log")
	testbin.Must(t, f.write(200))
	finishLog(t, f, m, log)
}

// A full disk under supervise: status cannot be written, supervise warns,
// keeps obeying svc and keeps a whole status; once space comes back the
// next change is recorded.
func TestSuperviseFullDisk(t *testing.T) {
	t.Parallel()
	needRoot(t)
	mnt := tmpfs(t, 256<<10)
	dir := filepath.Join(mnt, "svc")
	svtest.NewService(t, dir, "exec sleep 100000")
	p, st := superviseUp(t, dir)

	filler := fill(t, mnt)
	svtest.Svc(t, prog(t, "svc"), "-d", dir)
	svtest.WaitForNil(t, 5*time.Second, "service stopped", func() error {
		if svtest.Alive(st.Pid) {
			return fmt.Errorf("pid %d still running", st.Pid)
		}
		return nil
	})
	waitOutput(t, p, 5*time.Second, "supervise: warning: ", "out of disk space")
	// The last whole record, or a whole one of the stop: runsv's files,
	// written first, may free the page the record then gets (an empty
	// supervise/pid replaces one that held the pid).
	if s, err := svtest.WellFormedStatus(dir); err != nil || s.Pid != st.Pid && s.Pid != 0 {
		t.Fatalf("status on a full disk: %+v %v, want a whole record (pid %d or 0)", s, err, st.Pid)
	}
	svtest.Svc(t, prog(t, "svc"), "-u", dir)
	var child int
	svtest.WaitForNil(t, 5*time.Second, "service restarted on a full disk", func() error {
		for _, s := range svtest.AllProcs() {
			if s.PPid == p.Pid() && s.State != 'Z' {
				child = s.Pid
				return nil
			}
		}
		return errors.New("no child of supervise")
	})
	if p.HasExited() {
		t.Fatalf("supervise exited on a full disk: %v\n%s", p.Cmd.ProcessState, p.out)
	}

	testbin.Must(t, os.Remove(filler))
	svtest.Svc(t, prog(t, "svc"), "-p", dir) // a change to record
	svtest.Svc(t, prog(t, "svc"), "-c", dir)
	svtest.WaitForNil(t, 5*time.Second, "status recorded again", func() error {
		s, err := svtest.WellFormedStatus(dir)
		if err == nil && (s.Pid != child || s.Want != 'u' || s.Paused) {
			err = fmt.Errorf("status %+v, want pid %d up", s, child)
		}
		return err
	})
	checkSuperviseFiles(t, dir)
	noPanic(t, "supervise", p.out.String())
}

// A read-only service filesystem: supervise cannot start on it (exit 111,
// a clear message), and once it is writable again a new supervise runs the
// service. As with multilog, Linux only allows the remount while supervise
// is stopped (it holds supervise/lock open for writing).
func TestSuperviseReadOnly(t *testing.T) {
	t.Parallel()
	needRoot(t)
	mnt := tmpfs(t, 256<<10)
	dir := filepath.Join(mnt, "svc")
	svtest.NewService(t, dir, "exec sleep 100000")
	p, st := superviseUp(t, dir)
	svtest.Svc(t, prog(t, "svc"), "-dx", dir)
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("supervise on svc -dx: exit %d\n%s", code, p.out)
	}
	if svtest.Alive(st.Pid) {
		t.Fatalf("service %d still runs after svc -dx", st.Pid)
	}

	remount(t, mnt, true)
	if code, out := runSupervise(t, dir); code != 111 || !strings.HasPrefix(out, "supervise: fatal: unable to ") ||
		!strings.HasSuffix(out, ": read-only file system\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("supervise on a read-only filesystem: exit %d %q", code, out)
	}
	if s, err := svtest.WellFormedStatus(dir); err != nil || s.Pid != 0 {
		t.Fatalf("status on the read-only filesystem: %+v %v", s, err)
	}

	remount(t, mnt, false)
	superviseUp(t, dir)
	checkSuperviseFiles(t, dir)
}
