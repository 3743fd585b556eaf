package rawsys

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
		err := Entries(fd, buf, func(name []byte) {
			got = append(got, string(name))
			f, err := StatName(fd, name)
			var st unix.Stat_t
			if serr := unix.Stat(filepath.Join(dir, string(name)), &st); err != nil || serr != nil {
				t.Errorf("StatName(%s): %v; stat: %v", name, err, serr)
				return
			}
			if f.Ino != st.Ino || f.Dev != st.Dev || f.IsDir() != (st.Mode&unix.S_IFMT == unix.S_IFDIR) {
				t.Errorf("StatName(%s) = %+v, stat says dev %d ino %d mode %o", name, f, st.Dev, st.Ino, st.Mode)
			}
		})
		slices.Sort(got)
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Entries: %q, %v; want %q", got, err, want)
		}
	}
	if _, err := Stat(fd, "missing"); err != unix.ENOENT {
		t.Errorf("Stat(missing): %v, want ENOENT", err)
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
			f, err := LstatName(unix.AT_FDCWD, b)
			if err != nil || f.Ino != st.Ino || f.Dev != st.Dev || f.Mode != uint16(st.Mode) {
				t.Errorf("LstatName(%s) = %+v, %v; lstat says dev %d ino %d mode %o", name, f, err, st.Dev, st.Ino, st.Mode)
			}
		}
	}
	if _, err := StatName(unix.AT_FDCWD, []byte(filepath.Join(dir, "dangling"))); err != unix.ENOENT {
		t.Errorf("StatName(dangling): %v, want ENOENT (followed)", err)
	}
	if _, err := LstatName(unix.AT_FDCWD, []byte(filepath.Join(dir, "missing"))); err != unix.ENOENT {
		t.Errorf("LstatName(missing): %v, want ENOENT", err)
	}
}

// Exited names a child that has exited without reaping it, so that Reap
// then collects it with its status.
func TestExitedAndReap(t *testing.T) {
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 3"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	svtest.WaitFor(t, 5*time.Second, "sh to exit", func() bool { return Exited() == pid })
	if got := Exited(); got != pid {
		t.Errorf("Exited again: %d, want %d still there", got, pid)
	}
	status, reaped := Reap(pid)
	if !reaped || !status.Exited() || status.ExitStatus() != 3 {
		t.Errorf("Reap = %v, %v; want exit 3", status, reaped)
	}
	if got := Exited(); got != 0 {
		t.Errorf("none left: Exited = %d", got)
	}
	if _, reaped := Reap(pid); reaped {
		t.Error("reaped twice")
	}
}
