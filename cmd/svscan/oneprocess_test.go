package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// clientCode runs a client (ours or Debian's) and returns its exit code.
func clientCode(t *testing.T, prog string, args ...string) int {
	t.Helper()
	err := exec.Command(prog, args...).Run()
	if err == nil {
		return 0
	}
	var e *exec.ExitError
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	t.Fatalf("%s: %v", prog, err)
	return -1
}

var secondsRE = regexp.MustCompile(`\d+ seconds`)

// svscan -1 runs no supervise, yet Debian's svc, svstat and svok and ours
// see and drive its services as under plain svscan's supervise processes:
// up and down, -x ends a supervisor and the next scan takes it up again;
// the service's output reaches its logger.
func TestOneProcessClients(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "service")
			makeService(t, filepath.Join(dir, "a"), "echo hello from $$\nexec sleep 1000", "exec cat >>out")
			makeService(t, filepath.Join(dir, "b"), "exec sleep 1000", "")
			s := m.start(t, dir)
			a, alog, b := dir+"/a", dir+"/a/log", dir+"/b"
			pids := waitUp(t, 5*time.Second, a, alog, b)
			svtest.WaitFor(t, 5*time.Second, "a's line in its log", func() bool {
				out, _ := os.ReadFile(filepath.Join(alog, "out"))
				return string(out) == fmt.Sprintf("hello from %d\n", pids[a])
			})
			for _, name := range []string{"a", "a/log", "b"} {
				if running, want := s.supervisePid(name) != 0, m.flags == nil; running != want {
					t.Errorf("a supervise process for %s: %v, want %v", name, running, want)
				}
			}
			for _, d := range []string{a, alog, b} {
				ours, _ := exec.Command(testbin.Path(t, "svstat"), d).Output()
				theirs, _ := exec.Command("/usr/bin/svstat", d).Output()
				if secondsRE.ReplaceAllString(string(ours), "N seconds") != secondsRE.ReplaceAllString(string(theirs), "N seconds") {
					t.Errorf("svstat: ours %q, Debian's %q", ours, theirs)
				}
				for _, svok := range []string{testbin.Path(t, "svok"), "/usr/bin/svok"} {
					if code := clientCode(t, svok, d); code != 0 {
						t.Errorf("%s %s: exit %d", svok, d, code)
					}
				}
			}
			svtest.Svc(t, "/usr/bin/svc", "-d", b)
			svtest.WaitFor(t, 5*time.Second, "b down", func() bool { return upPid(t, b) == 0 })
			svtest.Svc(t, "/usr/bin/svc", "-u", b)
			waitUp(t, 5*time.Second, b)
			svtest.Svc(t, "/usr/bin/svc", "-dx", b)
			svtest.WaitFor(t, 5*time.Second, "b's supervisor to end", func() bool { return clientCode(t, "/usr/bin/svok", b) == 100 })
			s.signal(t, syscall.SIGHUP)
			svtest.WaitFor(t, 5*time.Second, "b supervised again", func() bool { return clientCode(t, "/usr/bin/svok", b) == 0 })
			if got := upPid(t, a); got != pids[a] {
				t.Errorf("a's pid %d, was %d", got, pids[a])
			}
			if s.stderr() != "" {
				t.Errorf("stderr %q", s.stderr())
			}
		})
	}
}

// kill -9 of svscan -1 (of plain svscan and of every supervise process),
// and a new svscan: every service and logger is adopted (same pids,
// nothing started twice), supervised again at once, and the pipe to each
// logger carries on, so a restarted service's lines still reach its
// adopted logger.
func TestKill9Adopts(t *testing.T) { forModes(t, kill9Adopts) }

func kill9Adopts(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	const n = 20
	var dirs, mains []string
	for i := range n {
		d := filepath.Join(dir, fmt.Sprintf("s%02d", i))
		makeService(t, d, "echo start $$\nexec sleep 1000", "exec cat >>out")
		dirs, mains = append(dirs, d, d+"/log"), append(mains, d)
	}
	s := m.start(t, dir)
	before := waitUp(t, 10*time.Second, dirs...)
	var supervisors []int
	for _, p := range svtest.Procs(s.Pid()) {
		if p.PPid == s.Pid() && len(p.Args) > 0 && p.Args[0] == "supervise" {
			supervisors = append(supervisors, p.Pid)
		}
	}
	s.Kill9(t)
	for _, pid := range supervisors {
		testbin.Must(t, syscall.Kill(pid, syscall.SIGKILL))
	}
	for _, pid := range supervisors {
		svtest.WaitFor(t, 5*time.Second, "supervise to die", func() bool { return !svtest.Alive(pid) })
	}
	m.start(t, dir)
	svtest.WaitFor(t, time.Second, "every service supervised again", func() bool {
		for _, d := range dirs {
			if clientCode(t, "/usr/bin/svok", d) != 0 {
				return false
			}
		}
		return true
	})
	after, out := upPids(t, dirs...)
	for _, d := range dirs {
		if after[d] != before[d] {
			t.Errorf("%s: pid %d, was %d; svstat:\n%s", d, after[d], before[d], out)
		}
	}
	for _, d := range mains {
		svtest.OurSvc(t, "-t", d)
	}
	for _, d := range mains {
		svtest.WaitFor(t, 10*time.Second, d+"'s second run logged", func() bool {
			b, _ := os.ReadFile(filepath.Join(d, "log/out"))
			// ./run may say so before its start is recorded: the
			// record says down (pid 0) just before the fork.
			pid := upPid(t, d)
			return strings.Count(string(b), "start ") == 2 && pid != before[d] && pid != 0
		})
		b, _ := os.ReadFile(filepath.Join(d, "log/out"))
		if want := fmt.Sprintf("start %d\nstart %d\n", before[d], upPid(t, d)); string(b) != want {
			t.Errorf("%s logged %q, want %q", d, b, want)
		}
	}
}

// Readiness works inside svscan -1 too: its loop wakes on the
// notification-fd pipe (and on the notify socket, registered the same
// way), and svwait -U sees it.
func TestOneProcessReadiness(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	makeService(t, filepath.Join(dir, "fd"), "sleep 0.2\necho >&4\nexec sleep 1000", "")
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "fd", "notification-fd"), []byte("4\n"), 0o644))
	startScanner(t, []string{"-1", dir})
	waitUp(t, 5*time.Second, dir+"/fd")
	wait := exec.Command(testbin.Path(t, "svwait"), "-U", "-t", fmt.Sprint(svtest.Scaled(5*time.Second).Milliseconds()), dir+"/fd")
	if got := testbin.RunWithin(t, wait, svtest.Scaled(10*time.Second)); got != (testbin.Result{}) {
		t.Errorf("svwait -U: %+v", got)
	}
	out, _ := exec.Command(testbin.Path(t, "svstat"), "-l", dir+"/fd").Output()
	if !strings.Contains(string(out), ", ready ") {
		t.Errorf("svstat -l: %s", out)
	}
}
