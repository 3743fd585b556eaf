package status

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

func TestAppend(t *testing.T) {
	label := tai64.Label{Sec: tai64.Offset + 0x01020304, Nano: 0x0a0b0c0d}
	tests := []struct {
		s    Status
		want string
	}{
		{Status{Since: label, Pid: 0x11223344, Want: WantUp},
			"\x40\x00\x00\x00\x01\x02\x03\x0e\x0a\x0b\x0c\x0d\x44\x33\x22\x11\x00u"},
		{Status{Since: label, Pid: 1, Paused: true, Want: WantDown},
			"\x40\x00\x00\x00\x01\x02\x03\x0e\x0a\x0b\x0c\x0d\x01\x00\x00\x00\x01d"},
		// Paused means nothing while down and is written as 0.
		{Status{Since: label, Paused: true, Want: WantNone},
			"\x40\x00\x00\x00\x01\x02\x03\x0e\x0a\x0b\x0c\x0d\x00\x00\x00\x00\x00\x00"},
	}
	for _, tc := range tests {
		got := tc.s.Append([]byte("x"))[:1+Size]
		if string(got) != "x"+tc.want {
			t.Errorf("%+v: got %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	rec := Status{Since: tai64.Label{Sec: tai64.Offset + 99, Nano: 7}, Pid: 4242, Paused: true, Want: WantDown}
	b := rec.Append(nil)
	for _, extra := range []string{"", "readiness and exit status"} {
		got, err := decode(append(b[:Size:Size], extra...))
		if err != nil || got != rec {
			t.Errorf("decode with %q after: %+v %v, want %+v", extra, got, err, rec)
		}
	}
	for n := range Size {
		if _, err := decode(b[:n]); err != ErrBadFormat {
			t.Errorf("decode of %d bytes: %v, want ErrBadFormat", n, err)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "supervise"), 0o755))
	file := filepath.Join(dir, File)
	testbin.Must(t, os.WriteFile(file, []byte("an old and longer record"), 0o600))
	dirfd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	testbin.Must(t, err)
	defer syscall.Close(dirfd)
	s := Status{Since: tai64.Now(), Pid: 12, Want: WantUp}
	if err := Write(dirfd, s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(b, s.Append(nil)) {
		t.Errorf("status file %q %v", b, err)
	}
	if _, err := os.Stat(file + ".new"); !os.IsNotExist(err) {
		t.Errorf("status.new remains: %v", err)
	}
	testbin.Must(t, os.RemoveAll(filepath.Join(dir, "supervise")))
	err = Write(dirfd, s)
	var e *WriteError
	if !errors.As(err, &e) || e.Op != "open" || e.File != "supervise/status.new" {
		t.Errorf("Write without supervise/: %v", err)
	}
}

// FuzzDecode checks that any bytes decode without panicking, that only
// short input is refused, and that encoding the result gives the first
// Size bytes back (the paused byte normalised).
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(Status{Since: tai64.Now(), Pid: 1, Want: WantUp}.Append(nil))
	f.Add(append(Status{Pid: 1 << 31, Paused: true}.Append(nil), "more"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decode(b)
		if len(b) < Size {
			if err != ErrBadFormat {
				t.Fatalf("%d bytes: %v", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.Clone(b[:Size])
		if want[16] != 0 {
			want[16] = 1
		}
		if s.Pid == 0 {
			want[16] = 0
		}
		if got := s.Append(nil)[:Size]; !bytes.Equal(got, want) {
			t.Fatalf("Append(decode(%x)) = %x", b, got)
		}
	})
}
