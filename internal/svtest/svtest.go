// Package svtest helps the integration tests of the supervision tree. It
// runs commands in process groups of their own and, when a test ends, kills
// each group and reaps everything left in it, so that a test leaves no
// process behind however deep the tree it started (svscan, its supervise
// processes, their services and loggers); it polls for conditions with a
// deadline; and it finds our build of a program, or Debian's until ours
// exists.
package svtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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

// Group is a command started as the leader of a new process group.
type Group struct {
	Cmd  *exec.Cmd
	done chan struct{}
}

// Start starts cmd as the leader of a new process group and registers a
// cleanup that kills the group and waits until none of it remains. Give cmd
// files, not other writers, as output: the group's processes share them, so
// a copy from a pipe would not end before they all do.
func Start(t testing.TB, cmd *exec.Cmd) *Group {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	g := &Group{Cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Process.Wait()
		close(g.done)
	}()
	t.Cleanup(func() { g.kill(t) })
	return g
}

// Exited is closed once the leader has exited.
func (g *Group) Exited() <-chan struct{} { return g.done }

func (g *Group) kill(t testing.TB) {
	pgid := g.Cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		syscall.Kill(-pgid, syscall.SIGKILL)
		left := Procs(pgid)
		select {
		case <-g.done:
		default:
			left = append(left, Proc{Pid: pgid}) // the leader, until Wait returns
		}
		for _, p := range left {
			if p.PPid == os.Getpid() && p.Pid != pgid {
				unix.Wait4(p.Pid, nil, unix.WNOHANG, nil)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("process group %d still has %v", pgid, left)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Proc is a process as /proc shows it.
type Proc struct {
	Pid, PPid int
	Args      []string // empty for a zombie
}

// Procs lists the processes of group pgid, zombies included.
func Procs(pgid int) []Proc {
	entries, _ := os.ReadDir("/proc")
	var procs []Proc
	for _, e := range entries {
		name := e.Name()
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name: state, ppid, pgrp, ...
		i := bytes.LastIndexByte(stat, ')')
		f := bytes.Fields(stat[i+1:])
		if len(f) < 3 {
			continue
		}
		if g, _ := strconv.Atoi(string(f[2])); g != pgid {
			continue
		}
		ppid, _ := strconv.Atoi(string(f[1]))
		cmdline, _ := os.ReadFile("/proc/" + name + "/cmdline")
		var args []string
		if len(cmdline) > 0 {
			args = split(cmdline)
		}
		procs = append(procs, Proc{Pid: pid, PPid: ppid, Args: args})
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

// WaitFor polls cond until it holds, failing the test after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Poll polls cond every 10 ms until it holds or timeout has passed, and
// tells whether it held.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Program returns our build of name once it exists, else Debian's, so that
// tests run against ours as soon as it is merged.
func Program(t testing.TB, name string) string {
	t.Helper()
	if p := filepath.Join(testbin.Dir(t), name); Exists(p) {
		return p
	}
	return testbin.Reference(t, name)
}

// Exists tells whether path exists.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
