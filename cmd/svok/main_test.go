package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func TestSvok(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, fifo, reader bool) string {
		d := filepath.Join(root, name)
		testbin.Must(t, os.MkdirAll(filepath.Join(d, "supervise"), 0o700))
		ok := filepath.Join(d, "supervise/ok")
		if fifo {
			testbin.Must(t, syscall.Mkfifo(ok, 0o600))
		}
		if reader {
			fd, err := syscall.Open(ok, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Close(fd) })
		}
		return d
	}
	running := mk("running", true, true)
	stopped := mk("stopped", true, false)
	never := mk("never", false, false)
	dirOk := mk("dirok", false, false)
	testbin.Must(t, os.Mkdir(filepath.Join(dirOk, "supervise/ok"), 0o700))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"running", []string{running}, 0, ""},
		{"not running", []string{stopped}, 100, ""},
		{"never started", []string{never}, 100, ""},
		{"no directory", []string{root + "/missing"}, 111, "svok: fatal: unable to chdir to " + root + "/missing: file does not exist\n"},
		{"ok is a directory", []string{dirOk}, 111, "svok: fatal: unable to open " + dirOk + "/supervise/ok: is a directory\n"},
		{"usage", nil, 100, "svok: usage: svok dir\n"},
	}
	for _, tc := range tests {
		for _, prog := range []string{testbin.Path(t, "svok"), testbin.Reference(t, "svok")} {
			var stderr bytes.Buffer
			cmd := exec.Command(prog, tc.args...)
			cmd.Stderr = &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.code || stderr.String() != tc.stderr {
				t.Errorf("%s, %s: %d %q, want %d %q", prog, tc.name, code, stderr.String(), tc.code, tc.stderr)
			}
		}
	}
}
