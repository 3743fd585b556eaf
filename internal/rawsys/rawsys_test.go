package rawsys_test

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestEntriesAndStat(t *testing.T) {
	dir := t.TempDir()
	want := []string{"a", ".b", "a-much-longer-name-than-the-others"}
	for _, name := range want {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want = append(want, "file")
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	// A buffer too small for every entry at once, read twice over.
	buf := make([]byte, 64)
	for range 2 {
		var got []string
		err := rawsys.Entries(fd, buf, func(name []byte) {
			got = append(got, string(name))
			f, err := rawsys.StatName(fd, name)
			var st unix.Stat_t
			if serr := unix.Stat(filepath.Join(dir, string(name)), &st); err != nil || serr != nil {
				t.Errorf("rawsys.StatName(%s): %v; stat: %v", name, err, serr)
				return
			}
			if f.Ino != st.Ino || f.Dev != st.Dev || f.IsDir() != (st.Mode&unix.S_IFMT == unix.S_IFDIR) {
				t.Errorf("rawsys.StatName(%s) = %+v, stat says dev %d ino %d mode %o", name, f, st.Dev, st.Ino, st.Mode)
			}
		})
		slices.Sort(got)
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Entries: %q, %v; want %q", got, err, want)
		}
	}
	if _, err := rawsys.Stat(fd, "missing"); err != unix.ENOENT {
		t.Errorf("rawsys.Stat(missing): %v, want ENOENT", err)
	}
}

func TestLstatName(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	testbin.Must(t, os.Symlink("d", filepath.Join(dir, "to-d")))
	testbin.Must(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	for _, name := range []string{"d", "to-d", "dangling"} {
		path := filepath.Join(dir, name)
		var st unix.Stat_t
		testbin.Must(t, unix.Lstat(path, &st))
		// Followed by its NUL, as a caller building paths in a buffer
		// passes it; and without, which is copied.
		withNUL := append([]byte(path), 0)
		for _, b := range [][]byte{withNUL[:len(path)], []byte(path)[:len(path):len(path)]} {
			f, err := rawsys.LstatName(unix.AT_FDCWD, b)
			if err != nil || f.Ino != st.Ino || f.Dev != st.Dev || f.Mode != uint16(st.Mode) {
				t.Errorf("rawsys.LstatName(%s) = %+v, %v; lstat says dev %d ino %d mode %o", name, f, err, st.Dev, st.Ino, st.Mode)
			}
		}
	}
	if _, err := rawsys.StatName(unix.AT_FDCWD, []byte(filepath.Join(dir, "dangling"))); err != unix.ENOENT {
		t.Errorf("rawsys.StatName(dangling): %v, want ENOENT (followed)", err)
	}
	if _, err := rawsys.LstatName(unix.AT_FDCWD, []byte(filepath.Join(dir, "missing"))); err != unix.ENOENT {
		t.Errorf("rawsys.LstatName(missing): %v, want ENOENT", err)
	}
}

// Exited names a child that has exited without reaping it, so that Reap
// then collects it with its status.
func TestExitedAndReap(t *testing.T) {
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 3"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	svtest.WaitFor(t, 5*time.Second, "sh to exit", func() bool { return rawsys.Exited() == pid })
	if got := rawsys.Exited(); got != pid {
		t.Errorf("Exited again: %d, want %d still there", got, pid)
	}
	status, reaped := rawsys.Reap(pid)
	if !reaped || !status.Exited() || status.ExitStatus() != 3 {
		t.Errorf("Reap = %v, %v; want exit 3", status, reaped)
	}
	if got := rawsys.Exited(); got != 0 {
		t.Errorf("none left: Exited = %d", got)
	}
	if _, reaped := rawsys.Reap(pid); reaped {
		t.Error("reaped twice")
	}
}

// A file made, written, read back and renamed through the raw calls, as
// status records are; errors come back as errnos.
func TestFileCalls(t *testing.T) {
	dir := t.TempDir()
	at, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testbin.Must(t, err)
	defer unix.Close(at)
	fd, err := rawsys.Openat(at, "a.new", unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	testbin.Must(t, err)
	if n, err := rawsys.Write(fd, []byte("hello\n")); n != 6 || err != nil {
		t.Errorf("Write: %d %v", n, err)
	}
	b := make([]byte, 16)
	if n, err := rawsys.Pread(fd, b, 1); err != nil || string(b[:n]) != "ello\n" {
		t.Errorf("Pread: %q %v", b[:n], err)
	}
	testbin.Must(t, rawsys.Close(fd))
	if err := rawsys.Close(fd); err != unix.EBADF {
		t.Errorf("Close of a closed descriptor: %v", err)
	}
	testbin.Must(t, rawsys.Renameat(at, "a.new", at, "a"))
	if got, err := os.ReadFile(filepath.Join(dir, "a")); err != nil || string(got) != "hello\n" {
		t.Errorf("after Renameat: %q %v", got, err)
	}
	if _, err := rawsys.Openat(at, "missing", unix.O_RDONLY, 0); err != unix.ENOENT {
		t.Errorf("Openat of a missing file: %v", err)
	}
	if err := rawsys.Renameat(at, "missing", at, "b"); err != unix.ENOENT {
		t.Errorf("Renameat of a missing file: %v", err)
	}
	var want unix.Timespec
	testbin.Must(t, unix.ClockGettime(unix.CLOCK_BOOTTIME, &want))
	if got := rawsys.ClockGettime(unix.CLOCK_BOOTTIME); got.Sec < want.Sec || got.Sec > want.Sec+5 {
		t.Errorf("ClockGettime: %v, then the usual way %v", got, want)
	}
}
