package main

import (
	"os/exec"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

var env = []string{"PATH=/usr/bin:/bin"}

func TestErrorsLikeReference(t *testing.T) {
	for _, args := range [][]string{
		{}, {"-m"}, {"-z", "1", "true"}, {"-m", "x", "true"}, {"-m", "12k", "true"},
		{"-m", "100000000"}, {"-m", "100000000", "/nonexistent"}, {"--"},
		{"-o", "100", "no-such-program-anywhere"},
	} {
		testbin.SameAsReference(t, env, "softlimit", args...)
	}
}

// Every option sets the limits the reference sets: a value, "=" for the
// hard limit, and a value above the hard limit, which is capped.
func TestLimitsLikeReference(t *testing.T) {
	values := map[string]string{
		"a": "1000000000", "c": "0", "d": "500000000", "f": "100000000", "l": "65536",
		"m": "500000000", "o": "100", "p": "500", "r": "300000000", "s": "8000000", "t": "100",
	}
	for opt, value := range values {
		for _, v := range []string{value, "=", "18000000000000000000"} {
			testbin.SameAsReference(t, env, "softlimit", "-"+opt, v, "cat", "/proc/self/limits")
		}
	}
	got := testbin.SameAsReference(t, env, "softlimit", "-o", "100", "-t", "=", "-c0", "cat", "/proc/self/limits")
	if !strings.Contains(got.Stdout, "Max open files            100 ") {
		t.Errorf("open files not 100:\n%s", got.Stdout)
	}
}

// Limits not asked for stay as softlimit found them, RLIMIT_NOFILE included
// (which the Go runtime raises for itself at start-up).
func TestInheritedLimitsKept(t *testing.T) {
	var out [2]string
	for i, prog := range []string{testbin.Path(t, "softlimit"), testbin.Reference(t, "softlimit")} {
		r := testbin.Run(t, exec.Command("sh", "-c", "ulimit -Sn 200; ulimit -Sc 4096; exec "+prog+" -d 600000000 cat /proc/self/limits"))
		if r.Code != 0 {
			t.Fatalf("%s: %+v", prog, r)
		}
		out[i] = r.Stdout
	}
	if out[0] != out[1] {
		t.Errorf("ours:\n%s\nreference:\n%s", out[0], out[1])
	}
	if !strings.Contains(out[0], "Max open files            200 ") {
		t.Errorf("inherited open-files limit lost:\n%s", out[0])
	}
}

// The reference wraps numbers beyond 64 bits around; ours treats them as
// unlimited, so they are capped at the hard limit like "=".
func TestHugeValueCapped(t *testing.T) {
	ours := testbin.Path(t, "softlimit")
	huge := testbin.Run(t, exec.Command(ours, "-c", "99999999999999999999", "cat", "/proc/self/limits"))
	hard := testbin.Run(t, exec.Command(ours, "-c", "=", "cat", "/proc/self/limits"))
	if huge.Code != 0 || huge != hard {
		t.Errorf("huge: %+v\nhard: %+v", huge, hard)
	}
}
