package status

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"daemontools/internal/tai64"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	want := Status{Since: tai64.Label{Sec: tai64.Offset + 1000, Nano: 5}, Pid: 42, Want: WantUp}
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if got, err := Read(write("whole", want.Append([]byte(nil)))); err != nil || got != want {
		t.Errorf("whole record: %+v, %v", got, err)
	}
	if got, err := Read(write("longer", append(want.Append(nil), "more"...))); err != nil || got != want {
		t.Errorf("longer record: %+v, %v", got, err)
	}
	if _, err := Read(write("short", want.Append(nil)[:Size-1])); err != ErrBadFormat {
		t.Errorf("short record: %v, want ErrBadFormat", err)
	}
	var failed *ReadError
	if _, err := Read(filepath.Join(dir, "missing")); !errors.As(err, &failed) || failed.Op != "open" || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("missing: %v", err)
	}
	if _, err := Read(dir); !errors.As(err, &failed) || failed.Op != "read" || !errors.Is(err, syscall.EISDIR) {
		t.Errorf("directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(fifo); err != ErrBadFormat { // no writer: empty, at once
		t.Errorf("FIFO without a writer: %v, want ErrBadFormat", err)
	}
}
