package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// oddService makes dir/name/supervise with an ok FIFO that this test holds
// open (so a supervise seems to run) and returns the supervise directory.
func oddService(t *testing.T, dir, name string) string {
	t.Helper()
	sup := filepath.Join(dir, name, "supervise")
	testbin.Must(t, os.MkdirAll(sup, 0o700))
	ok := filepath.Join(sup, "ok")
	testbin.Must(t, syscall.Mkfifo(ok, 0o600))
	holdFIFO(t, ok)
	return sup
}

// holdFIFO keeps the FIFO open for reading and writing until the test ends.
func holdFIFO(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	testbin.Must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// svstat opens supervise/status without blocking: a FIFO without a writer
// is a bad format, one with a few bytes waiting too; a socket cannot be
// opened.
func TestStatusFIFOLikeReference(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, syscall.Mkfifo(filepath.Join(oddService(t, dir, "lonely"), "status"), 0o644))
	l, err := net.Listen("unix", filepath.Join(oddService(t, dir, "socket"), "status"))
	testbin.Must(t, err)
	defer l.Close()
	hang := svtest.Scaled(testbin.Hang)
	got := testbin.SameAsReferenceWithin(t, hang, nil, "svstat", filepath.Join(dir, "lonely"), filepath.Join(dir, "socket"))
	for _, want := range []string{
		"lonely: unable to read supervise/status: bad format\n",
		"socket: unable to open supervise/status: device not configured\n",
	} {
		if !strings.Contains(got.Stdout, want) {
			t.Errorf("svstat says no %q:\n%s", want, got.Stdout)
		}
	}

	// Each program reads what is waiting, so each gets its own ten bytes.
	short := filepath.Join(oddService(t, dir, "short"), "status")
	testbin.Must(t, syscall.Mkfifo(short, 0o644))
	writer := holdFIFO(t, short)
	var results [2]testbin.Result
	for i, prog := range []string{testbin.Path(t, "svstat"), testbin.Reference(t, "svstat")} {
		_, err := writer.WriteString("0123456789")
		testbin.Must(t, err)
		results[i] = testbin.RunWithin(t, exec.Command(prog, filepath.Join(dir, "short")), hang)
	}
	want := filepath.Join(dir, "short") + ": unable to read supervise/status: bad format\n"
	if results[0] != results[1] || results[0].Stdout != want {
		t.Errorf("ten bytes waiting: ours %+v, reference %+v", results[0], results[1])
	}
}

// A FIFO whose writer has written nothing fails the read with "temporary
// failure"; daemontools prints whatever record it read before (zeros here),
// as it does for every status it cannot read.
func TestStatusFIFOWithSilentWriter(t *testing.T) {
	dir := t.TempDir()
	silent := filepath.Join(oddService(t, dir, "silent"), "status")
	testbin.Must(t, syscall.Mkfifo(silent, 0o644))
	holdFIFO(t, silent)
	got := testbin.RunWithin(t, exec.Command(testbin.Path(t, "svstat"), filepath.Join(dir, "silent")), svtest.Scaled(testbin.Hang))
	want := testbin.Result{Stdout: filepath.Join(dir, "silent") + ": unable to read supervise/status: temporary failure\n"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// svok, svc and svstat on an ok or control file that is not the FIFO
// supervise makes: each says what the reference says.
func TestOddControlFilesLikeReference(t *testing.T) {
	dir := t.TempDir()
	var dirs []string
	for _, kind := range []string{"file", "fifo", "listened", "socket", "directory", "devnull", "dangling", "missing"} {
		sup := filepath.Join(dir, kind, "supervise")
		testbin.Must(t, os.MkdirAll(sup, 0o700))
		for _, name := range []string{"ok", "control"} {
			path := filepath.Join(sup, name)
			switch kind {
			case "file":
				testbin.Must(t, os.WriteFile(path, nil, 0o644))
			case "fifo":
				testbin.Must(t, syscall.Mkfifo(path, 0o600))
			case "listened":
				testbin.Must(t, syscall.Mkfifo(path, 0o600))
				holdFIFO(t, path)
			case "socket":
				l, err := net.Listen("unix", path)
				testbin.Must(t, err)
				defer l.Close()
			case "directory":
				testbin.Must(t, os.Mkdir(path, 0o755))
			case "devnull":
				testbin.Must(t, os.Symlink("/dev/null", path))
			case "dangling":
				testbin.Must(t, os.Symlink("nowhere", path))
			}
		}
		// From the future, so that both say 0 seconds.
		future := status.Status{Since: tai64.Label{Sec: tai64.Offset + 1<<40}}
		testbin.Must(t, os.WriteFile(filepath.Join(sup, "status"), future.Append(nil), 0o644))
		dirs = append(dirs, filepath.Join(dir, kind))
	}
	hang := svtest.Scaled(testbin.Hang)
	for _, d := range dirs {
		testbin.SameAsReferenceWithin(t, hang, nil, "svok", d)
		testbin.SameAsReferenceWithin(t, hang, nil, "svc", "-u", d)
	}
	got := testbin.SameAsReferenceWithin(t, hang, nil, "svstat", dirs...)
	if n := strings.Count(got.Stdout, "\n"); n != len(dirs) {
		t.Errorf("svstat: %d lines for %d directories:\n%s", n, len(dirs), got.Stdout)
	}
}
