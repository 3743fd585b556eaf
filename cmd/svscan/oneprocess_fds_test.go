package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// svscan -1 holds descriptors for every service it supervises, so its
// RLIMIT_NOFILE bounds how many it can. With the soft limit lowered so
// that only some of the new services fit, each of the others is reported
// in plain words and nothing else goes wrong; every service supervised
// stays so (killed, it is started again, which takes descriptors too),
// also after more services arrive with loggers, whose pipes must not eat
// into what starting a service needs; and once the limit is raised the
// next scan supervises the rest. Plain
// svscan holds no descriptor per service (TestScarceDescriptors).
func TestOneProcessOutOfDescriptors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	first := filepath.Join(dir, "first")
	makeService(t, first, "exec sleep 1000", "")
	s := startScanner(t, []string{"-1", dir})
	// Once a service runs, the Go runtime has raised the soft limit to
	// the hard one at start-up: lowering it now sticks.
	firstPid := waitUp(t, 5*time.Second, first)[first]
	var limit unix.Rlimit
	testbin.Must(t, unix.Prlimit(s.Pid(), unix.RLIMIT_NOFILE, nil, &limit))
	open, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.Pid()))
	testbin.Must(t, err)
	// Room for a few services of the eight, not for all.
	low := uint64(len(open) + 40)
	testbin.Must(t, unix.Prlimit(s.Pid(), unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: low, Max: limit.Max}, nil))

	const n = 8
	staging := filepath.Join(root, "staging")
	var names []string
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		makeService(t, filepath.Join(staging, name), "exec sleep 1000", "")
		names = append(names, name)
	}
	for _, name := range names {
		testbin.Must(t, os.Rename(filepath.Join(staging, name), filepath.Join(dir, name)))
	}
	warning := func(name string) string {
		return fmt.Sprintf("svscan: warning: out of descriptors (limit %d): %s is not supervised, the services already supervised stay so; trying again at the next scan\n", low, name)
	}
	// Every new service is either supervised or reported, not both.
	var supervised, reported []string
	svtest.WaitForNil(t, 10*time.Second, "every new service supervised or reported", func() error {
		out, _ := os.ReadFile(s.stderrPath)
		supervised, reported = nil, nil
		for _, name := range names {
			up := clientCode(t, testbin.Path(t, "svok"), filepath.Join(dir, name)) == 0
			warned := strings.Contains(string(out), warning(name))
			switch {
			case up && warned:
				return fmt.Errorf("%s is supervised and reported; stderr:\n%s", name, out)
			case up:
				supervised = append(supervised, name)
			case warned:
				reported = append(reported, name)
			}
		}
		if len(supervised)+len(reported) < n {
			return fmt.Errorf("supervised %v, reported %v; stderr:\n%s", supervised, reported, out)
		}
		return nil
	})
	if len(supervised) == 0 || len(reported) == 0 {
		t.Fatalf("with %d descriptors, supervised %v and reported %v: the test wants some of each", low, supervised, reported)
	}
	t.Logf("with %d descriptors: supervised %v, reported %v", low, supervised, reported)
	// The warnings are all svscan says: no supervisor half opened.
	onlyWarnings := func(names []string) {
		t.Helper()
		out, _ := os.ReadFile(s.stderrPath)
		rest := string(out)
		for _, name := range names {
			rest = strings.ReplaceAll(rest, warning(name), "")
		}
		if rest != "" {
			t.Errorf("stderr besides the warnings:\n%s", rest)
		}
	}
	onlyWarnings(reported)

	// Each supervised service, killed, is started again.
	dirs := []string{first}
	for _, name := range supervised {
		dirs = append(dirs, filepath.Join(dir, name))
	}
	var after map[string]int
	restarted := func() {
		t.Helper()
		before := waitUp(t, 5*time.Second, dirs...)
		for _, d := range dirs {
			testbin.Must(t, syscall.Kill(before[d], syscall.SIGKILL))
		}
		svtest.WaitForNil(t, 10*time.Second, "every supervised service started again", func() error {
			var out string
			after, out = upPids(t, dirs...)
			for _, d := range dirs {
				if after[d] == 0 || after[d] == before[d] {
					return fmt.Errorf("%s not started again; svstat says:\n%s", d, out)
				}
			}
			return nil
		})
	}
	restarted()
	if after[first] == firstPid {
		t.Errorf("first not started again")
	}

	// New services with a logger, which svscan holds a pipe for, all
	// reported: the pipes do not eat into the descriptors kept for
	// starting the services, which are started again as before.
	var logged []string
	for i := range n {
		name := fmt.Sprintf("l%d", i)
		makeService(t, filepath.Join(staging, name), "exec sleep 1000", "exec cat >/dev/null")
		testbin.Must(t, os.Rename(filepath.Join(staging, name), filepath.Join(dir, name)))
		logged = append(logged, name)
	}
	svtest.WaitForNil(t, 10*time.Second, "every logged service reported", func() error {
		out, _ := os.ReadFile(s.stderrPath)
		for _, name := range logged {
			if !strings.Contains(string(out), warning(name)) {
				return fmt.Errorf("%s not reported; stderr:\n%s", name, out)
			}
		}
		return nil
	})
	for _, name := range logged {
		for _, d := range []string{name, name + "/log"} {
			if code := clientCode(t, testbin.Path(t, "svok"), filepath.Join(dir, d)); code != 100 {
				t.Errorf("svok %s: exit %d, want 100", d, code)
			}
		}
	}
	restarted()
	onlyWarnings(append(reported, logged...))

	// With the limit back where it was, the next scan supervises the
	// rest, in five seconds at most.
	testbin.Must(t, unix.Prlimit(s.Pid(), unix.RLIMIT_NOFILE, &limit, nil))
	all := []string{first}
	for _, name := range names {
		all = append(all, filepath.Join(dir, name))
	}
	for _, name := range logged {
		all = append(all, filepath.Join(dir, name), filepath.Join(dir, name, "log"))
	}
	pids := waitUp(t, 7*time.Second, all...)
	for _, d := range dirs {
		if pids[d] != after[d] {
			t.Errorf("%s: pid %d, was %d before the limit was raised", d, pids[d], after[d])
		}
	}
	out, _ := os.ReadFile(s.stderrPath)
	if strings.Contains(string(out), "limit "+strconv.FormatUint(limit.Cur, 10)) {
		t.Errorf("a warning after the limit was raised:\n%s", out)
	}
}
