package faults

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// kill -9 of supervise while it rewrites its status as fast as it can: every
// status ever seen is a whole valid record, the service survives, and a new
// supervise takes the lock and works at once.
func TestSuperviseKill9(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	dir := filepath.Join(t.TempDir(), "svc")
	svtest.NewService(t, dir, "exec sleep 100000")
	p, st := superviseUp(t, dir)

	code, out := runSupervise(t, dir)
	if want := "supervise: fatal: unable to acquire " + dir + "/supervise/lock: temporary failure\n"; code != 111 || out != want {
		t.Fatalf("second supervise: exit %d %q, want exit 111 %q", code, out, want)
	}

	rounds := pick(5, 50)
	for round := range rounds {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var bad error
		f, err := os.OpenFile(filepath.Join(dir, "supervise", "control"), os.O_WRONLY, 0)
		testbin.Must(t, err)
		writing := make(chan struct{}) // closed once the first pc is written
		wg.Add(2)
		go func() { // pause and continue: each is a status rewrite
			defer wg.Done()
			defer f.Close()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.Write([]byte("pc")); err != nil {
					return // EPIPE once supervise is gone
				}
				if n == 0 {
					close(writing)
				}
			}
		}()
		go func() { // every status read is whole
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := svtest.WellFormedStatus(dir); err != nil && bad == nil {
					bad = err
				}
			}
		}()
		select {
		case <-writing:
		case <-time.After(svtest.Scaled(5 * time.Second)):
			t.Fatalf("round %d: the writer could not write to control", round)
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // the random moment of the kill
		p.Kill9(t)
		close(stop)
		wg.Wait()
		if bad != nil {
			t.Fatalf("round %d: a reader saw %v", round, bad)
		}
		last, err := svtest.WellFormedStatus(dir)
		if err != nil {
			t.Fatalf("round %d: status after kill -9: %v", round, err)
		}
		if last.Pid != st.Pid || !svtest.Alive(st.Pid) {
			t.Fatalf("round %d: status names pid %d, the service was %d (running: %v)", round, last.Pid, st.Pid, svtest.Alive(st.Pid))
		}
		if code := svok(t, dir); code != 100 {
			t.Fatalf("round %d: svok with supervise killed: exit %d, want 100", round, code)
		}

		// The orphaned service still runs; the new supervise adopts it
		// rather than starting a second copy.
		old := st.Pid
		p = start(t, exec.Command(prog(t, "supervise"), dir))
		svtest.WaitForNil(t, 10*time.Second, "supervise running", func() error {
			if code := svok(t, dir); code != 0 {
				return fmt.Errorf("svok exit %d", code)
			}
			return nil
		})
		if st, err = svtest.WellFormedStatus(dir); err != nil || st.Pid != old {
			t.Fatalf("round %d: new supervise reports pid %d (%v), want the adopted %d", round, st.Pid, err, old)
		}
		if n := countRuns(t, dir); n != 1 {
			t.Fatalf("round %d: %d copies of the service run, want 1", round, n)
		}
		checkSuperviseFiles(t, dir)
		if code := svok(t, dir); code != 0 {
			t.Fatalf("round %d: svok: exit %d, want 0", round, code)
		}
		svtest.Svc(t, prog(t, "svc"), "-d", dir)
		svtest.WaitForNil(t, 5*time.Second, "service down", func() error {
			s, err := svtest.WellFormedStatus(dir)
			if err == nil && (s.Pid != 0 || s.Want != 'd') {
				err = fmt.Errorf("status pid %d want %q", s.Pid, s.Want)
			}
			return err
		})
		svtest.Svc(t, prog(t, "svc"), "-u", dir)
		st = svtest.WaitUp(t, dir, st.Pid)
	}
}

// runSupervise runs a supervise that is expected to fail at once and
// returns its exit code and output.
func runSupervise(t testing.TB, dir string) (int, string) {
	t.Helper()
	p := start(t, exec.Command(prog(t, "supervise"), dir))
	code := p.Wait(t, 10*time.Second)
	return code, p.out.String()
}

// checkSuperviseFiles checks the files and modes of DIR/supervise.
func checkSuperviseFiles(t testing.TB, dir string) {
	t.Helper()
	for name, want := range map[string]os.FileMode{
		"":        os.ModeDir | 0700,
		"lock":    0600,
		"control": os.ModeNamedPipe | 0600,
		"ok":      os.ModeNamedPipe | 0600,
		"status":  0644,
	} {
		fi, err := os.Stat(filepath.Join(dir, "supervise", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("supervise/%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "supervise", "status")); err == nil && fi.Size() < 18 {
		t.Errorf("supervise/status: %d bytes", fi.Size())
	}
}

// svok runs svok on dir and returns its exit code.
func svok(t testing.TB, dir string) int {
	t.Helper()
	out, err := exec.Command(prog(t, "svok"), dir).CombinedOutput()
	noPanic(t, "svok", string(out))
	return exitCode(err)
}

// exitCode returns the exit code in err from exec, 0 for nil.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A service that exits at once, for a while: started at most once a second
// and still restarted, supervise's CPU use negligible, no zombie left behind
// for long, descriptors flat, and svc obeyed within the restart delay.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	crashLoop(t, "")
}

// crashLoop is TestCrashLoop with finish, when not "", as the service's
// ./finish script. It returns the service directory.
func crashLoop(t *testing.T, finish string) string {
	needRoot(t)
	duration := pick(10*time.Second, 60*time.Second)
	root := t.TempDir()
	dir := filepath.Join(root, "svc")
	startsFile := filepath.Join(root, "starts")
	svtest.NewService(t, dir, svtest.LogStartTime+startsFile+"\nexit 1")
	if finish != "" {
		svtest.WriteFile(t, filepath.Join(dir, "finish"), []byte(finish), 0o755)
	}
	p := start(t, exec.Command(prog(t, "supervise"), dir))
	pid := p.Pid()
	svtest.WaitForNil(t, 5*time.Second, "first start", func() error {
		_, err := os.Stat(startsFile)
		return err
	})
	// The descriptors supervise holds throughout: those in every reading
	// of the first half of the loop, so not one opened for a moment (to
	// fork, or to write the status) nor one leaked by a restart.
	steady, err := openFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	st0, err := svtest.ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	zombieSince := map[int]time.Time{}
	for time.Since(begin) < duration {
		now := time.Now()
		seen := map[int]bool{}
		for _, s := range svtest.AllProcs() {
			if s.PPid == pid && s.State == 'Z' {
				seen[s.Pid] = true
				if _, ok := zombieSince[s.Pid]; !ok {
					zombieSince[s.Pid] = now
				}
				if limit := svtest.Scaled(750 * time.Millisecond); now.Sub(zombieSince[s.Pid]) > limit {
					t.Fatalf("child %d of supervise is a zombie for more than %v", s.Pid, limit)
				}
			}
		}
		for z := range zombieSince {
			if !seen[z] {
				delete(zombieSince, z)
			}
		}
		if p.HasExited() {
			t.Fatalf("supervise exited: %v\n%s", p.Cmd.ProcessState, p.out)
		}
		if now.Sub(begin) < duration/2 {
			fds, err := openFDs(pid)
			if err != nil {
				t.Fatal(err)
			}
			maps.DeleteFunc(steady, func(fd int, target string) bool { return fds[fd] != target })
		}
		time.Sleep(50 * time.Millisecond)
	}
	st1, err := svtest.ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}

	starts := svtest.ReadStartTimes(t, startsFile)
	span := starts[len(starts)-1].Sub(starts[0])
	t.Logf("%d starts in %v; supervise used %d CPU ticks", len(starts), span.Round(time.Millisecond), st1.Ticks-st0.Ticks)
	if len(starts) < int(duration/(2*time.Second)) {
		t.Errorf("only %d starts in %v: not restarted", len(starts), duration)
	}
	for i := 1; i < len(starts); i++ {
		// supervise forks a little after it takes the time of a start,
		// later under load: allow for that delay.
		if gap := starts[i].Sub(starts[i-1]); gap < time.Second-svtest.Scaled(50*time.Millisecond) {
			t.Errorf("starts %d and %d only %v apart", i-1, i, gap)
		}
	}
	// Negligible: under 2% of one CPU.
	if used, limit := st1.Ticks-st0.Ticks, uint64(duration/tick/50); used > limit {
		t.Errorf("supervise used %d CPU ticks in %v, limit %d", used, duration, limit)
	}
	svtest.WaitForNil(t, 3*time.Second, "descriptors back to the steady ones", func() error {
		fds, err := openFDs(pid)
		if err == nil && !maps.Equal(fds, steady) {
			err = fmt.Errorf("descriptors open beyond the steady ones %v, steady ones closed %v", fdsNotIn(fds, steady), fdsNotIn(steady, fds))
		}
		return err
	})

	// Control is obeyed inside the restart delay, and the loop stops.
	svtest.StopsInRestartGap(t, prog(t, "svc"), dir, startsFile)
	return dir
}

// fdsNotIn lists the descriptors of a that b lacks or has pointing elsewhere.
func fdsNotIn(a, b map[int]string) []string {
	var diff []string
	for fd, target := range a {
		if b[fd] != target {
			diff = append(diff, fmt.Sprintf("%d:%s", fd, target))
		}
	}
	slices.Sort(diff)
	return diff
}

// tick is the unit of the times in /proc/PID/stat (USER_HZ is 100 on Linux).
const tick = 10 * time.Millisecond

// 10,000 random bytes into the control FIFO, in random pieces: supervise
// survives and ends in exactly the state the command letters among them ask
// for. The service ignores every signal svc sends but KILL (those of
// doc/extensions.md's q, 1 and 2 too; w's WINCH is ignored by default), and k
// is left out of the bytes, so the service never dies and the state is
// exact: same pid, want from the last u/d/o, paused from the last p/c/d,
// and at the end supervise exits on KILL if an x was among them.
func TestControlGarbage(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	dir := filepath.Join(t.TempDir(), "svc")
	svtest.NewService(t, dir, "trap '' HUP ALRM INT TERM QUIT USR1 USR2\nexec sleep 100000")
	p, st := superviseUp(t, dir)
	// Until sh has set its traps, a signal from the garbage would kill it.
	svtest.WaitFor(t, 5*time.Second, "the service to ignore signals", func() bool {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", st.Pid))
		return string(comm) == "sleep\n"
	})

	garbage := make([]byte, 10000)
	for i := range garbage {
		for garbage[i] = byte(rng.IntN(256)); garbage[i] == 'k'; {
			garbage[i] = byte(rng.IntN(256))
		}
	}
	want, paused, exit := byte('u'), false, false
	for _, b := range garbage {
		switch b {
		case 'u':
			want = 'u'
		case 'd':
			want, paused = 'd', false // TERM is ignored, CONT resumes
		case 'o':
			want = 0
		case 'p':
			paused = true
		case 'c':
			paused = false
		case 'x':
			exit = true
		}
	}

	control, err := os.OpenFile(filepath.Join(dir, "supervise", "control"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close()
	for rest := garbage; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(600))
		if _, err := control.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	svtest.WaitForNil(t, 10*time.Second, "state asked for", func() error {
		if p.HasExited() {
			t.Fatalf("supervise exited: %v\n%s", p.Cmd.ProcessState, p.out)
		}
		if n, err := unix.IoctlGetInt(int(control.Fd()), unix.TIOCINQ); err != nil || n > 0 {
			return fmt.Errorf("%d bytes still unread in control (%v)", n, err)
		}
		s, err := svtest.WellFormedStatus(dir)
		if err != nil {
			return err
		}
		ps, err := svtest.ReadStat(st.Pid)
		if err != nil {
			return fmt.Errorf("service %d is gone: %v", st.Pid, err)
		}
		if s.Pid != st.Pid || s.Want != want || s.Paused != paused || (ps.State == 'T') != paused {
			return fmt.Errorf("status pid %d want %q paused %v, process state %c; want pid %d want %q paused %v",
				s.Pid, s.Want, s.Paused, ps.State, st.Pid, want, paused)
		}
		return nil
	})
	if code := svok(t, dir); code != 0 {
		t.Fatalf("svok: exit %d", code)
	}

	svtest.Svc(t, prog(t, "svc"), "-k", dir)
	switch {
	case exit:
		if code := p.Wait(t, 10*time.Second); code != 0 {
			t.Fatalf("supervise after x and KILL: exit %d, want 0\n%s", code, p.out)
		}
	case want == 'u':
		svtest.WaitUp(t, dir, st.Pid)
	default:
		svtest.WaitForNil(t, 5*time.Second, "service down", func() error {
			s, err := svtest.WellFormedStatus(dir)
			if err == nil && s.Pid != 0 {
				err = fmt.Errorf("status pid %d", s.Pid)
			}
			return err
		})
	}
	noPanic(t, "supervise", p.out.String())
	t.Logf("want %q, paused %v, exit %v", want, paused, exit)
}

// A run that is missing, then not executable: supervise says why in
// daemontools' words, tries again once a second, and starts the service as
// soon as run is fixed.
func TestSuperviseBadRun(t *testing.T) {
	t.Parallel()
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "svc")
	testbin.Must(t, os.Mkdir(dir, 0755))
	p := start(t, exec.Command(prog(t, "supervise"), dir))
	run := filepath.Join(dir, "run")
	begin := time.Now()
	for _, phase := range []struct {
		fix    func()
		reason string
	}{
		{func() {}, "file does not exist"},
		{func() { testbin.Must(t, os.WriteFile(run, []byte("#!/bin/sh\nexec sleep 100000\n"), 0644)) }, "access denied"},
	} {
		phase.fix()
		line := "supervise: fatal: unable to start " + dir + "/run: " + phase.reason + "\n"
		svtest.WaitForNil(t, 5*time.Second, "two tries of "+line, func() error {
			if n := strings.Count(p.out.String(), line); n < 2 {
				return fmt.Errorf("%d tries in %q", n, p.out)
			}
			return nil
		})
	}
	testbin.Must(t, os.Chmod(run, 0755))
	svtest.WaitForNil(t, 5*time.Second, "the service running", func() error {
		st, err := svtest.WellFormedStatus(dir)
		if err != nil {
			return err
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.Pid)); err != nil || !strings.HasPrefix(string(b), "sleep\x00") {
			return fmt.Errorf("status pid %d is %q (%v), want sleep", st.Pid, b, err)
		}
		return nil
	})
	out := p.out.String()
	tries := strings.Count(out, "\n")
	if elapsed := time.Since(begin); tries > int(elapsed/time.Second)+1 {
		t.Errorf("%d tries in %v: more than one a second", tries, elapsed)
	}
	for _, line := range strings.SplitAfter(out, "\n") {
		if line != "" && !strings.HasPrefix(line, "supervise: fatal: unable to start "+dir+"/run: ") {
			t.Errorf("unexpected output %q", line)
		}
	}
	if p.HasExited() {
		t.Fatalf("supervise exited: %v", p.Cmd.ProcessState)
	}
}
