package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// children lists the processes whose parent is pid, from every thread's
// /proc/PID/task/TID/children.
func children(pid int) []int {
	var kids []int
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(field); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// tree lists pid and all its descendants.
func tree(pid int) []int {
	all := []int{pid}
	for i := 0; i < len(all); i++ {
		all = append(all, children(all[i])...)
	}
	return all
}

// alive tells whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// pss returns the proportional set size of pid in KiB.
func pss(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "Pss:" {
			return strconv.Atoi(fields[1])
		}
	}
	return 0, fmt.Errorf("no Pss line for process %d", pid)
}

// wakeups returns the voluntary context switches of every thread of pid:
// each one is the thread going back to sleep after a wake-up.
func wakeups(pid int) int {
	n := 0
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				k, _ := strconv.Atoi(strings.TrimSpace(v))
				n += k
			}
		}
	}
	return n
}

// started holds the roots of every process tree the harness started, so
// that an interrupted run still kills them all.
var (
	startedMu sync.Mutex
	started   = map[int]bool{}
)

// start runs argv in a session of its own with the given PATH, stdin from
// /dev/null and output appended to logfile. The harness is a child
// subreaper, so everything under it comes back to it to be reaped.
func start(argv []string, path, logfile string) (int, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	out, err := os.OpenFile(logfile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Env:   []string{"PATH=" + path},
		Files: []*os.File{null, out, out},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, err
	}
	pid := p.Pid
	p.Release()
	startedMu.Lock()
	started[pid] = true
	startedMu.Unlock()
	return pid, nil
}

// stop kills pid and everything below it: first it freezes the whole tree
// so that no supervisor restarts what is being killed, then kills it and
// reaps until none of it is left.
func stop(pid int) error {
	startedMu.Lock()
	delete(started, pid)
	startedMu.Unlock()
	var all []int
	for range 3 {
		all = tree(pid)
		for _, p := range all {
			unix.Kill(p, unix.SIGSTOP)
		}
	}
	all = tree(pid)
	for _, p := range all {
		unix.Kill(p, unix.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		reap()
		left := 0
		for _, p := range all {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", p)); err == nil {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes of tree %d still there after 10 s", left, pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var ws unix.WaitStatus
		p, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || p <= 0 {
			return
		}
	}
}

// stopAll kills every tree still running, and anything reparented to the
// harness.
func stopAll() error {
	startedMu.Lock()
	var roots []int
	for pid := range started {
		roots = append(roots, pid)
	}
	startedMu.Unlock()
	var first error
	for _, pid := range roots {
		if err := stop(pid); err != nil && first == nil {
			first = err
		}
	}
	for _, kid := range children(os.Getpid()) {
		if err := stop(kid); err != nil && first == nil {
			first = err
		}
	}
	return first
}
