package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) {
	t.Helper()
	svtest.WriteFile(t, filepath.Join(dir, name), []byte(content), mode)
}

// stderrOf reads supervise's stderr file.
func stderrOf(file string) string {
	b, _ := os.ReadFile(file)
	return string(b)
}

// finishLogs writes "CODE SIGNAL cwd" of each run to "finished".
const finishLogs = "#!/bin/sh\necho \"$1 $2 $(pwd)\" >> finished\n"

// ./finish gets ./run's exit code and signal, in the service directory;
// the service is down and "finishing" meanwhile; then ./run starts again.
// A run killed by each signal gives 256 and that signal. ./finish lasts
// until the test has seen "finishing" and releases it, however slowly the
// test is scheduled.
func TestFinishGetsExit(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nexec sleep 100")
	writeFile(t, dir, "finish", finishLogs+"until rm release 2>/dev/null; do sleep 0.02; done\n", 0o755)
	release := func() { writeFile(t, dir, "release", "", 0o644) }
	_, errFile := svtest.StartSupervise(t, dir)
	signals := []unix.Signal{unix.SIGTERM, unix.SIGKILL, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM}
	var want []string
	for i, sig := range signals {
		s := svtest.WaitStatus(t, dir, "run up", func(s status.Status) bool { return s.Pid != 0 && s.Restarts == uint32(i) })
		testbin.Must(t, unix.Kill(s.Pid, sig))
		want = append(want, "256 "+strconv.Itoa(int(sig))+" "+dir)
		f := svtest.WaitStatus(t, dir, "finishing", func(s status.Status) bool { return s.Finishing })
		if f.Pid != 0 || f.State != status.Stopping || f.StateName() != "finishing" || !f.Exited ||
			f.LastExit != (status.Exit{Code: 256, Signal: int(sig)}) || f.Want != status.WantUp {
			t.Errorf("while finishing after %v: %+v", sig, f)
		}
		release()
	}
	svtest.WaitStatus(t, dir, "the last restart", func(s status.Status) bool { return s.Pid != 0 && s.Restarts == uint32(len(signals)) })
	if got := strings.Split(strings.TrimSpace(string(must(os.ReadFile(filepath.Join(dir, "finished"))))), "\n"); !slices.Equal(got, want) {
		t.Errorf("finish saw %q, want %q", got, want)
	}
	// An exit code, and svc -d: no restart after finish.
	writeFile(t, dir, "run", "#!/bin/sh\ntrap 'exit 3' TERM\necho $$ >> starts\nwhile :; do sleep 1 & wait; done\n", 0o755)
	svtest.OurSvc(t, "-t", dir)
	svtest.WaitStatus(t, dir, "finishing after -t", func(s status.Status) bool { return s.Finishing })
	release()
	restarted := svtest.WaitStatus(t, dir, "restarted with the new run", func(s status.Status) bool {
		return s.Pid != 0 && s.Restarts == uint32(len(signals))+1
	})
	// The new run logs its pid once its trap is set.
	svtest.WaitFor(t, 5*time.Second, "the new run's trap", func() bool {
		got := lines(t, filepath.Join(dir, "starts"))
		return len(got) > 0 && got[len(got)-1] == strconv.Itoa(restarted.Pid)
	})
	svtest.OurSvc(t, "-d", dir)
	svtest.WaitStatus(t, dir, "finishing after -d", func(s status.Status) bool { return s.Finishing })
	release()
	s := svtest.WaitStatus(t, dir, "down after finish", func(s status.Status) bool { return !s.Finishing && s.Pid == 0 })
	if s.LastExit != (status.Exit{Code: 3}) || s.Want != status.WantDown || s.State != status.Stopped {
		t.Errorf("after -d and finish: %+v", s)
	}
	if got := lines(t, filepath.Join(dir, "finished")); got[len(got)-3] != "3" {
		t.Errorf("finish after exit 3 got %q", got[len(got)-3:])
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A finish that is not executable, or that hangs: a warning, and the
// service goes on being supervised and restarted.
func TestFinishBad(t *testing.T) {
	t.Parallel()
	t.Run("not executable", func(t *testing.T) {
		dir := newService(t, "echo $$ >> starts\nexit 1")
		writeFile(t, dir, "finish", finishLogs, 0o644)
		_, errFile := svtest.StartSupervise(t, dir)
		svtest.WaitFor(t, 5*time.Second, "two starts", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) >= 2 })
		line := "supervise: warning: unable to start " + dir + "/finish: access denied\n"
		if e := stderrOf(errFile); !strings.HasPrefix(e, line) || strings.ReplaceAll(e, line, "") != "" {
			t.Errorf("stderr %q, want lines %q", e, line)
		}
	})
	t.Run("hangs", func(t *testing.T) {
		dir := newService(t, "echo $$ >> starts\nexit 1")
		// Appended: each ./finish adds its line, none empties another's.
		writeFile(t, dir, "finish", "#!/bin/sh\necho $$ >> finish.pid\nexec sleep 100\n", 0o755)
		writeFile(t, dir, "timeout-finish", "300\n", 0o644)
		_, errFile := svtest.StartSupervise(t, dir)
		svtest.WaitStatus(t, dir, "finishing", func(s status.Status) bool { return s.Finishing })
		svtest.WaitFor(t, 5*time.Second, "two starts", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) >= 2 })
		svtest.WaitFor(t, 5*time.Second, "a finish noted", func() bool { return len(lines(t, filepath.Join(dir, "finish.pid"))) >= 1 })
		pid, _ := strconv.Atoi(lines(t, filepath.Join(dir, "finish.pid"))[0])
		svtest.WaitFor(t, 5*time.Second, "the hung finish gone", func() bool { return !svtest.Alive(pid) })
		line := "supervise: warning: " + dir + "/finish still running after its timeout-finish: killed\n"
		if e := stderrOf(errFile); !strings.HasPrefix(e, line) {
			t.Errorf("stderr %q, want %q", e, line)
		}
	})
}

// trapRun logs the signals it gets and ignores them all but KILL.
const trapRun = `for s in TERM QUIT INT HUP USR1 USR2 WINCH CONT; do trap "echo $s >> signals" $s; done
echo $$ >> starts
while :; do sleep 1 & wait; done`

// down-signal replaces TERM for svc -d (CONT still follows); a bad one is
// a warning and TERM.
func TestDownSignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, sent, warning string }{
		{"QUIT\n", "QUIT", ""},
		{"SIGUSR2", "USR2", ""},
		{"1", "HUP", ""},
		{"FOO\n", "TERM", `supervise: warning: DIR/down-signal: unknown signal: "FOO", using TERM` + "\n"},
	} {
		t.Run(tc.sent, func(t *testing.T) {
			dir := newService(t, trapRun)
			writeFile(t, dir, "down-signal", tc.file, 0o644)
			_, errFile := svtest.StartSupervise(t, dir)
			svtest.WaitFor(t, 5*time.Second, "run's traps", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 })
			svtest.OurSvc(t, "-d", dir)
			svtest.WaitForNil(t, 5*time.Second, tc.sent+" and CONT", func() error {
				if got := lines(t, filepath.Join(dir, "signals")); !slices.Equal(got, []string{tc.sent, "CONT"}) {
					st, err := svtest.ReadStatus(t, dir)
					return fmt.Errorf("signals %q, starts %q, record %+v %v", got, lines(t, filepath.Join(dir, "starts")), st, err)
				}
				return nil
			})
			s := svtest.WaitStatus(t, dir, "stopping", func(s status.Status) bool { return s.State == status.Stopping })
			if s.Pid == 0 || s.Want != status.WantDown {
				t.Errorf("stopping: %+v", s)
			}
			if e, want := stderrOf(errFile), strings.ReplaceAll(tc.warning, "DIR", dir); e != want {
				t.Errorf("stderr %q, want %q", e, want)
			}
		})
	}
}

// timeout-kill: KILL after the down signal when ./run ignores it; a bad
// one is a warning, and the service is never killed.
func TestTimeoutKill(t *testing.T) {
	t.Parallel()
	t.Run("kills", func(t *testing.T) {
		dir := newService(t, trapRun)
		writeFile(t, dir, "timeout-kill", "300\n", 0o644)
		_, errFile := svtest.StartSupervise(t, dir)
		svtest.WaitFor(t, 5*time.Second, "run's traps", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 })
		sent := time.Now() // before: supervise may act before svc has exited
		svtest.OurSvc(t, "-d", dir)
		// Exited: not a record of before the start.
		s := svtest.WaitStatus(t, dir, "killed", func(s status.Status) bool { return s.Pid == 0 && s.Exited })
		if time.Since(sent) < 300*time.Millisecond {
			t.Errorf("killed after %v, before timeout-kill", time.Since(sent))
		}
		if s.LastExit != (status.Exit{Code: 256, Signal: int(unix.SIGKILL)}) || s.Want != status.WantDown {
			t.Errorf("after timeout-kill: %+v", s)
		}
		if e := stderrOf(errFile); e != "" {
			t.Errorf("stderr %q", e)
		}
	})
	t.Run("bad", func(t *testing.T) {
		dir := newService(t, trapRun)
		writeFile(t, dir, "timeout-kill", "-1\n", 0o644)
		_, errFile := svtest.StartSupervise(t, dir)
		svtest.WaitFor(t, 5*time.Second, "run's traps", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 })
		svtest.OurSvc(t, "-d", dir)
		want := "supervise: warning: " + dir + `/timeout-kill: not a number of milliseconds: "-1", ignored` + "\n"
		svtest.WaitFor(t, 5*time.Second, "the warning", func() bool { return stderrOf(errFile) == want })
		if !svtest.Holds(time.Second, func() bool { s, _ := svtest.ReadStatus(t, dir); return s.Pid != 0 }) {
			t.Error("killed without a valid timeout-kill")
		}
		svtest.OurSvc(t, "-k", dir)
		svtest.WaitStatus(t, dir, "down after -k", isDown)
	})
}

// The extension letters send QUIT, USR1, USR2 and WINCH.
func TestExtensionLetters(t *testing.T) {
	t.Parallel()
	dir := newService(t, trapRun)
	svtest.StartSupervise(t, dir)
	svtest.WaitFor(t, 5*time.Second, "run's traps", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 })
	var want []string
	for _, l := range []struct{ letter, sig string }{{"q", "QUIT"}, {"1", "USR1"}, {"2", "USR2"}, {"w", "WINCH"}} {
		svtest.OurSvc(t, "-"+l.letter, dir)
		want = append(want, l.sig)
		svtest.WaitFor(t, 5*time.Second, l.sig, func() bool { return slices.Equal(lines(t, filepath.Join(dir, "signals")), want) })
	}
}
