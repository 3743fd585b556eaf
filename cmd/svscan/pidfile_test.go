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

	"daemontools/internal/scan"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A daemon that forks and writes a pidfile is supervised the same way
// under plain svscan and svscan -1: the pid from the pidfile is the
// service's (svstat -l says so), a kill -9 of the daemon starts ./run
// again and the new daemon is supervised, with no copy left of the old
// one and no zombie; svc -d stops it.
func TestPidfileBothModes(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "service")
			pf := filepath.Join(dir, "pf")
			makeService(t, pf, "rm -f daemon.pid\nsh -c 'echo $$ >daemon.pid.new && mv daemon.pid.new daemon.pid && exec sleep 1000' &\nexit 0", "")
			writeFile(t, filepath.Join(pf, "pidfile"), "daemon.pid\n", 0o644)
			s := m.start(t, dir)
			// daemonUp waits until the status names the daemon in the
			// pidfile, other than old, and svstat -l says it as want
			// (with %d for its pid); it returns the daemon's pid.
			daemonUp := func(old int, want string) int {
				t.Helper()
				var pid int
				svtest.WaitForNil(t, 15*time.Second, "the daemon supervised", func() error {
					b, err := os.ReadFile(filepath.Join(pf, "daemon.pid"))
					if err != nil {
						return err
					}
					pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
					if got := upPid(t, pf); pid == old || got != pid {
						return fmt.Errorf("daemon.pid says %d, svstat %d", pid, got)
					}
					return nil
				})
				if got, want := svtest.SvstatLong(t, pf), fmt.Sprintf(want, pid); got != want {
					t.Errorf("svstat -l: %q, want %q", got, want)
				}
				// The daemon alone works in pf, beside its supervise
				// if any: ./run and the shell that forked it are gone,
				// and reaped.
				svtest.WaitForNil(t, 5*time.Second, "the daemon alone, no zombie", func() error {
					var there []int
					for _, p := range svtest.AllProcs() {
						if p.Session != s.Pid() || p.Pid == s.supervisePid("pf") {
							continue
						}
						if p.State == 'Z' {
							return fmt.Errorf("zombie %d", p.Pid)
						}
						if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.Pid)); cwd == pf {
							there = append(there, p.Pid)
						}
					}
					if len(there) != 1 || there[0] != pid {
						return fmt.Errorf("processes in %s: %v, want the daemon %d", pf, there, pid)
					}
					return nil
				})
				return pid
			}
			daemon := daemonUp(0, "up (pid %d) N seconds, pid from pidfile, 0 restarts")
			testbin.Must(t, syscall.Kill(daemon, syscall.SIGKILL))
			daemon = daemonUp(daemon, "up (pid %d) N seconds, pid from pidfile, 1 restart, last killed by SIGKILL")
			svtest.Svc(t, "/usr/bin/svc", "-d", pf)
			svtest.WaitFor(t, 5*time.Second, "the daemon stopped", func() bool { return upPid(t, pf) == 0 && !svtest.Alive(daemon) })
			if got, want := svtest.SvstatLong(t, pf), "down N seconds, normally up, 1 restart, last killed by SIGTERM"; got != want {
				t.Errorf("svstat -l after svc -d: %q, want %q", got, want)
			}
			if s.stderr() != "" {
				t.Errorf("stderr %q", s.stderr())
			}
		})
	}
}

// MAINPID= naming another service's orphan is refused in both modes: in
// svscan -1 every service's orphans come back to the one process, so
// coming back to it says nothing of whose an orphan is. The orphan, made
// by b after a's ./run started, is left alone when a stops.
func TestMainpidOtherServicesOrphan(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	testbin.Must(t, err)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "service")
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			orphanFile := filepath.Join(dir, ".orphan")
			makeService(t, b, "while [ ! -e ../.go ]; do sleep 0.05; done\n"+
				"sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >../.orphan.new && mv ../.orphan.new ../.orphan'\n"+
				"exec sleep 1000", "")
			makeService(t, a, "touch ../.go\nwhile [ ! -e ../.orphan ]; do sleep 0.05; done\n"+
				readyHelperEnv+"=1 "+mainpidHelperEnv+"=../.orphan exec '"+self+"'", "")
			writeFile(t, filepath.Join(a, "notify-socket"), "", 0o644)
			s := m.start(t, dir)
			svtest.WaitForNil(t, 15*time.Second, "a ready", func() error {
				if got := svtest.SvstatLong(t, a); !strings.Contains(got, ", ready ") {
					return fmt.Errorf("svstat -l a: %q", got)
				}
				return nil
			})
			b2, err := os.ReadFile(orphanFile)
			testbin.Must(t, err)
			orphan, err := strconv.Atoi(strings.TrimSpace(string(b2)))
			testbin.Must(t, err)
			run := upPid(t, a)
			if run == orphan {
				t.Errorf("a's pid is b's orphan %d", orphan)
			}
			warning := "supervise: warning: a/notify-socket: MAINPID from pid " + strconv.Itoa(run) + " names pid " +
				strconv.Itoa(orphan) + ", which is not a descendant of a/run: ignored\n"
			svtest.WaitForNil(t, 5*time.Second, "the warning", func() error {
				if got, _ := os.ReadFile(s.stderrPath); string(got) != warning {
					return fmt.Errorf("stderr %q, want %q", got, warning)
				}
				return nil
			})
			svtest.Svc(t, "/usr/bin/svc", "-d", a)
			svtest.WaitFor(t, 5*time.Second, "a down", func() bool { return upPid(t, a) == 0 && !svtest.Alive(run) })
			if !svtest.Alive(orphan) {
				t.Errorf("b's orphan %d was stopped with a", orphan)
			}
			testbin.Must(t, syscall.Kill(orphan, syscall.SIGKILL))
		})
	}
}

// Under svscan -1, a service that gets a pidfile file while it runs is
// handed at the next full scan to a supervise process of its own, which
// adopts it: the same pid, nothing started twice. Its next ./run is that
// supervise's child, and the one before is reaped by svscan.
func TestOneProcessPidfileAdded(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	pf := filepath.Join(dir, "pf")
	makeService(t, pf, "echo $$ >> starts\nexec sleep 1000", "")
	s := startScanner(t, []string{"-1", dir})
	pid := waitUp(t, 5*time.Second, pf)[pf]
	if sup := s.supervisePid("pf"); sup != 0 {
		t.Fatalf("supervise process %d for a service without pidfile", sup)
	}
	writeFile(t, filepath.Join(pf, "pidfile"), "daemon.pid\n", 0o644)
	var sup int
	svtest.WaitFor(t, 15*time.Second, "a supervise process for pf", func() bool {
		sup = s.supervisePid("pf")
		return sup != 0
	})
	if got := upPid(t, pf); got != pid {
		t.Fatalf("after the hand-off, pid %d, want %d, adopted", got, pid)
	}
	testbin.Must(t, syscall.Kill(pid, syscall.SIGKILL))
	var next int
	svtest.WaitFor(t, 5*time.Second, "./run started again", func() bool {
		next = upPid(t, pf)
		return next != 0 && next != pid
	})
	st, err := svtest.ReadStat(next)
	testbin.Must(t, err)
	if st.PPid != sup {
		t.Errorf("the new ./run %d is a child of %d, want the supervise %d", next, st.PPid, sup)
	}
	// The status names ./run from its fork on; its line comes once it runs.
	var starts []byte
	want := fmt.Sprintf("%d\n%d\n", pid, next)
	if !svtest.Poll(5*time.Second, func() bool {
		starts, _ = os.ReadFile(filepath.Join(pf, "starts"))
		return string(starts) == want
	}) {
		t.Errorf("starts %q, want %q", starts, want)
	}
	svtest.WaitFor(t, 5*time.Second, "the killed ./run reaped", func() bool { return !svtest.Alive(pid) })
	if got, want := svtest.SvstatLong(t, pf), fmt.Sprintf("up (pid %d) N seconds, 1 restart, last exit unknown", next); got != want {
		t.Errorf("svstat -l: %q, want %q", got, want)
	}
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// A service with readiness keeps it through the hand-off to a supervise
// process: one ready before is still ready after, as svstat -l says, and
// one that has not said it yet is handed off only once it has, since the
// supervise that adopts it cannot hear it (the notification-fd pipe and
// the notify socket are svscan's). Before, the adopted service lost its
// readiness, and one not ready yet died of SIGPIPE on writing it.
func TestOneProcessPidfileAddedReadiness(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	pf := filepath.Join(dir, "pf")
	marker := filepath.Join(dir, "marker")
	makeService(t, pf, "echo $$ >> starts\nuntil [ -e go ]; do sleep 0.05; done\necho >&3\nexec sleep 1000", "")
	writeFile(t, filepath.Join(pf, "notification-fd"), "3\n", 0o644)
	makeService(t, marker, "exec sleep 1000", "")
	s := startScanner(t, []string{"-1", dir}, scan.IntervalEnv+"=1h")
	pid := waitUp(t, 5*time.Second, pf, marker)[pf]

	writeFile(t, filepath.Join(pf, "pidfile"), "daemon.pid\n", 0o644)
	fullScan(t, s, marker)
	// svscan's children: pf's ./run and the marker's, no supervise forked.
	if kids := children(s); len(kids) != 2 {
		t.Errorf("handed off before it is ready: svscan's children %v", kids)
	}
	if got, want := svtest.SvstatLong(t, pf), fmt.Sprintf("up (pid %d) N seconds, starting, not ready, 0 restarts", pid); got != want {
		t.Errorf("svstat -l before ready: %q, want %q", got, want)
	}
	writeFile(t, filepath.Join(pf, "go"), "", 0o644)
	want := fmt.Sprintf("up (pid %d) N seconds, ready N seconds, 0 restarts", pid)
	svtest.WaitFor(t, 5*time.Second, "pf ready", func() bool { return svtest.SvstatLong(t, pf) == want })
	fullScan(t, s, marker)
	svtest.WaitFor(t, 5*time.Second, "a supervise process for pf", func() bool { return s.supervisePid("pf") != 0 })
	if got := svtest.SvstatLong(t, pf); got != want {
		t.Errorf("svstat -l after the hand-off: %q, want %q", got, want)
	}
	starts, err := os.ReadFile(filepath.Join(pf, "starts"))
	testbin.Must(t, err)
	if got, want := string(starts), fmt.Sprintf("%d\n", pid); got != want {
		t.Errorf("starts %q, want %q", got, want)
	}
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// A hand-off whose supervise process cannot be started (here: an svscan
// with no supervise beside it, our own being the one it starts) is
// reported, and the service stays supervised inside svscan, the same
// process adopted again; before, it was left unsupervised.
func TestOneProcessPidfileAddedSpawnFails(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	pf := filepath.Join(dir, "pf")
	makeService(t, pf, "exec /bin/sleep 1000", "")
	alone := filepath.Join(root, "bin", "svscan")
	svtest.CopyProgram(t, testbin.Path(t, "svscan"), alone)
	s := startProgram(t, alone, []string{"-1", dir}, scan.IntervalEnv+"=1h")
	pid := waitUp(t, 5*time.Second, pf)[pf]
	writeFile(t, filepath.Join(pf, "pidfile"), "daemon.pid\n", 0o644)
	s.signal(t, syscall.SIGHUP)
	want := "svscan: warning: unable to start supervise pf: file does not exist\n"
	svtest.WaitFor(t, 5*time.Second, "the warning", func() bool { return s.stderr() == want })
	// The warning is written before the supervisor here is opened again.
	svtest.WaitFor(t, 5*time.Second, "svok after the failed hand-off", func() bool {
		return exec.Command(testbin.Path(t, "svok"), pf).Run() == nil
	})
	if got := upPid(t, pf); got != pid {
		t.Errorf("pid %d, want %d, adopted", got, pid)
	}
	svtest.OurSvc(t, "-d", pf)
	waitGone(t, pid)
}

// The hand-off starts our own supervise, the one beside svscan, even with
// Debian's daemontools first in $PATH: that supervise would not adopt the
// running service, and would start a second ./run.
func TestOneProcessHandOffStartsOurSupervise(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	pf := filepath.Join(dir, "pf")
	makeService(t, pf, "echo $$ >>starts\nexec /bin/sleep 1000", "")
	s := startScanner(t, []string{"-1", dir}, scan.IntervalEnv+"=1h", "PATH=/usr/bin:/bin")
	pid := waitUp(t, 5*time.Second, pf)[pf]
	writeFile(t, filepath.Join(pf, "pidfile"), "daemon.pid\n", 0o644)
	s.signal(t, syscall.SIGHUP)
	var sup int
	svtest.WaitFor(t, 5*time.Second, "a supervise process for pf", func() bool {
		sup = s.supervisePid("pf")
		return sup != 0
	})
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", sup))
	ours, _ := filepath.EvalSymlinks(testbin.Path(t, "supervise"))
	if exe != ours {
		t.Errorf("supervise runs %s, want ours, %s", exe, ours)
	}
	if got := upPid(t, pf); got != pid {
		t.Errorf("pid %d, want %d, adopted", got, pid)
	}
	if starts, _ := os.ReadFile(filepath.Join(pf, "starts")); string(starts) != fmt.Sprintf("%d\n", pid) {
		t.Errorf("./run started %q, want once", starts)
	}
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
	svtest.OurSvc(t, "-d", pf)
	waitGone(t, pid)
}

// fullScan makes svscan (started with scans an hour apart) make a full
// scan, and waits until it has reached marker, a service of the scanned
// directory ended by svc -dx: marker is then supervised again, and its
// record names its new ./run (svok says so before ./run starts).
func fullScan(t *testing.T, s *scanner, marker string) {
	t.Helper()
	supervised := func() bool { return exec.Command(testbin.Path(t, "svok"), marker).Run() == nil }
	old := upPid(t, marker)
	svtest.OurSvc(t, "-dx", marker)
	svtest.WaitFor(t, 5*time.Second, "the marker's supervisor to end", func() bool { return !supervised() })
	s.signal(t, syscall.SIGHUP)
	svtest.WaitFor(t, 5*time.Second, "a full scan", supervised)
	svtest.WaitUp(t, marker, old)
}

// children are svscan's child processes.
func children(s *scanner) []svtest.Proc {
	var kids []svtest.Proc
	for _, p := range svtest.Procs(s.Pid()) {
		if p.PPid == s.Pid() {
			kids = append(kids, p)
		}
	}
	return kids
}

// A tied service is not handed off when it gets a pidfile file: the
// supervise process would adopt a process that is not its child, whose
// exit code it cannot learn, and svscan would exit 111 instead of with
// the service's code. Before, svc -d of such a service ended svscan -1
// with 111, here 143 (TERM).
func TestOneProcessPidfileAddedTied(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	app := filepath.Join(dir, "app")
	marker := filepath.Join(dir, "marker")
	makeService(t, app, "exec sleep 1000", "")
	writeFile(t, filepath.Join(app, "tied"), "", 0o644)
	makeService(t, marker, "exec sleep 1000", "")
	s := startScanner(t, []string{"-1", dir}, scan.IntervalEnv+"=1h")
	waitUp(t, 5*time.Second, app, marker)
	writeFile(t, filepath.Join(app, "pidfile"), "daemon.pid\n", 0o644)
	fullScan(t, s, marker)
	if kids := children(s); len(kids) != 2 {
		t.Errorf("tied service handed off: svscan's children %v", kids)
	}
	svtest.OurSvc(t, "-d", app)
	if code := s.Wait(t, 10*time.Second); code != 143 {
		t.Errorf("svscan exited %d, want 143", code)
	}
}

// A service with a watchdog (notify-socket and timeout-watchdog) is not
// handed off when it gets a pidfile file: the supervise that adopted it
// could not hear its WATCHDOG=1, and its watchdog would be dropped
// without a word, as it was before.
func TestOneProcessPidfileAddedWatchdog(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	_, sock := readinessServices(t, dir)
	writeFile(t, filepath.Join(sock, "go"), "", 0o644)
	writeFile(t, filepath.Join(sock, "timeout-watchdog"), "3600000\n", 0o644)
	marker := filepath.Join(dir, "marker")
	makeService(t, marker, "exec sleep 1000", "")
	s := startScanner(t, []string{"-1", dir}, scan.IntervalEnv+"=1h")
	pid := waitUp(t, 5*time.Second, sock, marker)[sock]
	want := fmt.Sprintf("up (pid %d) N seconds, ready N seconds, 0 restarts", pid)
	svtest.WaitFor(t, 5*time.Second, "sock ready", func() bool { return svtest.SvstatLong(t, sock) == want })
	writeFile(t, filepath.Join(sock, "pidfile"), "daemon.pid\n", 0o644)
	fullScan(t, s, marker)
	// svscan's children: the ./run of fd, sock and marker.
	if kids := children(s); len(kids) != 3 {
		t.Errorf("a service with a watchdog handed off: svscan's children %v", kids)
	}
}
