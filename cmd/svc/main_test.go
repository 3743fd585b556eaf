package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// listen makes dir/supervise/control and returns a reading descriptor on
// it, standing in for supervise.
func listen(t *testing.T, dir string) int {
	t.Helper()
	control := filepath.Join(dir, "supervise/control")
	testbin.Must(t, os.MkdirAll(filepath.Dir(control), 0o700))
	if err := syscall.Mkfifo(control, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(control, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return fd
}

func received(fd int) string {
	var b [100]byte
	n, _ := syscall.Read(fd, b[:])
	return string(b[:max(n, 0)])
}

type result struct {
	code   int
	stderr string
	got    []string // what each listening directory received
}

func svc(t *testing.T, prog string, args []string, listeners []int) result {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(prog, args...)
	cmd.Stderr = &stderr
	cmd.Run()
	r := result{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
	for _, fd := range listeners {
		r.got = append(r.got, received(fd))
	}
	return r
}

func TestSvc(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	stopped := filepath.Join(root, "stopped")
	testbin.Must(t, os.MkdirAll(filepath.Join(stopped, "supervise"), 0o700))
	testbin.Must(t, syscall.Mkfifo(filepath.Join(stopped, "supervise/control"), 0o600))
	plain := filepath.Join(root, "plain")
	testbin.Must(t, os.Mkdir(plain, 0o755))
	file := filepath.Join(root, "file")
	testbin.Must(t, os.WriteFile(file, nil, 0o644))
	listeners := []int{listen(t, a), listen(t, b)}
	const usage = "svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n"

	tests := []struct {
		name string
		args []string
		want result
	}{
		{"in order, once each", []string{"-dxud", "-k", "-h", a, b}, result{0, "", []string{"dxukh", "dxukh"}}},
		{"every letter", []string{"-udopchaitkx", a}, result{0, "", []string{"udopchaitkx", ""}}},
		{"no options", []string{a, b}, result{0, "", []string{"", ""}}},
		{"warnings per directory", []string{"-t", root + "/missing", file, plain, stopped, b},
			result{0, "svc: warning: unable to chdir to " + root + "/missing: file does not exist\n" +
				"svc: warning: unable to chdir to " + file + ": not a directory\n" +
				"svc: warning: unable to control " + plain + ": file does not exist\n" +
				"svc: warning: unable to control " + stopped + ": supervise not running\n", []string{"", "t"}}},
		{"unknown option", []string{"-uz", a}, result{100, "svc: illegal option -- z\n" + usage, []string{"", ""}}},
		{"after --", []string{"-u", "--", a}, result{0, "", []string{"u", ""}}},
	}
	for _, tc := range tests {
		for _, prog := range []string{testbin.Path(t, "svc"), testbin.Reference(t, "svc")} {
			got := svc(t, prog, tc.args, listeners)
			if prog == testbin.Path(t, "svc") {
				// Ours names its letters after daemontools' usage line.
				got.stderr = strings.Replace(got.stderr, usage+extensionUsage, usage, 1)
			}
			if got.code != tc.want.code || got.stderr != tc.want.stderr || !equal(got.got, tc.want.got) {
				t.Errorf("%s %s:\n got %+v\nwant %+v", prog, tc.name, got, tc.want)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
