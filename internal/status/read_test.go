package status

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"daemontools/internal/tai64"
)

func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	want := Status{Since: tai64.Label{Sec: tai64.Offset + 1000, Nano: 5}, Pid: 42, Want: WantUp, State: Running, Restarts: 3}
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if got, err := ReadAll(write("whole", want.Append(nil))); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("whole record: %+v, %v", got, err)
	}
	daemontools := Status{Since: want.Since, Pid: want.Pid, Want: want.Want, State: Running}
	if got, err := ReadAll(write("daemontools", want.Append(nil)[:Size])); err != ErrNoExtension || !reflect.DeepEqual(got, daemontools) {
		t.Errorf("daemontools' record: %+v, %v", got, err)
	}
	var bad *ExtensionError
	if got, err := ReadAll(write("longer", append(want.Append(nil)[:Size], "more"...))); !errors.As(err, &bad) || !reflect.DeepEqual(got, daemontools) {
		t.Errorf("record and garbage: %+v, %v", got, err)
	}
	if _, err := ReadAll(write("short", want.Append(nil)[:Size-1])); err != ErrBadFormat {
		t.Errorf("short record: %v, want ErrBadFormat", err)
	}
	var failed *ReadError
	if _, err := ReadAll(filepath.Join(dir, "missing")); !errors.As(err, &failed) || failed.Op != "open" || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadAll(dir); !errors.As(err, &failed) || failed.Op != "read" || !errors.Is(err, syscall.EISDIR) {
		t.Errorf("directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(fifo); err != ErrBadFormat { // no writer: empty, at once
		t.Errorf("FIFO without a writer: %v, want ErrBadFormat", err)
	}
	writer, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := ReadAll(fifo); !errors.As(err, &failed) || failed.Op != "read" || !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("FIFO whose writer said nothing: %v", err)
	}
}
