package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/scan"
	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) {
	if os.Getenv(readyHelperEnv) != "" {
		readyHelper()
	}
	svtest.Main(m)
}

// scanner is an svscan under test.
type scanner struct {
	*svtest.Group
	dir        string
	stderrPath string
}

// startScanner runs svscan with args (the scanned directory last).
func startScanner(t testing.TB, args []string, env ...string) *scanner {
	t.Helper()
	return startProgram(t, testbin.Path(t, "svscan"), args, env...)
}

// startProgram runs prog, an svscan, with args (the scanned directory last).
func startProgram(t testing.TB, prog string, args []string, env ...string) *scanner {
	t.Helper()
	dir := args[len(args)-1]
	cmd := exec.Command(prog, args...)
	cmd.Env = append([]string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}, env...)
	s := &scanner{dir: dir, stderrPath: filepath.Join(t.TempDir(), "stderr")}
	cmd.Stderr = svtest.Create(t, s.stderrPath)
	s.Group = svtest.Start(t, cmd)
	return s
}

// stderr returns the lines svscan has written to stderr so far, leaving
// out those of the supervise processes, which share it.
func (s *scanner) stderr() string {
	b, _ := os.ReadFile(s.stderrPath)
	var own []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(line, "svscan:") {
			own = append(own, line)
		}
	}
	return strings.Join(own, "")
}

func (s *scanner) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.Cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// supervisePid returns the pid of the supervise svscan runs for name
// ("a" or "a/log"), 0 if there is none. supervise works inside the
// service directory.
func (s *scanner) supervisePid(name string) int {
	for _, p := range svtest.Procs(s.Cmd.Process.Pid) {
		if p.PPid != s.Cmd.Process.Pid || len(p.Args) != 2 || p.Args[0] != "supervise" {
			continue
		}
		if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.Pid)); cwd == filepath.Join(s.dir, name) {
			return p.Pid
		}
	}
	return 0
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0755); err != nil {
		t.Fatal(err)
	}
	svtest.WriteFile(t, path, []byte(content), mode)
}

// makeService creates a service directory with run and, if logRun is not
// empty, log/run: sh script bodies.
func makeService(t testing.TB, dir, run, logRun string) {
	t.Helper()
	svtest.NewService(t, dir, run)
	if logRun != "" {
		svtest.NewService(t, filepath.Join(dir, "log"), logRun)
	}
}

var upRE = regexp.MustCompile(`^(.*): up \(pid (\d+)\) `)

// upPids runs svstat on dirs and returns the pid of each one that is up,
// and svstat's output.
func upPids(t *testing.T, dirs ...string) (map[string]int, string) {
	t.Helper()
	out, err := exec.Command(testbin.Path(t, "svstat"), dirs...).Output()
	if err != nil {
		t.Fatalf("svstat: %v", err)
	}
	pids := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := upRE.FindStringSubmatch(line); m != nil {
			pids[m[1]], _ = strconv.Atoi(m[2])
		}
	}
	return pids, string(out)
}

// upPid returns the pid of dir's service, 0 if it is not up.
func upPid(t *testing.T, dir string) int {
	pids, _ := upPids(t, dir)
	return pids[dir]
}

func waitUp(t *testing.T, timeout time.Duration, dirs ...string) map[string]int {
	t.Helper()
	var pids map[string]int
	var out string
	if !svtest.Poll(timeout, func() bool {
		pids, out = upPids(t, dirs...)
		return len(pids) == len(dirs)
	}) {
		long, _ := exec.Command(testbin.Path(t, "svstat"), append([]string{"-l"}, dirs...)...).Output()
		t.Fatalf("after %v, %d of %d services up; svstat says:\n%s\nsvstat -l:\n%s", svtest.Scaled(timeout), len(pids), len(dirs), out, long)
	}
	return pids
}

// waitUnsupervised waits until dir has no supervisor, as svok says.
func waitUnsupervised(t *testing.T, dir string) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, dir+"'s supervisor to end", func() bool { return !supervised(t, dir) })
}

// waitGone waits until svscan has reaped its child pid: only then is the
// child's lock surely released for the supervise that replaces it.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, fmt.Sprintf("pid %d to be reaped", pid), func() bool {
		return !svtest.Exists(fmt.Sprintf("/proc/%d", pid))
	})
}

// Every directory gets a supervise, a log/ gets a second one fed by the
// service's output, symlinks are followed, and dot names and plain files
// are left alone without a word.
func TestStartsServicesAndLogs(t *testing.T) { forModes(t, startsServicesAndLogs) }

func startsServicesAndLogs(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(dir, "a"), "echo hello from a\nexec sleep 1000", "exec cat >>out")
	makeService(t, filepath.Join(dir, "b"), "exec sleep 1000", "")
	makeService(t, filepath.Join(dir, ".hidden"), "exec sleep 1000", "")
	makeService(t, filepath.Join(root, "elsewhere"), "exec sleep 1000", "")
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "file"), "not a service\n", 0644)

	s := m.start(t, dir)
	waitUp(t, 5*time.Second, dir+"/a", dir+"/a/log", dir+"/b", dir+"/link")
	svtest.WaitFor(t, 5*time.Second, "a's line in its log", func() bool {
		out, _ := os.ReadFile(filepath.Join(dir, "a/log/out"))
		return string(out) == "hello from a\n"
	})
	if svtest.Exists(filepath.Join(dir, ".hidden/supervise")) {
		t.Error("a supervise was started for .hidden")
	}
	if m.perProcess() && (s.supervisePid("b/log") != 0 || s.supervisePid("file") != 0) {
		t.Error("supervise started for a missing log/ or a plain file")
	}
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// Services side by side (in one-process mode, supervisors in one process)
// each run ./run in their own directory, and a death or a command touches
// its own service alone. Each ./finish gets its own ./run's exit, as its
// supervisor reaped it: no other one (nor svscan, reaping orphans) did.
func TestServicesSideBySide(t *testing.T) { forModes(t, servicesSideBySide) }

func servicesSideBySide(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	var dirs []string
	for _, name := range []string{"a", "b", "c"} {
		d := filepath.Join(dir, name)
		makeService(t, d, "pwd >cwd\necho $$ >>starts\nexec sleep 1000", "")
		writeFile(t, filepath.Join(d, "finish"), "#!/bin/sh\necho \"$1 $2\" >>finished\n", 0o755)
		dirs = append(dirs, d)
	}
	a, b, c := dirs[0], dirs[1], dirs[2]
	s := m.start(t, dir)
	pids := waitUp(t, 5*time.Second, dirs...)
	// Up may name ./run before its script has run: each is waited for.
	for _, d := range dirs {
		waitLines(t, filepath.Join(d, "starts"), strconv.Itoa(pids[d]))
		if got := readLines(t, filepath.Join(d, "cwd")); !slices.Equal(got, []string{d}) {
			t.Errorf("%s's ./run ran in %q", d, got)
		}
	}

	testbin.Must(t, syscall.Kill(pids[b], syscall.SIGKILL))
	again := svtest.WaitStatus(t, b, "b up again", func(st status.Status) bool { return st.Pid != 0 && st.Pid != pids[b] })
	waitLines(t, filepath.Join(b, "starts"), strconv.Itoa(pids[b]), strconv.Itoa(again.Pid))
	svtest.OurSvc(t, "-d", c)
	svtest.WaitStatus(t, c, "c down", func(st status.Status) bool { return st.Pid == 0 && !st.Finishing })

	for d, want := range map[string][]string{a: nil, b: {"256 9"}, c: {"256 15"}} {
		if got := readLines(t, filepath.Join(d, "finished")); !slices.Equal(got, want) {
			t.Errorf("%s's ./finish got %q, want %q", d, got, want)
		}
	}
	if got := readLines(t, filepath.Join(a, "starts")); upPid(t, a) != pids[a] || len(got) != 1 {
		t.Errorf("a: pid %d, starts %q; want pid %d, started once", upPid(t, a), got, pids[a])
	}
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// readLines is a file's lines, none when it does not exist.
func readLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// waitLines waits until file holds lines and nothing else.
func waitLines(t *testing.T, file string, lines ...string) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, fmt.Sprintf("%q in %s", lines, file), func() bool {
		return slices.Equal(readLines(t, file), lines)
	})
}

// Each supervise gets descriptors 0, 1 and 2 and nothing else, whatever
// svscan inherited: the service's gets the pipe's write end as stdout, the
// logger's its read end as stdin and runs as `supervise log` inside the
// service. They get the open-files limit svscan was started with, not the
// one the Go runtime raises for itself.
func TestSuperviseGetsOnlyItsDescriptors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(dir, "a"), "exit 1", "exit 1")
	fake := filepath.Join(root, "bin")
	writeFile(t, filepath.Join(fake, "supervise"), "#!/bin/sh\nexec sleep 1000\n", 0755)

	stray, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	cmd := exec.Command("/bin/sh", "-c", `ulimit -Sn 200 && exec "$0" "$1"`, testbin.Path(t, "svscan"), dir)
	cmd.Env = []string{"PATH=" + fake + ":/usr/bin:/bin"}
	cmd.ExtraFiles = []*os.File{stray}
	cmd.Stdout = svtest.Create(t, filepath.Join(root, "stdout"))
	cmd.Stderr = svtest.Create(t, filepath.Join(root, "stderr"))
	g := svtest.Start(t, cmd)
	// The fake supervise becomes sleep, keeping what it was handed; the
	// logger's runs inside the service directory.
	var mainPid, logPid int
	svtest.WaitFor(t, 5*time.Second, "both supervise processes", func() bool {
		mainPid, logPid = 0, 0
		for _, p := range svtest.Procs(g.Cmd.Process.Pid) {
			if p.PPid != g.Cmd.Process.Pid || len(p.Args) == 0 || p.Args[0] != "sleep" {
				continue
			}
			switch cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.Pid)); cwd {
			case dir:
				mainPid = p.Pid
			case filepath.Join(dir, "a"):
				logPid = p.Pid
			}
		}
		// Asleep, not still being loaded: the dynamic loader of sleep
		// holds libc open for a moment after the exec.
		return mainPid != 0 && logPid != 0 && inNanosleep(mainPid) && inNanosleep(logPid)
	})
	mainFds, logFds := fds(t, mainPid), fds(t, logPid)
	own := fds(t, g.Cmd.Process.Pid)
	if len(mainFds) != 3 || len(logFds) != 3 {
		t.Fatalf("supervise a has %v, supervise log has %v; want 0, 1, 2 only", mainFds, logFds)
	}
	if !strings.HasPrefix(mainFds[1], "pipe:") || mainFds[1] != logFds[0] {
		t.Errorf("a's stdout %s, log's stdin %s: want the same pipe", mainFds[1], logFds[0])
	}
	if mainFds[0] != own[0] || mainFds[2] != own[2] || logFds[1] != own[1] || logFds[2] != own[2] {
		t.Errorf("svscan has %v, a %v, log %v: the rest should be svscan's own", own, mainFds, logFds)
	}
	for _, pid := range []int{mainPid, logPid} {
		limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if !regexp.MustCompile(`(?m)^Max open files +200 `).Match(limits) {
			t.Errorf("pid %d limits:\n%s", pid, limits)
		}
	}
}

// Each service and logger gets descriptors 0, 1 and 2 and nothing else,
// in both modes, whatever svscan inherited: the service's stdout is the
// pipe its logger reads as stdin. They get the open-files limit svscan was
// started with, not the one the Go runtime raises for itself.
func TestServicesGetOnlyTheirDescriptors(t *testing.T) {
	forModes(t, servicesGetOnlyTheirDescriptors)
}

func servicesGetOnlyTheirDescriptors(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(dir, "a"), "exec sleep 1000", "exec sleep 1000")
	stray, err := os.Open(root)
	testbin.Must(t, err)
	defer stray.Close()
	args := append([]string{"-c", `ulimit -Sn 200 && exec "$0" "$@"`, testbin.Path(t, "svscan")}, m.flags...)
	cmd := exec.Command("/bin/sh", append(args, dir)...)
	cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
	cmd.ExtraFiles = []*os.File{stray}
	cmd.Stderr = svtest.Create(t, filepath.Join(root, "stderr"))
	svtest.Start(t, cmd)
	pids := waitUp(t, 5*time.Second, dir+"/a", dir+"/a/log")
	main, log := pids[dir+"/a"], pids[dir+"/a/log"]
	svtest.WaitFor(t, 5*time.Second, "both asleep", func() bool { return inNanosleep(main) && inNanosleep(log) })
	mainFds, logFds := fds(t, main), fds(t, log)
	if len(mainFds) != 3 || len(logFds) != 3 {
		t.Fatalf("a has %v, a/log has %v; want 0, 1, 2 only", mainFds, logFds)
	}
	if !strings.HasPrefix(mainFds[1], "pipe:") || mainFds[1] != logFds[0] {
		t.Errorf("a's stdout %s, log's stdin %s: want the same pipe", mainFds[1], logFds[0])
	}
	for _, pid := range []int{main, log} {
		limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if !regexp.MustCompile(`(?m)^Max open files +200 `).Match(limits) {
			t.Errorf("pid %d limits:\n%s", pid, limits)
		}
	}
}

// fds maps each open descriptor of pid to what it points to.
// inNanosleep says whether pid is blocked in clock_nanosleep, as sleep is
// once it has started.
func inNanosleep(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	nr, _, _ := strings.Cut(string(b), " ")
	return err == nil && nr == strconv.Itoa(unix.SYS_CLOCK_NANOSLEEP)
}

func fds(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]string{}
	for _, e := range entries {
		fd, _ := strconv.Atoi(e.Name())
		m[fd], _ = os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
	}
	return m
}

// A supervisor that ends (svc -x, or a supervise process that dies) is
// started again at the next scan: the periodic one, or at once on SIGHUP.
// With periodic scans an hour apart, only SIGHUP can have started it,
// however slow the machine.
func TestRestartsDeadSupervise(t *testing.T) { forModes(t, restartsDeadSupervise) }

func restartsDeadSupervise(t *testing.T, m mode) {
	for _, hup := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "service")
		makeService(t, filepath.Join(dir, "a"), "exec sleep 1000", "")
		var s *scanner
		if hup {
			s = m.start(t, dir, scan.IntervalEnv+"=1h")
		} else {
			s = m.start(t, dir)
		}
		waitUp(t, 5*time.Second, dir+"/a")
		svtest.OurSvc(t, "-dx", dir+"/a")
		waitUnsupervised(t, dir+"/a")
		// A HUP that svscan handles before it has reaped the supervise
		// process finds the slot still taken, and with no periodic scan
		// nothing fills it again: the HUP comes once svscan has no child.
		svtest.WaitFor(t, 5*time.Second, "svscan's children reaped", func() bool {
			for _, p := range svtest.AllProcs() {
				if p.PPid == s.Pid() {
					return false
				}
			}
			return true
		})
		if hup {
			s.signal(t, syscall.SIGHUP)
		}
		waitUp(t, 7*time.Second, dir+"/a")
		if s.stderr() != "" {
			t.Errorf("stderr %q", s.stderr())
		}
	}
}

// A SIGHUP that comes with the SIGCHLD of a supervise process that has
// exited (svscan was stopped meanwhile, so both wait together) starts it
// again: svscan reaps before it scans, whatever order the signals take.
func TestHupWithSuperviseExit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	makeService(t, filepath.Join(dir, "a"), "exec sleep 1000", "")
	s := modes[0].start(t, dir, scan.IntervalEnv+"=1h")
	waitUp(t, 5*time.Second, dir+"/a")
	var pid int
	svtest.WaitFor(t, 5*time.Second, "a's supervise", func() bool { pid = s.supervisePid("a"); return pid != 0 })
	s.signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { s.Cmd.Process.Signal(syscall.SIGCONT) })
	svtest.OurSvc(t, "-dx", dir+"/a")
	svtest.WaitFor(t, 5*time.Second, "supervise to exit", func() bool { return !svtest.Alive(pid) })
	s.signal(t, syscall.SIGHUP)
	s.signal(t, syscall.SIGCONT)
	waitUp(t, 7*time.Second, dir+"/a")
	if again := s.supervisePid("a"); again == pid || again == 0 {
		t.Errorf("supervise pid %d, before %d", again, pid)
	}
}

// A new service directory, made in place, renamed in or linked in, is
// running without waiting for the periodic scan.
func TestPicksUpNewServiceAtOnce(t *testing.T) { forModes(t, picksUpNewServiceAtOnce) }

func picksUpNewServiceAtOnce(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(dir, "first"), "exec sleep 1000", "")
	// No periodic scan can come: what runs, a change made it run.
	s := m.start(t, dir, scan.IntervalEnv+"=1h")
	waitUp(t, 5*time.Second, dir+"/first")

	makeService(t, filepath.Join(root, "linked"), "exec sleep 1000", "")
	makeService(t, filepath.Join(root, "moved"), "exec sleep 1000", "")
	start := time.Now()
	if err := os.Symlink(filepath.Join(root, "linked"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "moved"), filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	makeService(t, filepath.Join(dir, "made"), "exec sleep 1000", "")
	waitUp(t, 3*time.Second, dir+"/linked", dir+"/moved", dir+"/made")
	t.Logf("picked up in %v", time.Since(start))
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// runLastWords is a service that, told to stop, writes a burst of lines and
// exits: they are logged only if the logger outlives it.
const runLastWords = `exec 2>&1
trap 'i=0; while [ $i -lt 2000 ]; do echo "last $i"; i=$((i+1)); done; echo done; exit 0' TERM
echo started
while :; do sleep 0.05; done`

// A service whose directory goes away is stopped: supervise is told to
// stop it and exit, then its logger, which logs every line the service
// wrote to the end. The entry is gone when the link is removed, when the
// directory is moved away and when it is deleted outright.
func TestRemovedServiceIsStopped(t *testing.T) { forModes(t, removedServiceIsStopped) }

func removedServiceIsStopped(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	for _, name := range []string{"linked", "moved"} {
		makeService(t, filepath.Join(root, "real", name), runLastWords, "exec multilog s16777215 ./main")
	}
	testbin.Must(t, os.MkdirAll(dir, 0755))
	if err := os.Symlink(filepath.Join(root, "real/linked"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "real/moved"), filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	makeService(t, filepath.Join(dir, "deleted"), runLastWords, "exec multilog s16777215 ./main")
	s := m.start(t, dir)
	names := []string{"linked", "moved", "deleted"}
	for _, name := range names {
		waitUp(t, 5*time.Second, dir+"/"+name, dir+"/"+name+"/log")
		svtest.WaitFor(t, 5*time.Second, name+" started", func() bool {
			log, _ := os.ReadFile(filepath.Join(dir, name, "log/main/current"))
			return string(log) == "started\n"
		})
	}

	if err := os.Remove(filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "moved"), filepath.Join(root, "real/moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "deleted")); err != nil {
		t.Fatal(err)
	}
	svtest.WaitFor(t, 5*time.Second, "every service, supervise and logger to exit", func() bool {
		return len(svtest.Procs(s.Cmd.Process.Pid)) == 1 // svscan alone
	})
	want := "started\n"
	for i := 0; i < 2000; i++ {
		want += fmt.Sprintf("last %d\n", i)
	}
	want += "done\n"
	for _, name := range []string{"linked", "moved"} {
		log, _ := os.ReadFile(filepath.Join(root, "real", name, "log/main/current"))
		if string(log) != want {
			t.Errorf("%s logged %d bytes, want %d: last lines lost", name, len(log), len(want))
		}
	}
	// A look that lists an entry just before it goes away warns that it
	// cannot stat it, as daemontools' svscan does; nothing else is said.
	var said []string
	for _, line := range strings.SplitAfter(s.stderr(), "\n") {
		if line != "" && !slices.Contains(names, strings.TrimSuffix(strings.TrimPrefix(line, "svscan: warning: unable to stat "), ": file does not exist\n")) {
			said = append(said, line)
		}
	}
	if len(said) != 0 {
		t.Errorf("stderr %q", said)
	}
	// A service back under a name once used is a new service.
	if err := os.Rename(filepath.Join(root, "real/moved"), filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	waitUp(t, 3*time.Second, dir+"/moved", dir+"/moved/log")
}

// A service link removed and put back 0.2 s later, while its ./run is
// still stopping, runs again within a second of its return: the scan that
// follows the end of the old supervisor picks it up, without waiting for
// the periodic one.
func TestRemovedAndReaddedRunsAgain(t *testing.T) { forModes(t, removedAndReaddedRunsAgain) }

func removedAndReaddedRunsAgain(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	real := filepath.Join(root, "real", "a")
	makeService(t, real, "trap 'sleep 0.3; exit 0' TERM\nwhile :; do sleep 0.05; done", "")
	testbin.Must(t, os.MkdirAll(dir, 0o755))
	link := filepath.Join(dir, "a")
	testbin.Must(t, os.Symlink(real, link))
	s := m.start(t, dir, scan.IntervalEnv+"=1h")
	old := waitUp(t, 5*time.Second, link)[link]
	testbin.Must(t, os.Remove(link))
	svtest.WaitFor(t, 5*time.Second, "the stop to begin", func() bool {
		st, err := status.ReadAll(filepath.Join(real, status.File))
		return err == nil && st.Want == status.WantDown
	})
	time.Sleep(200 * time.Millisecond) // the scenario: back 0.2 s later, not a wait for svscan
	testbin.Must(t, os.Symlink(real, link))
	svtest.WaitFor(t, time.Second, "a to run again", func() bool {
		pid := upPid(t, link)
		return pid != 0 && pid != old
	})
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// The pipe outlives both of its ends: no line is lost or repeated while the
// service restarts, its logger restarts, or its log supervise exits and is
// started again by svscan.
func TestNoLineLostAcrossRestarts(t *testing.T) { forModes(t, noLineLostAcrossRestarts) }

func noLineLostAcrossRestarts(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	const lines = 20000
	// Each run numbers its lines from 0, pausing now and then so that the
	// restarts below land in the middle of the stream.
	makeService(t, filepath.Join(dir, "a"), fmt.Sprintf(`exec 2>&1
i=0
while [ $i -lt %d ]; do
  echo "$$ $i"
  i=$((i+1))
  [ $((i %% 200)) -eq 0 ] && sleep 0.02
done
exec sleep 1000`, lines), "exec multilog s16777215 ./main")
	s := m.start(t, dir)
	a, log := dir+"/a", dir+"/a/log"
	current := filepath.Join(log, "main/current")
	logged := func() int {
		b, _ := os.ReadFile(current)
		return bytes.Count(b, []byte{'\n'})
	}
	waitUp(t, 5*time.Second, a, log)
	progress := func(what string) {
		n := logged()
		svtest.WaitFor(t, 10*time.Second, "lines after "+what, func() bool { return logged() > n+500 })
	}

	logger := upPid(t, log)
	svtest.OurSvc(t, "-t", log) // the logger restarts
	svtest.WaitFor(t, 5*time.Second, "a new logger", func() bool {
		p := upPid(t, log)
		return p != 0 && p != logger
	})
	progress("logger restart")

	svtest.OurSvc(t, "-t", a) // the service restarts
	progress("service restart")

	svtest.OurSvc(t, "-dx", log) // the logger's supervisor ends...
	waitUnsupervised(t, log)
	s.signal(t, syscall.SIGHUP) // ...and svscan starts it again
	waitUp(t, 3*time.Second, log)

	last := upPid(t, a)
	svtest.WaitFor(t, 30*time.Second, "the last run's lines", func() bool {
		b, _ := os.ReadFile(current)
		return bytes.HasSuffix(b, fmt.Appendf(nil, "%d %d\n", last, lines-1))
	})
	b, _ := os.ReadFile(current)
	next := map[string]int{} // per run, the number of its next line
	var runs []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		pid, n, ok := strings.Cut(line, " ")
		if !ok || strconv.Itoa(next[pid]) != n {
			t.Fatalf("line %q, want %q", line, fmt.Sprintf("%s %d", pid, next[pid]))
		}
		if next[pid] == 0 {
			runs = append(runs, pid)
		}
		next[pid]++
	}
	if len(runs) != 2 {
		t.Errorf("lines from runs %v, want 2", runs)
	}
}

// svscan handles up to 1000 services; 200 are all running within seconds.
func TestManyServices(t *testing.T) { forModes(t, manyServices) }

func manyServices(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	var dirs []string
	for i := range 200 {
		d := filepath.Join(dir, fmt.Sprintf("s%03d", i))
		makeService(t, d, "exec sleep 1000", "")
		dirs = append(dirs, d)
	}
	s := m.start(t, dir)
	waitUp(t, 20*time.Second, dirs...)
	if s.stderr() != "" {
		t.Errorf("stderr %q", s.stderr())
	}
}

// With $NOTIFY_SOCKET, svscan says READY=1 once the first scan has started
// every service, and keeps the socket from the services. By then it has
// not collected garbage: in a tree this small a collection costs svscan -1
// more memory than it frees.
func TestNotifiesSystemd(t *testing.T) { forModes(t, notifiesSystemd) }

func notifiesSystemd(t *testing.T, m mode) {
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	for _, name := range []string{"a", "b", "c"} {
		makeService(t, filepath.Join(dir, name), "exec sleep 1000", "")
	}
	sock := filepath.Join(root, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := m.start(t, dir, "NOTIFY_SOCKET="+sock, "GODEBUG=gctrace=1")
	conn.SetReadDeadline(time.Now().Add(svtest.Scaled(10 * time.Second)))
	buf := make([]byte, 100)
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Fatalf("read %q, %v; want READY=1", buf[:n], err)
	}
	if out, _ := os.ReadFile(s.stderrPath); bytes.Contains(out, []byte("gc 1 @")) {
		t.Errorf("a collection before READY=1:\n%s", out)
	}
	// Started means forked: three children at READY=1, supervise
	// processes or services. supervise starts itself again once
	// (GOMAXPROCS), and its command line is empty for a moment during
	// that exec, so wait for those same three to show as supervise a, b
	// and c.
	var children []int
	for _, p := range svtest.Procs(s.Cmd.Process.Pid) {
		if p.PPid == s.Cmd.Process.Pid {
			children = append(children, p.Pid)
		}
	}
	if len(children) != 3 {
		t.Fatalf("READY=1 with %d children of svscan, want 3", len(children))
	}
	started := map[string]bool{}
	svtest.WaitFor(t, 5*time.Second, "supervise a, b and c", func() bool {
		if !m.perProcess() {
			return true
		}
		clear(started)
		for _, p := range svtest.Procs(s.Cmd.Process.Pid) {
			if slices.Contains(children, p.Pid) && len(p.Args) == 2 && p.Args[0] == "supervise" {
				started[p.Args[1]] = true
			}
		}
		return started["a"] && started["b"] && started["c"]
	})
	for _, pid := range children {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if bytes.Contains(env, []byte("NOTIFY_SOCKET")) {
			t.Errorf("supervise %d inherited NOTIFY_SOCKET", pid)
		}
	}
}

// Our warnings and fatal errors are daemontools' word for word.
func TestMessagesMatchReference(t *testing.T) {
	missing := testbin.Missing(t)
	t.Parallel()
	root := t.TempDir()
	fake := filepath.Join(root, "bin")
	writeFile(t, filepath.Join(fake, "supervise"), "#!/bin/sh\nexec sleep 1000\n", 0755)
	noexec := filepath.Join(root, "noexec")
	writeFile(t, filepath.Join(noexec, "supervise"), "#!/bin/sh\nexec sleep 1000\n", 0644)
	cases := []struct {
		name  string
		setup func(dir string) error
		path  string
		lines int // in one scan
	}{
		{"dangling symlink", func(dir string) error { return os.Symlink(missing, filepath.Join(dir, "dangling")) }, fake, 1},
		{"no supervise", func(dir string) error { return os.Mkdir(filepath.Join(dir, "a"), 0755) }, filepath.Join(root, "empty"), 1},
		{"no supervise for log", func(dir string) error { return os.MkdirAll(filepath.Join(dir, "a/log"), 0755) }, filepath.Join(root, "empty"), 2},
		{"supervise not executable", func(dir string) error { return os.Mkdir(filepath.Join(dir, "a"), 0755) }, noexec + ":" + filepath.Join(root, "empty"), 1},
	}
	for _, c := range cases {
		var outputs []string
		for _, prog := range []string{testbin.Path(t, "svscan"), testbin.Reference(t, "svscan")} {
			dir := t.TempDir()
			testbin.Must(t, c.setup(dir))
			cmd := exec.Command(prog, dir)
			cmd.Env = []string{"PATH=" + c.path}
			stderr := filepath.Join(t.TempDir(), "stderr")
			cmd.Stderr = svtest.Create(t, stderr)
			svtest.Start(t, cmd)
			var out []byte
			svtest.WaitFor(t, 5*time.Second, prog+" warnings", func() bool {
				out, _ = os.ReadFile(stderr)
				return bytes.Count(out, []byte{'\n'}) >= c.lines
			})
			lines := strings.SplitAfter(string(out), "\n")[:c.lines]
			slices.Sort(lines) // the two supervise processes race
			outputs = append(outputs, strings.Join(lines, ""))
		}
		if outputs[0] != outputs[1] {
			t.Errorf("%s: ours %q, daemontools %q", c.name, outputs[0], outputs[1])
		}
	}

	var results []string
	for _, prog := range []string{testbin.Path(t, "svscan"), testbin.Reference(t, "svscan")} {
		out, err := exec.Command(prog, filepath.Join(root, "nonexistent")).CombinedOutput()
		results = append(results, fmt.Sprintf("%v %s", err, strings.ReplaceAll(string(out), prog, "PROG")))
	}
	if results[0] != results[1] {
		t.Errorf("missing directory: ours %q, daemontools %q", results[0], results[1])
	}
}

// Past 1000 services, a new one is refused with daemontools' warning.
func TestServiceLimit(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	for i := range 1001 {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("s%04d", i)), 0755); err != nil {
			t.Fatal(err)
		}
	}
	fake := filepath.Join(root, "bin")
	testbin.Must(t, os.Mkdir(fake, 0755))
	if err := os.Symlink("/bin/true", filepath.Join(fake, "supervise")); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, prog := range []string{testbin.Path(t, "svscan"), testbin.Reference(t, "svscan")} {
		cmd := exec.Command(prog, dir)
		cmd.Env = []string{"PATH=" + fake}
		stderr := filepath.Join(t.TempDir(), "stderr")
		cmd.Stderr = svtest.Create(t, stderr)
		svtest.Start(t, cmd)
		var out []byte
		// 1000 forks and execs come first: a slow start on a loaded machine.
		svtest.WaitFor(t, 30*time.Second, prog+"'s warning", func() bool {
			out, _ = os.ReadFile(stderr)
			return bytes.Contains(out, []byte("\n"))
		})
		warnings = append(warnings, string(out[:bytes.IndexByte(out, '\n')+1]))
	}
	if !regexp.MustCompile(`^svscan: warning: unable to start s\d{4}: running too many services\n$`).MatchString(warnings[0]) || warnings[0] != warnings[1] {
		t.Errorf("ours %q, daemontools %q", warnings[0], warnings[1])
	}
}

// svscan runs with one processor: it starts itself again once, under its
// own name, with GOMAXPROCS=1 in its environment, and takes that out of
// the environment every supervise and service gets; a GOMAXPROCS of the
// user's is left alone and reaches the services.
func TestOneProcessorUnseenByServices(t *testing.T) { forModes(t, oneProcessorUnseenByServices) }

func oneProcessorUnseenByServices(t *testing.T, m mode) {
	for _, user := range []string{"", "GOMAXPROCS=3"} {
		root := t.TempDir()
		dir := filepath.Join(root, "service")
		makeService(t, filepath.Join(dir, "a"), `echo "[$GOMAXPROCS] [$SVSCAN_GOMAXPROCS] [$SUPERVISE_GOMAXPROCS]" > report
exec sleep 1000`, "")
		var env []string
		if user != "" {
			env = append(env, user)
		}
		s := m.start(t, dir, env...)
		report := filepath.Join(dir, "a/report")
		svtest.WaitFor(t, 5*time.Second, "a's report", func() bool {
			b, _ := os.ReadFile(report)
			return bytes.HasSuffix(b, []byte("\n"))
		})
		got, _ := os.ReadFile(report)
		want := "[] [] []\n"
		if user != "" {
			want = "[3] [] []\n"
		}
		if string(got) != want {
			t.Errorf("with %q, ./run sees %q, want %q", user, got, want)
		}
		pid := s.Cmd.Process.Pid
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		own, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		wantOwn := "GOMAXPROCS=1\x00"
		if user != "" {
			wantOwn = user + "\x00"
		}
		if string(comm) != "svscan\n" || !bytes.Contains(own, []byte(wantOwn)) {
			t.Errorf("with %q, svscan runs as %q with environment %q, want svscan with %q", user, comm, own, wantOwn)
		}
	}
}
