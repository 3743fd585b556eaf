package main

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func TestErrorsLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	testbin.LikeReference(t, []string{"PATH=/usr/bin:/bin"}, "pgrphack", []testbin.Case{
		{Want: testbin.Usage("pgrphack: usage: pgrphack child")},
		{Args: []string{missing}, Want: testbin.Fatal("pgrphack: fatal: unable to run " + missing + ": file does not exist")},
		{Args: []string{"no-such-program-anywhere"}, Want: testbin.Fatal("pgrphack: fatal: unable to run no-such-program-anywhere: file does not exist")},
	})
}

// The program keeps pgrphack's pid and leads a new session and group.
func TestNewSession(t *testing.T) {
	cmd := exec.Command(testbin.Path(t, "pgrphack"), "cat", "/proc/self/stat")
	r := testbin.Run(t, cmd)
	f := strings.Fields(r.Stdout)
	if r.Code != 0 || len(f) < 6 {
		t.Fatalf("got %+v", r)
	}
	pid, pgrp, session := f[0], f[4], f[5]
	if pid != pgrp || pid != session {
		t.Errorf("pid %s, group %s, session %s", pid, pgrp, session)
	}
	if pid != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("pid %s is not pgrphack's %d: it did not exec", pid, cmd.Process.Pid)
	}
}

// A group leader cannot start a session; as with daemontools, the program
// runs anyway.
func TestAlreadyLeader(t *testing.T) {
	cmd := exec.Command(testbin.Path(t, "pgrphack"), "echo", "ran")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if r := testbin.Run(t, cmd); r.Stdout != "ran\n" || r.Code != 0 {
		t.Errorf("got %+v", r)
	}
}
