package status

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"daemontools/internal/procstart"
	"daemontools/internal/testbin"
)

// OpenMark makes MarkFile when it is not there; WriteMark overwrites it
// in place with 28 bytes, at every write; ReadMark reads them back, and the zero Mark clears it.
// A missing or odd file is no mark.
func TestMark(t *testing.T) {
	dir, dirfd := serviceDir(t)
	file := filepath.Join(dir, MarkFile)
	if m := ReadMark(dirfd); m != (Mark{}) {
		t.Errorf("no file: %+v", m)
	}
	m := Mark{Start: procstart.ID{Boot: [16]byte{1, 2, 3, 15: 0xff}, Ticks: 0x0102030405}, LastPid: 0x0a0b0c}
	fd, err := OpenMark(dirfd)
	testbin.Must(t, err)
	defer syscall.Close(fd)
	testbin.Must(t, WriteMark(fd, m))
	b, err := os.ReadFile(file)
	testbin.Must(t, err)
	want := "\x01\x02\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff" + "\x05\x04\x03\x02\x01\x00\x00\x00" + "\x0c\x0b\x0a\x00"
	if string(b) != want {
		t.Errorf("file %q, want %q", b, want)
	}
	if got := ReadMark(dirfd); got != m {
		t.Errorf("ReadMark %+v, want %+v", got, m)
	}
	ino := func() uint64 {
		var st syscall.Stat_t
		testbin.Must(t, syscall.Stat(file, &st))
		return st.Ino
	}
	before := ino()
	testbin.Must(t, WriteMark(fd, Mark{}))
	if b, _ := os.ReadFile(file); string(b) != string(make([]byte, markSize)) || ino() != before {
		t.Errorf("cleared: %q, inode %d then %d", b, before, ino())
	}
	if got := ReadMark(dirfd); got != (Mark{}) {
		t.Errorf("cleared: ReadMark %+v", got)
	}
	testbin.Must(t, os.WriteFile(file, []byte(want+"x"), 0o644))
	if got := ReadMark(dirfd); got != (Mark{}) {
		t.Errorf("29 bytes: ReadMark %+v", got)
	}
	testbin.Must(t, os.Remove(file))
	testbin.Must(t, os.Mkdir(file, 0o755))
	var e *WriteError
	if _, err := OpenMark(dirfd); !errors.As(err, &e) || e.Op != "open" || e.File != MarkFile || !errors.Is(err, syscall.EISDIR) {
		t.Errorf("a directory: %v", err)
	}
}

// A FIFO in MarkFile's place (with no reader) is refused at once, not
// waited on: supervise would hang before it supervises anything.
func TestOpenMarkFifo(t *testing.T) {
	dir, dirfd := serviceDir(t)
	testbin.Must(t, syscall.Mkfifo(filepath.Join(dir, MarkFile), 0o600))
	done := make(chan error, 1)
	go func() {
		fd, err := OpenMark(dirfd)
		if err == nil {
			syscall.Close(fd)
		}
		done <- err
	}()
	var we *WriteError
	if err := <-done; !errors.As(err, &we) || !errors.Is(err, syscall.ENXIO) {
		t.Errorf("OpenMark on a FIFO: %v", err)
	}
}
