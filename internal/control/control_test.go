package control

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestProtocol runs both ends in one process: Listen and Ready in a
// service directory, Send and Running from outside it.
func TestProtocol(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	if ok, err := Running(dir); ok || err != syscall.ENOENT {
		t.Errorf("Running before Listen: %v %v, want false ENOENT", ok, err)
	}
	if err := Send(dir, []byte("u")); err != syscall.ENOENT {
		t.Errorf("Send before Listen: %v, want ENOENT", err)
	}
	dirfd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(dirfd)
	l, err := Listen(dirfd)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Running(dir); ok || err != syscall.ENOENT {
		t.Errorf("Running before Ready: %v %v, want false ENOENT", ok, err)
	}
	if err := l.Ready(); err != nil {
		t.Fatal(err)
	}
	if ok, err := Running(dir); !ok || err != nil {
		t.Errorf("Running after Ready: %v %v", ok, err)
	}
	if err := Send(dir, []byte("dx")); err != nil {
		t.Fatal(err)
	}
	var b [10]byte
	if n, err := syscall.Read(l.Commands, b[:]); string(b[:n]) != "dx" || err != nil {
		t.Errorf("read %q %v, want dx", b[:n], err)
	}
	if err := l.Post([]byte("u")); err != nil {
		t.Fatal(err)
	}
	if n, err := syscall.Read(l.Commands, b[:]); string(b[:n]) != "u" || err != nil {
		t.Errorf("read %q %v after Post, want u", b[:n], err)
	}
	for _, name := range []string{ControlFile, OkFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode() != os.ModeNamedPipe|0o600 {
			t.Errorf("%s: %v %v", name, fi.Mode(), err)
		}
	}
	l.Close()
	if ok, err := Running(dir); ok || err != nil {
		t.Errorf("Running after Close: %v %v, want false nil", ok, err)
	}
}

func TestNotRunning(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ControlFile, OkFile} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := Running(dir); ok || err != nil {
		t.Errorf("Running: %v %v, want false nil", ok, err)
	}
	if err := Send(dir, []byte("u")); err != ErrNotRunning {
		t.Errorf("Send: %v, want ErrNotRunning", err)
	}
}
