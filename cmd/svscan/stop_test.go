package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// lastWords is what a runLastWords service logs, start to end.
func lastWords() string {
	var b strings.Builder
	b.WriteString("started\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "last %d\n", i)
	}
	b.WriteString("done\n")
	return b.String()
}

// loggedServices makes n services that each write a burst of lines when
// told to stop, logged by multilog, and one service without a logger.
func loggedServices(t *testing.T, dir string, n int) []string {
	var names []string
	for i := range n {
		name := fmt.Sprintf("s%02d", i)
		makeService(t, filepath.Join(dir, name), runLastWords, "exec multilog s16777215 ./main")
		// However busy the machine, the burst is not cut short.
		writeFile(t, filepath.Join(dir, name, "timeout-kill"), "60000\n", 0644)
		names = append(names, name)
	}
	makeService(t, filepath.Join(dir, "plain"), "exec sleep 1000", "")
	return names
}

// waitLogging waits until every service is up and has logged its start.
func waitLogging(t *testing.T, dir string, names []string) {
	t.Helper()
	for _, name := range names {
		waitUp(t, 10*time.Second, filepath.Join(dir, name), filepath.Join(dir, name, "log"))
		svtest.WaitFor(t, 10*time.Second, name+" started", func() bool {
			log, _ := os.ReadFile(filepath.Join(dir, name, "log/main/current"))
			return string(log) == "started\n"
		})
	}
	waitUp(t, 10*time.Second, filepath.Join(dir, "plain"))
}

// checkLogs fails the test unless every service logged every line it wrote.
func checkLogs(t *testing.T, dir string, names []string) {
	t.Helper()
	want := lastWords()
	for _, name := range names {
		log, _ := os.ReadFile(filepath.Join(dir, name, "log/main/current"))
		if string(log) != want {
			t.Errorf("%s logged %d bytes of %d: lines lost", name, len(log), len(want))
		}
	}
}

// On SIGTERM and on SIGINT, svscan stops every service, each logger after
// its service so that every line is logged, and exits 0 with nothing left
// running; with supervise processes and under svscan -1 alike.
func TestTermStopsEverythingInOrder(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(sig.String(), func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "service")
				names := loggedServices(t, dir, 3)
				s := m.start(t, dir)
				waitLogging(t, dir, names)
				s.signal(t, sig)
				if code := s.Wait(t, 10*time.Second); code != 0 {
					t.Errorf("svscan exited %d", code)
				}
				checkLogs(t, dir, names)
				noneLeft(t, s.Group)
				if s.stderr() != "" {
					t.Errorf("stderr %q", s.stderr())
				}
			})
		}
	})
}

// ignoresTerm is a service that ignores TERM (and so do its children).
const ignoresTerm = "trap '' TERM\nwhile :; do sleep 0.05; done"

// A service that ignores its stop signal is killed after its timeout-kill,
// or after the scanned directory's .svscan/timeout-kill default; either
// way it gets that long, and svscan then exits 0.
func TestTermKillsAfterDeadline(t *testing.T) { forModes(t, termKillsAfterDeadline) }

func termKillsAfterDeadline(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	makeService(t, filepath.Join(dir, "own"), ignoresTerm, "")
	writeFile(t, filepath.Join(dir, "own/timeout-kill"), "200\n", 0644)
	makeService(t, filepath.Join(dir, "default"), ignoresTerm, "")
	writeFile(t, filepath.Join(dir, ".svscan/timeout-kill"), "700\n", 0644)
	s := m.start(t, dir)
	pids := waitUp(t, 10*time.Second, dir+"/own", dir+"/default")
	for _, pid := range pids {
		waitIgnoring(t, pid, syscall.SIGTERM)
	}
	start := time.Now()
	s.signal(t, syscall.SIGTERM)
	svtest.WaitFor(t, 5*time.Second, "own killed", func() bool { return !svtest.Alive(pids[dir+"/own"]) })
	killedOwn := time.Since(start)
	if code := s.Wait(t, 5*time.Second); code != 0 {
		t.Errorf("svscan exited %d", code)
	}
	took := time.Since(start)
	if killedOwn < 200*time.Millisecond || took < 700*time.Millisecond {
		t.Errorf("own killed after %v (timeout-kill 200 ms), svscan gone after %v (default 700 ms)", killedOwn, took)
	}
	if svtest.Alive(pids[dir+"/default"]) {
		t.Errorf("default's service %d still running", pids[dir+"/default"])
	}
}

// A removed service that ignores its stop signal is killed after its
// timeout-kill, and its supervisor ends: it no longer stays up, "want
// down", for ever.
func TestRemovedServiceIsKilledAfterDeadline(t *testing.T) {
	forModes(t, removedServiceIsKilledAfterDeadline)
}

func removedServiceIsKilledAfterDeadline(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(root, "stubborn"), ignoresTerm, "")
	writeFile(t, filepath.Join(root, "stubborn/timeout-kill"), "300\n", 0644)
	testbin.Must(t, os.MkdirAll(dir, 0755))
	testbin.Must(t, os.Symlink(filepath.Join(root, "stubborn"), filepath.Join(dir, "stubborn")))
	m.start(t, dir)
	pid := waitUp(t, 10*time.Second, dir+"/stubborn")[dir+"/stubborn"]
	testbin.Must(t, os.Remove(filepath.Join(dir, "stubborn")))
	svtest.WaitFor(t, 5*time.Second, "the service and its supervisor gone", func() bool {
		return !svtest.Alive(pid) && !supervised(t, filepath.Join(root, "stubborn"))
	})
}

// A removed service is stopped with its down-signal, not TERM: this one
// ignores TERM and has no timeout-kill, so only QUIT ends it.
func TestRemovedServiceGetsDownSignal(t *testing.T) { forModes(t, removedServiceGetsDownSignal) }

func removedServiceGetsDownSignal(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(root, "graceful"), "trap 'echo QUIT >got; exit 0' QUIT\ntrap '' TERM\n: >trapped\nwhile :; do sleep 0.05; done", "")
	writeFile(t, filepath.Join(root, "graceful/down-signal"), "QUIT\n", 0644)
	testbin.Must(t, os.MkdirAll(dir, 0755))
	testbin.Must(t, os.Symlink(filepath.Join(root, "graceful"), filepath.Join(dir, "graceful")))
	s := m.start(t, dir)
	pid := waitUp(t, 10*time.Second, dir+"/graceful")[dir+"/graceful"]
	svtest.WaitFor(t, 5*time.Second, "the traps set", func() bool { return svtest.Exists(filepath.Join(root, "graceful/trapped")) })
	sup := s.supervisePid("graceful") // 0 under svscan -1
	testbin.Must(t, os.Remove(filepath.Join(dir, "graceful")))
	svtest.WaitFor(t, 5*time.Second, "the service and its supervise gone", func() bool {
		return !svtest.Alive(pid) && !svtest.Alive(sup)
	})
	if got, err := os.ReadFile(filepath.Join(root, "graceful/got")); string(got) != "QUIT\n" {
		t.Errorf("the service got %q (%v), want its down-signal QUIT", got, err)
	}
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// orphanMaker is a service that forks twice, like a daemon: the grandchild
// notes its pid and lives briefly, its parent gone.
const orphanMaker = `(sh -c 'echo $$ >orphan.new && mv orphan.new orphan && exec sleep 0.3' &)
exec sleep 1000`

// An orphan a service leaves comes back to svscan (a subreaper; the test
// process is one too, and would keep it as a zombie), or to the service's
// supervise, which reaps it as soon as it dies.
func TestReapsOrphans(t *testing.T) { forModes(t, reapsOrphans) }

func reapsOrphans(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	makeService(t, filepath.Join(dir, "a"), orphanMaker, "")
	m.start(t, dir)
	orphan := waitOrphan(t, filepath.Join(dir, "a"))
	svtest.WaitFor(t, 5*time.Second, "the orphan reaped", func() bool {
		_, err := svtest.ReadStat(orphan)
		return err != nil
	})
}

// waitOrphan returns the pid an orphanMaker service noted.
func waitOrphan(t *testing.T, dir string) int {
	t.Helper()
	var pid int
	svtest.WaitFor(t, 10*time.Second, "the orphan's pid", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "orphan"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	return pid
}

// pid1 is an svscan running as PID 1 of a new PID namespace, with /proc of
// its own.
type pid1 struct {
	*svtest.Group
	svscan int // its pid outside the namespace
	stderr string
}

func startPid1(t *testing.T, args ...string) *pid1 {
	t.Helper()
	return startPid1Output(t, nil, args...)
}

// startPid1Output is startPid1 with stdout as svscan's standard output.
func startPid1Output(t *testing.T, stdout *os.File, args ...string) *pid1 {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc", testbin.Path(t, "svscan")}, args...)...)
	cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
	if stdout != nil {
		cmd.Stdout = stdout
	}
	p := &pid1{stderr: filepath.Join(t.TempDir(), "stderr")}
	cmd.Stderr = svtest.Create(t, p.stderr)
	p.Group = svtest.Start(t, cmd)
	svtest.WaitFor(t, 5*time.Second, "svscan as PID 1", func() bool {
		for _, c := range svtest.Procs(p.Pid()) {
			if c.PPid == p.Pid() && len(c.Args) > 0 && filepath.Base(c.Args[0]) == "svscan" {
				p.svscan = c.Pid
			}
		}
		return p.svscan != 0
	})
	return p
}

func (p *pid1) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	testbin.Must(t, syscall.Kill(p.svscan, sig))
}

// As a container's PID 1, svscan reaps the orphans of its services,
// supervises a daemon that forks, stops everything in order on TERM (the
// last lines are logged, a service that ignores TERM is killed after the
// deadline, the daemon gets TERM) and exits 0.
func TestPid1(t *testing.T) { forModes(t, asPid1) }

func asPid1(t *testing.T, m mode) {
	dir := filepath.Join(testbin.PublicDir(t), "service")
	names := loggedServices(t, dir, 2)
	makeService(t, filepath.Join(dir, "orphans"), orphanMaker, "")
	makeService(t, filepath.Join(dir, "stubborn"), ignoresTerm, "")
	writeFile(t, filepath.Join(dir, "stubborn/timeout-kill"), "500\n", 0644)
	daemonService(t, filepath.Join(dir, "daemon"), "")
	p := m.startPid1(t, dir)
	waitLogging(t, dir, names)
	// The orphan's pid is its pid inside: find it by its parent.
	waitOrphan(t, filepath.Join(dir, "orphans"))
	svtest.WaitFor(t, 5*time.Second, "the orphan reaped", func() bool {
		for _, c := range svtest.Procs(p.Pid()) {
			if c.PPid == p.svscan && len(c.Args) == 0 {
				return false // a zombie child of svscan
			}
			if len(c.Args) == 2 && c.Args[0] == "sleep" && c.Args[1] == "0.3" {
				return false
			}
		}
		return true
	})
	waitUp(t, 5*time.Second, dir+"/stubborn")
	// Both pids are the namespace's.
	waitDaemon(t, dir+"/daemon", 0)
	start := time.Now()
	p.signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("svscan as PID 1 exited %d", code)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "daemon/stops")); string(b) != "stopped\n" {
		t.Errorf("the forking daemon's stops: %q", b)
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("stopped after %v: stubborn got less than its 500 ms", took)
	}
	checkLogs(t, dir, names)
	if b, _ := os.ReadFile(p.stderr); len(b) != 0 {
		t.Errorf("stderr %q", b)
	}
}

// As PID 1, svscan outlives the signals the Go runtime would die of (USR1,
// USR2, PWR) and stops everything in order on QUIT, as on TERM.
func TestPid1OtherSignals(t *testing.T) { forModes(t, pid1OtherSignals) }

func pid1OtherSignals(t *testing.T, m mode) {
	dir := filepath.Join(testbin.PublicDir(t), "service")
	names := loggedServices(t, dir, 1)
	p := m.startPid1(t, dir)
	waitLogging(t, dir, names)
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPWR, syscall.SIGQUIT} {
		p.signal(t, sig)
	}
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("svscan as PID 1 exited %d", code)
	}
	checkLogs(t, dir, names)
	if b, _ := os.ReadFile(p.stderr); len(b) != 0 {
		t.Errorf("stderr %q", b)
	}
}

// waitIgnoring waits until the process pid ignores sig: a service's
// `trap ” TERM` has run, so a stop now cannot kill it before its time.
func waitIgnoring(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	svtest.WaitFor(t, 10*time.Second, fmt.Sprintf("pid %d to ignore %v", pid, sig), func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "SigIgn:\t"); ok {
				mask, _ := strconv.ParseUint(v, 16, 64)
				return mask&(1<<(sig-1)) != 0
			}
		}
		return false
	})
}

// pidfileDaemon is a daemon that double-forks away from ./run, says so on
// its stdout (the logger's pipe), writes its pid to daemon.pid once its
// TERM trap is set, and exits 7 on TERM. Its stderr is /dev/null: sh says
// "Terminated" when the stop's TERM reaches its sleep too.
const pidfileDaemon = `rm -f daemon.pid
sh -c 'sh -c "exec 2>/dev/null
trap \"echo stopped >>stops; exit 7\" TERM
echo daemon \$\$
echo \$\$ >daemon.pid.new && mv daemon.pid.new daemon.pid
while :; do sleep 0.05; done" &'
exit 0`

// longOrphan is a service that forks twice: the grandchild notes its pid
// in orphan and lives on, its parent gone.
const longOrphan = `(sh -c 'echo $$ >orphan.new && mv orphan.new orphan && exec sleep 1000' &)
exec sleep 1000`

// daemonService makes the service directory dir with a pidfileDaemon, and
// a logger if logRun is not empty.
func daemonService(t *testing.T, dir, logRun string) {
	t.Helper()
	makeService(t, dir, pidfileDaemon, logRun)
	writeFile(t, filepath.Join(dir, "pidfile"), "daemon.pid\n", 0644)
}

// waitDaemon waits until dir's service is up as the daemon its pidfile
// names, other than old, and returns its pid.
func waitDaemon(t *testing.T, dir string, old int) int {
	t.Helper()
	var pid int
	svtest.WaitFor(t, 20*time.Second, "the daemon up as the service", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "daemon.pid"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return pid != 0 && pid != old && upPid(t, dir) == pid
	})
	return pid
}

// A daemon that forks and writes a pidfile is supervised as the service in
// both modes: svstat shows its pid from the pidfile, its output reaches
// the logger, a kill -9 brings a new one, and svscan's stop on TERM stops
// it (exit 7 from its trap) and leaves nothing running.
func TestPidfileDaemon(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		dir := filepath.Join(t.TempDir(), "service")
		d := filepath.Join(dir, "d")
		daemonService(t, d, "exec cat >>out")
		s := m.start(t, dir)
		daemon := waitDaemon(t, d, 0)
		if long := svtest.SvstatLong(t, d); !strings.Contains(long, "pid from pidfile") {
			t.Errorf("svstat -l: %q", long)
		}
		svtest.WaitFor(t, 10*time.Second, "the daemon's line logged", func() bool {
			out, _ := os.ReadFile(filepath.Join(d, "log/out"))
			return string(out) == fmt.Sprintf("daemon %d\n", daemon)
		})
		testbin.Must(t, syscall.Kill(daemon, syscall.SIGKILL))
		second := waitDaemon(t, d, daemon)
		s.signal(t, syscall.SIGTERM)
		if code := s.Wait(t, 10*time.Second); code != 0 {
			t.Errorf("svscan exited %d", code)
		}
		if b, _ := os.ReadFile(filepath.Join(d, "stops")); string(b) != "stopped\n" {
			t.Errorf("the daemon's stops: %q", b)
		}
		if out, _ := os.ReadFile(filepath.Join(d, "log/out")); string(out) != fmt.Sprintf("daemon %d\ndaemon %d\n", daemon, second) {
			t.Errorf("logged %q", out)
		}
		noneLeft(t, s.Group)
	})
}

// A pidfile that names the orphan of another service, started after this
// ./run, is not trusted in either mode, however many services share
// svscan's process: the service is not up with that pid, and svc -d of it
// leaves that orphan alone.
func TestPidfileNamesAnotherServicesOrphan(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		dir := filepath.Join(t.TempDir(), "service")
		a, other := filepath.Join(dir, "a"), filepath.Join(dir, "other")
		makeService(t, a, "echo >started\nwhile [ ! -e ../other/orphan ]; do sleep 0.05; done\ncp ../other/orphan daemon.pid\nexit 0", "")
		writeFile(t, filepath.Join(a, "pidfile"), "daemon.pid\n", 0644)
		// The orphan starts once a's ./run has.
		makeService(t, other, "while [ ! -e ../a/started ]; do sleep 0.05; done\n"+longOrphan, "")
		s := m.start(t, dir)
		orphan := waitOrphan(t, other)
		want := fmt.Sprintf("supervise: warning: no daemon 5 seconds after a/run exited 0: a/daemon.pid names pid %d, which is not a descendant of a/run\n", orphan)
		svtest.WaitFor(t, 20*time.Second, "the warning", func() bool {
			if upPid(t, a) == orphan {
				t.Fatalf("a is up with pid %d, the orphan of other", orphan)
			}
			b, _ := os.ReadFile(s.stderrPath)
			return strings.HasPrefix(string(b), want)
		})
		svtest.OurSvc(t, "-d", a)
		svtest.WaitFor(t, 10*time.Second, "a down", func() bool {
			st, ok := svtest.ReadStatus(t, a)
			return ok && st.Pid == 0 && st.Want == status.WantDown
		})
		if !svtest.Holds(time.Second, func() bool { return svtest.Alive(orphan) }) {
			t.Errorf("svc -d a stopped %d, the orphan of other", orphan)
		}
	})
}
