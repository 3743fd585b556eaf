package svtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/testbin"
)

// StartSupervise starts supervise on dir with Start: ours, or program
// when one is given (the reference's, or another implementation's). Its
// stderr goes to the file whose path it returns, shown when the test
// fails; its stdout, which its services share, is discarded.
func StartSupervise(t testing.TB, dir string, program ...string) (*Group, string) {
	t.Helper()
	prog := testbin.Path(t, "supervise")
	if len(program) > 0 {
		prog = program[0]
	}
	errFile := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(errFile)
	testbin.Must(t, err)
	defer f.Close()
	cmd := exec.Command(prog, dir)
	cmd.Stderr = f
	g := Start(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(errFile)
			t.Logf("stderr of %s %s:\n%s", prog, dir, b)
		}
	})
	return g, errFile
}

// OurSvc runs our svc with args and fails the test unless it exits 0
// without a word.
func OurSvc(t testing.TB, args ...string) {
	t.Helper()
	Svc(t, testbin.Path(t, "svc"), args...)
}

// WaitStatus polls dir's status record until cond holds and returns it.
func WaitStatus(t testing.TB, dir, what string, cond func(status.Status) bool) status.Status {
	t.Helper()
	var s status.Status
	WaitFor(t, 5*time.Second, what, func() bool {
		var ok bool
		s, ok = ReadStatus(t, dir)
		return ok && cond(s)
	})
	return s
}

// WaitUp waits until dir's status record, well formed, names a running
// process other than old, and returns the record.
func WaitUp(t testing.TB, dir string, old int) status.Status {
	t.Helper()
	var s status.Status
	WaitForNil(t, 10*time.Second, dir+" up", func() error {
		var err error
		s, err = WellFormedStatus(dir)
		switch {
		case err != nil:
			return err
		case s.Pid == 0 || s.Pid == old:
			return fmt.Errorf("status pid %d", s.Pid)
		case !Alive(s.Pid):
			return fmt.Errorf("pid %d in status is not running", s.Pid)
		}
		return nil
	})
	return s
}

// WellFormedStatus reads dir/supervise/status with internal/status's
// decoder and checks what any supervise writes there, ours or
// daemontools': at least status.Size bytes, a TAI64N label past 2^62, a
// pause flag of 0 or 1 and set only with a pid, a want of u, d or 0; and
// our bytes after them, when there are any, whole.
func WellFormedStatus(dir string) (status.Status, error) {
	b, err := os.ReadFile(filepath.Join(dir, "supervise", "status"))
	if err != nil {
		return status.Status{}, err
	}
	s, err := status.DecodeAll(b)
	var bad *status.ExtensionError
	switch {
	case err == status.ErrBadFormat:
		return s, fmt.Errorf("status is %d bytes: % x", len(b), b)
	case errors.As(err, &bad):
		return s, fmt.Errorf("status: %v: % x", err, b)
	case s.Since.Sec < 1<<62 || s.Since.Nano > 999999999:
		return s, fmt.Errorf("status has a bad label: % x", b[:12])
	case b[16] > 1 || s.Want != status.WantUp && s.Want != status.WantDown && s.Want != status.WantNone:
		return s, fmt.Errorf("status has bad flags: % x", b[16:18])
	case s.Paused && s.Pid == 0:
		return s, fmt.Errorf("status says paused with no pid: % x", b)
	}
	return s, nil
}
