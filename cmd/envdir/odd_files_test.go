package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A file whose name holds "=" changes the variable named up to the "=",
// and the variables come out in daemontools' order.
func TestNameWithEqualsLikeReference(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"A=B": "x\n", "C=D": "", "E": "e\n", "=F": "f\n"} {
		testbin.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	env := []string{"PATH=/usr/bin:/bin", "A=orig", "C=orig", "E=old", "=y", "Z=z"}
	got := testbin.SameAsReferenceWithin(t, svtest.Scaled(testbin.Hang), env, "envdir", dir, "env")
	for _, want := range []string{"A=B=x\n", "C=D\n", "E=e\n", "=F=f\n", "Z=z\n"} {
		if !strings.Contains(got.Stdout, want) {
			t.Errorf("env lacks %q:\n%s", want, got.Stdout)
		}
	}
	for _, gone := range []string{"A=orig", "C=orig", "E=old", "=y"} {
		if strings.Contains(got.Stdout, gone) {
			t.Errorf("env has %q:\n%s", gone, got.Stdout)
		}
	}
}

// A FIFO is opened without blocking: with no writer it reads as empty;
// with a writer that holds it open, reading ends in "temporary failure".
// A socket cannot be opened at all.
func TestFIFOAndSocketLikeReference(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "F=before"}

	lonely := t.TempDir()
	testbin.Must(t, syscall.Mkfifo(filepath.Join(lonely, "F"), 0o644))
	got := testbin.SameAsReferenceWithin(t, svtest.Scaled(testbin.Hang), env, "envdir", lonely, "env")
	if got.Code != 0 || strings.Contains(got.Stdout, "F=") {
		t.Errorf("a FIFO without a writer does not remove F: %+v", got)
	}

	held := t.TempDir()
	fifo := filepath.Join(held, "F")
	testbin.Must(t, syscall.Mkfifo(fifo, 0o644))
	writer, err := os.OpenFile(fifo, os.O_RDWR, 0)
	testbin.Must(t, err)
	defer writer.Close()
	_, err = writer.WriteString("value\n")
	testbin.Must(t, err)
	got = testbin.SameAsReferenceWithin(t, svtest.Scaled(testbin.Hang), env, "envdir", held, "env")
	if got.Code != 111 || !strings.Contains(got.Stderr, "/F: temporary failure") {
		t.Errorf("a FIFO with a writer: %+v", got)
	}

	sock := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(sock, "S"))
	testbin.Must(t, err)
	defer l.Close()
	got = testbin.SameAsReferenceWithin(t, svtest.Scaled(testbin.Hang), env, "envdir", sock, "env")
	if got.Code != 111 || !strings.Contains(got.Stderr, "/S: device not configured") {
		t.Errorf("a socket: %+v", got)
	}
}
