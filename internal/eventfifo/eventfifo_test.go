package eventfifo

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// service makes a service directory with its event directory, and returns
// it and a descriptor of it as supervise holds one.
func service(t *testing.T) (string, int) {
	t.Helper()
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Make(fd); err != nil {
		t.Fatal(err)
	}
	if err := Make(fd); err != nil { // there already
		t.Fatal(err)
	}
	return dir, fd
}

func readable(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n == 1 && fds[0].Revents == unix.POLLIN
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, Dir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	return got
}

// Every waiter wakes at every post, drains, and sleeps again; its FIFO
// goes with Close.
func TestPostWakesEveryWaiter(t *testing.T) {
	dir, fd := service(t)
	a, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	if readable(a.Fd()) || readable(b.Fd()) {
		t.Fatal("readable before any post")
	}
	if got := names(t, dir); len(got) != 2 || got[0][0] == '.' || got[1][0] == '.' {
		t.Fatalf("event directory holds %q, want two FIFOs", got)
	}
	Post(fd)
	Post(fd)
	for _, w := range []*Waiter{a, b} {
		if !readable(w.Fd()) {
			t.Fatal("not readable after a post")
		}
		w.Drain()
		if readable(w.Fd()) {
			t.Fatal("readable after Drain")
		}
	}
	a.Close()
	b.Close()
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("left after Close: %q", got)
	}
}

// A FIFO that nobody reads (its waiter was killed) is removed by the next
// post; one being made (a dot name) is left alone.
func TestPostRemovesAbandoned(t *testing.T) {
	dir, fd := service(t)
	for _, name := range []string{"123.1", ".123.2"} {
		if err := syscall.Mkfifo(filepath.Join(dir, Dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	Post(fd)
	if got := names(t, dir); len(got) != 1 || got[0] != ".123.2" {
		t.Fatalf("after a post: %q, want only the one being made", got)
	}
}

// A supervise that makes no event directory has no waiters of this kind.
func TestListenWithoutEventDirectory(t *testing.T) {
	if _, err := Listen(t.TempDir()); err != unix.ENOENT {
		t.Fatalf("Listen: %v, want ENOENT", err)
	}
}

// A post to a directory without waiters allocates only the event
// directory's name: it follows every status record, and svscan -1 may
// never collect garbage.
func TestPostAllocations(t *testing.T) {
	_, fd := service(t)
	if n := testing.AllocsPerRun(20, func() { Post(fd) }); n > 1 {
		t.Errorf("Post allocates %v times", n)
	}
}
