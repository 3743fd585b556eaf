package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
)

// svscan replaced as README says (kill -9, then a new one) while the old
// supervise processes run on: the new one leaves them be (no supervise of
// its own beside them, no message every scan), a logger restarted with
// svc -dx gets the service's lines again through the same pipe (no
// SIGPIPE loop of the service), and TERM stops every service of the tree,
// whoever started its supervise, in both modes (under svscan -1 a service
// with a pidfile file has a supervise process of its own).
func TestReplacedThenTerm(t *testing.T) { forModes(t, replacedThenTerm) }

func replacedThenTerm(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	a, p := filepath.Join(dir, "a"), filepath.Join(dir, "p")
	makeService(t, a, "while :; do echo line; sleep 0.02; done", "exec cat >>out")
	makeService(t, p, "sh -c 'echo $$ > daemon.pid; exec sleep 1000' </dev/null >/dev/null &\nexit 0", "")
	writeFile(t, filepath.Join(p, "pidfile"), "daemon.pid\n", 0o644)
	interval := "SVSCAN_TEST_INTERVAL=200ms"
	old := m.start(t, dir, interval)
	waitUp(t, 10*time.Second, a, a+"/log")
	svtest.WaitFor(t, 10*time.Second, "p's daemon", func() bool {
		s, err := status.ReadAll(filepath.Join(p, status.File))
		return err == nil && s.FromPidfile
	})
	daemonRec, _ := status.ReadAll(filepath.Join(p, status.File))
	aRec, _ := status.ReadAll(filepath.Join(a, status.File))
	old.Kill9(t)

	s := m.start(t, dir, interval)
	svtest.WaitFor(t, 5*time.Second, "every service supervised", func() bool {
		return supervised(t, a) && supervised(t, a+"/log") && supervised(t, p)
	})
	// Several scans, 200 ms apart, with nothing to say.
	time.Sleep(time.Second)
	if e := strings.TrimSpace(readStderr(s)); e != "" {
		t.Errorf("the new svscan and its supervisors said:\n%s", e)
	}

	out := filepath.Join(a, "log", "out")
	logger := upPid(t, a+"/log")
	svtest.OurSvc(t, "-dx", a+"/log")
	svtest.WaitFor(t, 10*time.Second, "a new logger", func() bool {
		pid := upPid(t, a+"/log")
		return pid != 0 && pid != logger
	})
	b, _ := os.ReadFile(out)
	before := len(b)
	svtest.WaitFor(t, 10*time.Second, "lines logged again by a new logger", func() bool {
		b, _ := os.ReadFile(out)
		return len(b) > before+100
	})
	if r, err := status.ReadAll(filepath.Join(a, status.File)); err != nil || r.Pid != aRec.Pid || r.Restarts != aRec.Restarts {
		t.Errorf("a after its logger's restart: %+v %v, was pid %d, %d restarts", r, err, aRec.Pid, aRec.Restarts)
	}

	s.signal(t, syscall.SIGTERM)
	if code := s.Wait(t, 20*time.Second); code != 0 {
		t.Errorf("svscan exited %d", code)
	}
	for _, pid := range []int{aRec.Pid, daemonRec.Pid} {
		if svtest.Alive(pid) {
			t.Errorf("pid %d still runs after TERM", pid)
		}
	}
	for _, d := range []string{a, a + "/log", p} {
		if supervised(t, d) {
			t.Errorf("%s still supervised after TERM", d)
		}
	}
	// The old supervise processes came back to this process as orphans.
	svtest.WaitFor(t, 5*time.Second, "the old tree gone", func() bool {
		old.Reap()
		return len(svtest.Procs(old.Pid())) == 0
	})
	noneLeft(t, s.Group)
}

// readStderr is everything svscan and its supervise processes wrote.
func readStderr(s *scanner) string {
	b, _ := os.ReadFile(s.stderrPath)
	return string(b)
}
