// Package pgroup runs the commands of integration tests in process groups
// of their own and, when a test ends, kills each group and reaps everything
// left in it, so that a test leaves no process behind however deep the tree
// it started (svscan, its supervise processes, their services and loggers).
package pgroup

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Subreap makes the test process the reaper of its orphaned descendants, so
// that the processes of a killed group are reaped here, not left to an init
// that may never do it. Call it from TestMain.
func Subreap() error { return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

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
	names, _ := readDirNames("/proc")
	var procs []Proc
	for _, name := range names {
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

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}
