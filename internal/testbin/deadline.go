package testbin

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Hang is how long a program that has nothing to wait for may run on a
// quiet machine before a test calls it hung; tests stretch it with
// svtest.Scaled (svtest builds on this package, so it cannot here).
const Hang = 4 * time.Second

// RunWithin is Run for a program that must finish within d (0: no limit):
// one still running then is killed, and the test fails saying it hangs.
func RunWithin(t testing.TB, cmd *exec.Cmd, d time.Duration) Result {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var limit <-chan time.Time
	if d > 0 {
		limit = time.After(d)
	}
	var err error
	select {
	case err = <-done:
	case <-limit:
		cmd.Process.Kill()
		err = <-done
		t.Errorf("%s %q hangs: still running after %v", cmd.Path, cmd.Args[1:], d)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
}

// SameAsReferenceWithin is SameAsReference for programs that must each
// finish within d (0: no limit).
func SameAsReferenceWithin(t testing.TB, d time.Duration, env []string, name string, args ...string) Result {
	t.Helper()
	ours := exec.Command(Path(t, name), args...)
	ours.Args[0] = name
	ref := exec.Command(Reference(t, name), args...)
	ref.Args[0] = name
	ours.Env, ref.Env = env, env
	got, want := RunWithin(t, ours, d), RunWithin(t, ref, d)
	if got != want {
		t.Errorf("%s %q:\nours: %+v\nref:  %+v", name, args, got, want)
	}
	return got
}
