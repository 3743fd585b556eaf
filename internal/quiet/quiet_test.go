package quiet

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

func TestWaitForDescriptorOrTimeout(t *testing.T) {
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	defer unix.Close(pipe[1])
	if err := p.Add(pipe[0], 7); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 4)

	if n, err := p.Wait(events, 0); n != 0 || err != nil {
		t.Fatalf("nothing ready: Wait(0) = %d, %v", n, err)
	}
	start := time.Now()
	if n, err := p.Wait(events, 20*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("nothing ready: Wait(20ms) = %d, %v", n, err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("Wait(20ms) returned after %v", waited)
	}

	go func() {
		time.Sleep(10 * time.Millisecond)
		unix.Write(pipe[1], []byte("x"))
	}()
	n, err := p.Wait(events, -1)
	if n != 1 || err != nil || events[0].Fd != 7 {
		t.Fatalf("pipe written: Wait = %d, %v, %+v", n, err, events[:max(n, 0)])
	}
	var b [8]byte
	if k, err := Read(pipe[0], b[:]); k != 1 || err != nil || b[0] != 'x' {
		t.Errorf("Read = %d, %v, %q", k, err, b[:max(k, 0)])
	}
	if _, err := Read(pipe[0], b[:]); err != unix.EAGAIN {
		t.Errorf("Read of an empty pipe: %v, want EAGAIN", err)
	}
	// A timeout set by an earlier Wait does not linger.
	if n, err := p.Wait(events, 0); n != 0 || err != nil {
		t.Errorf("read out: Wait(0) = %d, %v", n, err)
	}
}

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
