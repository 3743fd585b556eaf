// Package svtest helps the integration tests of the supervision tree. It
// runs commands in sessions of their own and, when a test ends, kills
// each session and reaps everything left in it, so that a test leaves no
// process behind however deep the tree it started (svscan, its supervise
// processes, their services and loggers); it polls for conditions with a
// deadline that scales with TEST_TIMEOUT_SCALE; it makes service
// directories, runs svc and reads their status and logs; and it reads
// processes' state from /proc.
package svtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/testbin"
)

// Main is TestMain for packages using Start: it makes the test process the
// reaper of its orphaned descendants, so that the processes of a killed
// group are reaped here, not left to an init that may never do it, then
// runs the tests as testbin.Main does.
func Main(m *testing.M) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "svtest: cannot become a subreaper:", err)
		os.Exit(1)
	}
	testbin.Main(m)
}

// Group is a command started as the leader of a new session (so also of a
// new process group): everything it starts and that does not leave the
// session is killed with it.
//
// A session's id is its leader's pid, which the system may give another
// process once the session has no process left, zombies included; that
// process may lead a session of another test. Every process of a session
// is reaped by another of the session or, the last, by this process (its
// leader by Start, orphans by Reap), so the group notes when its session
// ends and from then on owns no process.
type Group struct {
	Cmd  *exec.Cmd
	done chan struct{}

	mu           sync.Mutex // held while reaping, so ended is exact
	leaderReaped bool
	ended        bool // the session has no process left
}

// Start starts cmd as the leader of a new session and registers a cleanup
// that kills every process of the session and waits until none of it
// remains. Give cmd files, not other writers, as output: the session's
// processes share them, so a copy from a pipe would not end before they
// all do.
func Start(t testing.TB, cmd *exec.Cmd) *Group {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	g := &Group{Cmd: cmd, done: make(chan struct{})}
	go func() {
		// Reaped only under mu: until then the zombie keeps the id.
		var info unix.Siginfo
		for unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
		g.mu.Lock()
		alone := len(g.sessionProcs()) == 1
		cmd.Wait()
		g.leaderReaped, g.ended = true, alone
		g.mu.Unlock()
		close(g.done)
	}()
	t.Cleanup(func() { g.kill(t) })
	return g
}

// Pid is the leader's pid, which is also the session's and the group's id.
func (g *Group) Pid() int { return g.Cmd.Process.Pid }

// Exited is closed once the leader has exited; then Cmd.ProcessState
// tells how.
func (g *Group) Exited() <-chan struct{} { return g.done }

// HasExited tells whether the leader has exited.
func (g *Group) HasExited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout (scaled) for the leader to exit and returns its
// exit code, -1 if a signal killed it; it fails the test on timeout.
func (g *Group) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	timeout = Scaled(timeout)
	select {
	case <-g.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v", g.Cmd.Path, timeout)
	}
	return g.Cmd.ProcessState.ExitCode()
}

// Reap reaps the processes of the session that have exited and that this
// process inherited (it is their subreaper, see Main) when their parent
// died. The leader is reaped by Start's goroutine. It reaps no other
// child: another test may be waiting for it.
func (g *Group) Reap() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return
	}
	left := g.sessionProcs()
	// Zombies fork nothing: if all that is left are zombies this process
	// reaps, the session ends with them.
	all := g.leaderReaped && len(left) > 0
	for _, s := range left {
		reaped := false
		if s.State == 'Z' && s.PPid == os.Getpid() && s.Pid != g.Pid() {
			pid, _ := unix.Wait4(s.Pid, nil, unix.WNOHANG, nil)
			reaped = pid == s.Pid
		}
		all = all && reaped
	}
	g.ended = all
}

// procs lists the processes of the session, zombies included; none once
// it has ended.
func (g *Group) procs() []Stat {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessionProcs()
}

// sessionProcs is procs with mu held.
func (g *Group) sessionProcs() []Stat {
	if g.ended {
		return nil
	}
	var ps []Stat
	for _, s := range AllProcs() {
		if s.Session == g.Pid() {
			ps = append(ps, s)
		}
	}
	return ps
}

// Kill9 sends SIGKILL to the leader alone and waits for it to exit.
func (g *Group) Kill9(t testing.TB) {
	t.Helper()
	g.Cmd.Process.Signal(syscall.SIGKILL)
	g.Wait(t, 10*time.Second)
}

// kill kills every process of the session until none is left, reaping
// them.
func (g *Group) kill(t testing.TB) {
	deadline := time.Now().Add(Scaled(10 * time.Second))
	for {
		// Killed under mu: none of them is reaped here before its kill.
		g.mu.Lock()
		left := g.sessionProcs()
		for _, s := range left {
			syscall.Kill(s.Pid, syscall.SIGKILL)
		}
		g.mu.Unlock()
		g.Reap()
		if len(left) == 0 && g.HasExited() {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("session %d still has %v", g.Pid(), left)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stat is what tests need of /proc/PID/stat.
type Stat struct {
	Pid, PPid, Pgrp, Session int
	State                    byte   // R, S, T, Z...
	Ticks                    uint64 // utime + stime, in clock ticks
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	f, err := procstart.Fields(strconv.Itoa(pid))
	if err != nil {
		return Stat{}, err
	}
	if len(f) < 13 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	s := Stat{Pid: pid, State: f[0][0]}
	s.PPid, _ = strconv.Atoi(string(f[1]))
	s.Pgrp, _ = strconv.Atoi(string(f[2]))
	s.Session, _ = strconv.Atoi(string(f[3]))
	utime, _ := strconv.ParseUint(string(f[11]), 10, 64)
	stime, _ := strconv.ParseUint(string(f[12]), 10, 64)
	s.Ticks = utime + stime
	return s, nil
}

// AllProcs returns every process there is.
func AllProcs() []Stat {
	entries, _ := os.ReadDir("/proc")
	var ps []Stat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := ReadStat(pid); err == nil {
			ps = append(ps, s)
		}
	}
	return ps
}

// Alive tells whether pid is a process that has not exited.
func Alive(pid int) bool {
	s, err := ReadStat(pid)
	return err == nil && s.State != 'Z' && s.State != 'X'
}

// Proc is a process as /proc shows it.
type Proc struct {
	Pid, PPid int
	Args      []string // empty for a zombie
}

// Procs lists the processes of group pgid, zombies included.
func Procs(pgid int) []Proc {
	var procs []Proc
	for _, s := range AllProcs() {
		if s.Pgrp != pgid {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/cmdline")
		var args []string
		if len(cmdline) > 0 {
			args = split(cmdline)
		}
		procs = append(procs, Proc{Pid: s.Pid, PPid: s.PPid, Args: args})
	}
	return procs
}

func split(cmdline []byte) []string {
	var args []string
	for _, a := range bytes.Split(bytes.TrimSuffix(cmdline, []byte{0}), []byte{0}) {
		args = append(args, string(a))
	}
	return args
}

// LogStartTime is sh that appends to the file named after it the time the
// shell running it was forked (field 22 of /proc/PID/stat, in clock ticks
// since boot): exact, where a clock read by the script would carry its
// start-up delay, which load makes long.
const LogStartTime = "cut -d' ' -f22 /proc/$$/stat >>"

// tick is the unit of the times in /proc/PID/stat (USER_HZ is 100 on Linux).
const tick = 10 * time.Millisecond

// ReadStartTimes reads the times LogStartTime appended to file, as
// wall-clock times to within a tick; none if there is no file yet.
func ReadStartTimes(t testing.TB, file string) []time.Time {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	boot := bootTime(t)
	var starts []time.Time
	// The service may be writing the last line: take whole lines only.
	for _, f := range strings.Fields(string(b[:bytes.LastIndexByte(b, '\n')+1])) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		starts = append(starts, boot.Add(time.Duration(n)*tick))
	}
	return starts
}

// bootTime returns when the machine booted, by the wall clock.
func bootTime(t testing.TB) time.Time {
	t.Helper()
	b, err := os.ReadFile("/proc/uptime")
	testbin.Must(t, err)
	f := strings.Fields(string(b))
	if len(f) == 0 {
		t.Fatalf("/proc/uptime: %q", b)
	}
	up, err := strconv.ParseFloat(f[0], 64)
	testbin.Must(t, err)
	return time.Now().Add(-time.Duration(up * float64(time.Second)))
}

// NewRand returns a generator seeded from $env, or from the clock, and
// logs env=seed so that a failure can be replayed.
func NewRand(t testing.TB, env string) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
	}
	t.Logf("%s=%d", env, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// CopyProgram copies the executable src to dst, mode 755 (see
// WriteFile).
func CopyProgram(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	testbin.Must(t, err)
	testbin.Must(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	WriteFile(t, dst, b, 0o755)
}

// WriteFile writes content to the file path as os.WriteFile does,
// holding off this process's forks meanwhile: a process forked while the
// file is open for writing holds it open until its exec, and until then
// running the file fails with "text file busy". The fork lock, held for
// writing from a fork to the child's exec (Go forks with vfork), keeps
// every fork out of that time.
func WriteFile(t testing.TB, path string, content []byte, perm os.FileMode) {
	t.Helper()
	syscall.ForkLock.RLock()
	err := os.WriteFile(path, content, perm)
	syscall.ForkLock.RUnlock()
	testbin.Must(t, err)
}
