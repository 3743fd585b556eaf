package faults

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// long is set by FAULTS_LONG=1 (bench/faults): the full counts and
// durations instead of CI's short ones.
var long = os.Getenv("FAULTS_LONG") != ""

// pick returns short in CI and long under FAULTS_LONG=1.
func pick[T any](short, long_ T) T {
	if long {
		return long_
	}
	return short
}

// TestMain makes this process a subreaper: a service whose supervise is
// killed with -9 is orphaned, and pid 1 here does not reap.
func TestMain(m *testing.M) { svtest.Main(m) }

// prog returns the path of the program under test: ours, or the one in
// $FAULTS_BIN when that is set.
func prog(t testing.TB, name string) string {
	t.Helper()
	if d := os.Getenv("FAULTS_BIN"); d != "" {
		return filepath.Join(d, name)
	}
	return testbin.Path(t, name)
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the fault tests run as root (CI does): they mount filesystems and act as another user")
	}
}

// output is the file that collects a process's stdout and stderr: a file,
// not a pipe, so that waiting for the process never waits for its
// descendants to close the pipe.
type output string

func (o output) String() string {
	b, _ := os.ReadFile(string(o))
	return string(b)
}

// proc is a program started in a session of its own (svtest.Start), its
// output collected in out; a failed test shows that output.
type proc struct {
	*svtest.Group
	out output // stdout and stderr, unless the caller set them
}

// start starts cmd with svtest.Start.
func start(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	testbin.Must(t, err)
	defer f.Close()
	p := &proc{out: output(f.Name())}
	if cmd.Stdout == nil {
		cmd.Stdout = f
	}
	if cmd.Stderr == nil {
		cmd.Stderr = f
	}
	p.Group = svtest.Start(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output of %s:\n%s", cmd.Path, p.out)
		}
	})
	return p
}

// openFDs maps each open descriptor of pid to what it points to, as
// /proc/PID/fd's links say; one closed while they are read is left out.
func openFDs(pid int) (map[int]string, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fds := make(map[int]string, len(ents))
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			return nil, err
		}
		if target, err := os.Readlink(dir + e.Name()); err == nil {
			fds[n] = target
		}
	}
	return fds, nil
}

// manyServices makes count services in root, each running sleep, and a
// logger for every tenth; it returns their directories, loggers included.
func manyServices(t testing.TB, root string, count int) []string {
	t.Helper()
	var dirs []string
	for i := range count {
		dir := filepath.Join(root, fmt.Sprintf("service%04d", i))
		svtest.NewService(t, dir, "exec sleep 100000")
		dirs = append(dirs, dir)
		if i%10 == 0 {
			svtest.NewService(t, filepath.Join(dir, "log"), "exec cat >/dev/null")
			dirs = append(dirs, filepath.Join(dir, "log"))
		}
	}
	return dirs
}

// usage is what a scanner holds: its steady descriptors, as how many
// point to each thing, and memory in kB.
type usage struct {
	fds      map[string]int
	rss, pss int
}

// measure reads what the scanner holds: the descriptors open in every
// reading for half a second (not one opened for a moment, to scan or to
// start a process), then its memory.
func measure(t testing.TB, scan *proc) usage {
	t.Helper()
	var u usage
	for end := time.Now().Add(500 * time.Millisecond); ; time.Sleep(10 * time.Millisecond) {
		fds, err := openFDs(scan.Pid())
		testbin.Must(t, err)
		now := targets(fds)
		if u.fds == nil {
			u.fds = now
		}
		for target, n := range u.fds {
			u.fds[target] = min(n, now[target])
		}
		maps.DeleteFunc(u.fds, func(_ string, n int) bool { return n == 0 })
		if time.Now().After(end) {
			break
		}
	}
	var err [2]error
	u.rss, err[0] = rssKB(scan.Pid())
	u.pss, err[1] = pssKB(scan.Pid())
	testbin.Must(t, errors.Join(err[:]...))
	return u
}

// targets counts the descriptors of fds pointing to each thing.
func targets(fds map[int]string) map[string]int {
	n := make(map[string]int, len(fds))
	for _, target := range fds {
		n[target]++
	}
	return n
}

// flat checks, after the faults, that the scanner holds the steady
// descriptors it held before them, no more and no fewer (a pidfd of a new
// process counts as the one of the process it replaces), and has not grown
// by more than a quarter and a megabyte, and logs both measures.
func (u usage) flat(t testing.TB, scan *proc) {
	t.Helper()
	var now map[string]int
	svtest.WaitForNil(t, 10*time.Second, "the scanner's descriptors back where they were", func() error {
		fds, err := openFDs(scan.Pid())
		if err != nil {
			return err
		}
		if now = targets(fds); !maps.Equal(now, u.fds) {
			return fmt.Errorf("descriptors %s", fdsChanged(u.fds, now))
		}
		return nil
	})
	rss, err := rssKB(scan.Pid())
	testbin.Must(t, err)
	pss, err := pssKB(scan.Pid())
	testbin.Must(t, err)
	steady := 0
	for _, n := range u.fds {
		steady += n
	}
	t.Logf("scanner: %d steady descriptors; resident %d kB, PSS %d kB before the faults; %d kB, %d kB after", steady, u.rss, u.pss, rss, pss)
	if rss > u.rss+u.rss/4+1024 {
		t.Errorf("the scanner grew from %d kB to %d kB", u.rss, rss)
	}
}

// fdsChanged lists the things before and after point to by different
// numbers of descriptors, with both numbers.
func fdsChanged(before, after map[string]int) string {
	var diff []string
	for target := range maps.Keys(before) {
		if before[target] != after[target] {
			diff = append(diff, fmt.Sprintf("%s: %d, %d before", target, after[target], before[target]))
		}
	}
	for target := range maps.Keys(after) {
		if _, ok := before[target]; !ok {
			diff = append(diff, fmt.Sprintf("%s: %d, none before", target, after[target]))
		}
	}
	slices.Sort(diff)
	return strings.Join(diff, "; ")
}

// rssKB returns the resident set size of pid in kB.
func rssKB(pid int) (int, error) { return procKB(pid, "status", "VmRSS:") }

// pssKB returns the proportional set size of pid in kB.
func pssKB(pid int) (int, error) { return procKB(pid, "smaps_rollup", "Pss:") }

// procKB returns the figure in kB on the line of /proc/PID/file that
// starts with field.
func procKB(pid int, file, field string) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/%s: no %s", pid, file, field)
}

// superviseUp starts supervise on dir (svtest.StartSupervise; its out
// is its stderr) and waits until its service runs.
func superviseUp(t testing.TB, dir string) (*proc, status.Status) {
	t.Helper()
	g, errFile := svtest.StartSupervise(t, dir, prog(t, "supervise"))
	return &proc{g, output(errFile)}, svtest.WaitUp(t, dir, 0)
}

// noPanic fails the test if out shows a Go runtime crash.
func noPanic(t testing.TB, what, out string) {
	t.Helper()
	for _, sign := range []string{"panic:", "goroutine ", "fatal error:", "SIGSEGV"} {
		if strings.Contains(out, sign) {
			t.Fatalf("%s crashed:\n%s", what, out)
		}
	}
}

// countRuns counts the processes running the service of dir as ./run
// "exec sleep ...": processes whose working directory is dir.
func countRuns(t testing.TB, dir string) int {
	t.Helper()
	procs, err := os.ReadDir("/proc")
	testbin.Must(t, err)
	n := 0
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		cwd, _ := os.Readlink("/proc/" + p.Name() + "/cwd")
		comm, _ := os.ReadFile("/proc/" + p.Name() + "/comm")
		// Before its exec of sleep, a service just started by svc -u is
		// still the shell running ./run: one copy all the same.
		if cwd == dir && (string(comm) == "sleep\n" || string(comm) == "run\n") {
			n++
		}
	}
	return n
}
