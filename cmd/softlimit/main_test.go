package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

var env = []string{"PATH=/usr/bin:/bin"}

func TestErrorsLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	const usage = "softlimit: usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child"
	testbin.LikeReference(t, env, "softlimit", []testbin.Case{
		{Want: testbin.Usage(usage)},
		{Args: []string{"-m"}, Want: testbin.Usage("softlimit: option requires an argument -- m\n" + usage)},
		{Args: []string{"-z", "1", "true"}, Want: testbin.Usage("softlimit: illegal option -- z\n" + usage)},
		{Args: []string{"-m", "x", "true"}, Want: testbin.Usage(usage)},
		{Args: []string{"-m", "12k", "true"}, Want: testbin.Usage(usage)},
		{Args: []string{"-m", "100000000"}, Want: testbin.Usage(usage)},
		{Args: []string{"-m", "100000000", missing}, Want: testbin.Fatal("softlimit: fatal: unable to run " + missing + ": file does not exist")},
		{Args: []string{"--"}, Want: testbin.Usage(usage)},
		{Args: []string{"-o", "100", "no-such-program-anywhere"}, Want: testbin.Fatal("softlimit: fatal: unable to run no-such-program-anywhere: file does not exist")},
	})
}

// Every option sets the limits the reference sets: a value, "=" for the
// hard limit, and a value above the hard limit, which is capped.
func TestLimitsLikeReference(t *testing.T) {
	values := map[string]string{
		"a": "1000000000", "c": "0", "d": "500000000", "f": "100000000", "l": "65536",
		"m": "500000000", "o": "100", "p": "500", "r": "300000000", "s": "8000000", "t": "100",
	}
	// The lines of /proc/PID/limits each option sets.
	resources := map[string][]string{
		"a": {"Max address space"}, "c": {"Max core file size"}, "d": {"Max data size"},
		"f": {"Max file size"}, "l": {"Max locked memory"},
		"m": {"Max data size", "Max stack size", "Max locked memory", "Max address space"},
		"o": {"Max open files"}, "p": {"Max processes"}, "r": {"Max resident set"},
		"s": {"Max stack size"}, "t": {"Max cpu time"},
	}
	for opt, value := range values {
		for _, v := range []string{value, "=", "18000000000000000000"} {
			got := testbin.SameAsReference(t, env, "softlimit", "-"+opt, v, "cat", "/proc/self/limits")
			if got.Code != 0 || got.Stderr != "" {
				t.Errorf("-%s %s: %+v", opt, v, got)
				continue
			}
			limits := parseLimits(t, got.Stdout)
			for _, name := range resources[opt] {
				l := limits[name]
				want := l.hard
				if v != "=" && (l.hard == "unlimited" || atoi(t, v) < atoi(t, l.hard)) {
					want = v
				}
				if l.soft != want {
					t.Errorf("-%s %s: %s soft limit %s, want %s (hard %s)", opt, v, name, l.soft, want, l.hard)
				}
			}
		}
	}
	got := testbin.SameAsReference(t, env, "softlimit", "-o", "100", "-t", "=", "-c0", "cat", "/proc/self/limits")
	if !strings.Contains(got.Stdout, "Max open files            100 ") {
		t.Errorf("open files not 100:\n%s", got.Stdout)
	}
}

type limit struct{ soft, hard string }

// parseLimits reads /proc/PID/limits: name, soft and hard limit in
// columns of 26, 21 and 21 characters.
func parseLimits(t *testing.T, text string) map[string]limit {
	t.Helper()
	limits := map[string]limit{}
	for _, line := range strings.Split(text, "\n")[1:] {
		if len(line) < 68 {
			continue
		}
		limits[strings.TrimSpace(line[:26])] = limit{strings.TrimSpace(line[26:47]), strings.TrimSpace(line[47:68])}
	}
	if len(limits) < 16 {
		t.Fatalf("limits:\n%s", text)
	}
	return limits
}

func atoi(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	testbin.Must(t, err)
	return n
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
