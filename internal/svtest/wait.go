package svtest

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ScaleEnv names the environment variable that multiplies every wall-clock
// bound of the tests: a deadline is written for a quiet machine and
// stretched by this factor.
const ScaleEnv = "TEST_TIMEOUT_SCALE"

// DefaultScale is the factor when ScaleEnv is unset: enough for a 2-core
// machine at load 10, where a process gets a fifth of a core. A deadline
// costs time only when a test fails, so it errs on the long side.
const DefaultScale = 5

var (
	scaleOnce sync.Once
	scale     float64
)

// Scaled returns d multiplied by $TEST_TIMEOUT_SCALE (DefaultScale when
// unset). Every wall-clock bound in a test goes through it; WaitFor, Poll,
// WaitForNil and Group.Wait apply it themselves.
func Scaled(d time.Duration) time.Duration {
	scaleOnce.Do(func() {
		var err error
		if scale, err = parseScale(os.Getenv(ScaleEnv)); err != nil {
			panic(err)
		}
	})
	return time.Duration(float64(d) * scale)
}

func parseScale(s string) (float64, error) {
	if s == "" {
		return DefaultScale, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f > 1e6 {
		return 0, fmt.Errorf("%s=%q: want a positive number", ScaleEnv, s)
	}
	return f, nil
}

// WaitFor polls cond until it holds, failing the test after timeout
// (scaled).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", Scaled(timeout), what)
	}
}

// WaitForNil polls check until it returns nil, failing the test with
// check's last error after timeout (scaled).
func WaitForNil(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	var err error
	if !Poll(timeout, func() bool { err = check(); return err == nil }) {
		t.Fatalf("%s: not within %v: %v", what, Scaled(timeout), err)
	}
}

// Poll polls cond every 10 ms until it holds or timeout (scaled) has
// passed, and tells whether it held.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(Scaled(timeout))
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Holds tells whether cond holds throughout window, checking it every
// 10 ms: for a test that something does not happen. The window is not
// scaled: under load it only makes the check less sensitive, never wrong.
func Holds(window time.Duration, cond func() bool) bool {
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		if !cond() {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// Exists tells whether path exists.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
