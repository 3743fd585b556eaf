package faults

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// output collects a process's stdout and stderr in a file: a file, not a
// pipe, so that waiting for the process never waits for its descendants
// to close the pipe.
type output struct{ f *os.File }

func newOutput(t testing.TB) *output {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	testbin.Must(t, err)
	t.Cleanup(func() { f.Close() })
	return &output{f}
}

func (o *output) String() string {
	b, _ := os.ReadFile(o.f.Name())
	return string(b)
}

// proc is a program started in a session of its own (svtest.Start), its
// output collected in out; a failed test shows that output.
type proc struct {
	*svtest.Group
	out *output // stdout and stderr, unless the caller set them
}

// start starts cmd with svtest.Start.
func start(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{out: newOutput(t)}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out.f
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out.f
	}
	p.Group = svtest.Start(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output of %s:\n%s", cmd.Path, p.out)
		}
	})
	return p
}

// fdCount counts the open descriptors of pid.
func fdCount(pid int) (int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	return len(ents), err
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

// usage is what a scanner holds: descriptors, and memory in kB.
type usage struct{ fds, rss, pss int }

// measure reads what the scanner holds now.
func measure(t testing.TB, scan *proc) usage {
	t.Helper()
	var u usage
	var err [3]error
	u.fds, err[0] = fdCount(scan.Pid())
	u.rss, err[1] = rssKB(scan.Pid())
	u.pss, err[2] = pssKB(scan.Pid())
	testbin.Must(t, errors.Join(err[:]...))
	return u
}

// flat checks, after the faults, that the scanner holds the descriptors
// it held before them (once it has settled) and has not grown by more than
// a quarter and a megabyte, and logs both measures.
func (u usage) flat(t testing.TB, scan *proc) {
	t.Helper()
	var now usage
	svtest.WaitForNil(t, 10*time.Second, "the scanner's descriptors back where they were", func() error {
		now = measure(t, scan)
		if now.fds != u.fds {
			return fmt.Errorf("%d descriptors, %d before the faults", now.fds, u.fds)
		}
		return nil
	})
	t.Logf("scanner: %d descriptors; resident %d kB, PSS %d kB before the faults; %d kB, %d kB after", u.fds, u.rss, u.pss, now.rss, now.pss)
	if now.rss > u.rss+u.rss/4+1024 {
		t.Errorf("the scanner grew from %d kB to %d kB", u.rss, now.rss)
	}
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

// status is a decoded supervise/status record. These tests decode the
// record with their own decoder, not internal/status (which svtest's
// ReadStatus uses): an independent oracle, so that a bug shared by the
// writer and the decoder of internal/status cannot hide here. It also
// checks more than svstat needs.
type status struct {
	sec    uint64 // TAI64 seconds of the last change of pid
	pid    int
	paused bool
	want   byte // 'u', 'd' or 0
}

// readStatus reads and checks DIR/supervise/status: at least 18 bytes,
// a TAI64 label past 2^62, a pause flag of 0 or 1, a want of u, d or 0.
func readStatus(dir string) (status, error) {
	b, err := os.ReadFile(filepath.Join(dir, "supervise", "status"))
	if err != nil {
		return status{}, err
	}
	return decodeStatus(b)
}

func decodeStatus(b []byte) (status, error) {
	if len(b) < 18 {
		return status{}, fmt.Errorf("status is %d bytes: % x", len(b), b)
	}
	s := status{
		sec:    binary.BigEndian.Uint64(b[0:8]),
		pid:    int(binary.LittleEndian.Uint32(b[12:16])),
		paused: b[16] == 1,
		want:   b[17],
	}
	if s.sec < 1<<62 || binary.BigEndian.Uint32(b[8:12]) > 999999999 {
		return s, fmt.Errorf("status has a bad label: % x", b[:12])
	}
	if b[16] > 1 || (s.want != 'u' && s.want != 'd' && s.want != 0) {
		return s, fmt.Errorf("status has bad flags: % x", b[16:18])
	}
	if s.paused && s.pid == 0 {
		return s, fmt.Errorf("status says paused with no pid: % x", b)
	}
	return s, nil
}

// startSupervise starts supervise on dir and waits until it runs a service
// other than pid old.
func startSupervise(t testing.TB, dir string, old int) (*proc, status) {
	t.Helper()
	p := start(t, exec.Command(prog(t, "supervise"), dir))
	return p, waitUp(t, dir, old)
}

// waitUp waits until status shows a running service whose pid is not old,
// and returns that status.
func waitUp(t testing.TB, dir string, old int) status {
	t.Helper()
	var st status
	svtest.WaitForNil(t, 10*time.Second, dir+" up", func() error {
		var err error
		st, err = readStatus(dir)
		switch {
		case err != nil:
			return err
		case st.pid == 0 || st.pid == old:
			return fmt.Errorf("status pid %d", st.pid)
		case !svtest.Alive(st.pid):
			return fmt.Errorf("pid %d in status is not running", st.pid)
		}
		return nil
	})
	return st
}

// svc runs svc with args and fails the test unless it exits 0 silently.
func svc(t testing.TB, args ...string) {
	t.Helper()
	svtest.Svc(t, prog(t, "svc"), args...)
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
