package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// untilGo waits for the test to create the file go.
const untilGo = "while [ ! -e go ]; do sleep 0.05; done\n"

// A service with a file named tied ends svscan when it goes down for good:
// svscan stops every other service in order and exits with the tied
// service's last exit code (128 + the signal when one killed it).
func TestTiedServiceEndsSvscan(t *testing.T) {
	cases := []struct {
		name   string
		run    string
		finish string
		svc    string // svc's option, "" for none
		code   int
	}{
		// svc -d: TERM, which the service turns into exit 3.
		{"down", "trap 'exit 3' TERM\n: >trapped\nwhile :; do sleep 0.05; done", "", "-d", 3},
		// Killed by TERM: 128 + 15.
		{"down by signal", "exec sleep 1000", "", "-d", 143},
		// svc -x: supervise exits once ./run has, without a restart.
		{"exit", untilGo + "exit 5", "", "-x", 5},
		// finish exiting 125: failed for good.
		{"finish 125", untilGo + "exit 7", "exit 125", "", 7},
	}
	forModes(t, func(t *testing.T, m mode) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "service")
				app := filepath.Join(dir, "app")
				makeService(t, app, c.run, "")
				writeFile(t, filepath.Join(app, "tied"), "", 0644)
				if c.finish != "" {
					writeFile(t, filepath.Join(app, "finish"), "#!/bin/sh\n"+c.finish+"\n", 0755)
				}
				names := loggedServices(t, dir, 1)
				s := m.start(t, dir)
				waitLogging(t, dir, names)
				waitUp(t, 10*time.Second, app)
				if strings.Contains(c.run, "trapped") {
					// Up is said before ./run runs: TERM must find the trap set.
					svtest.WaitFor(t, 5*time.Second, "the trap set", func() bool { return svtest.Exists(filepath.Join(app, "trapped")) })
				}
				if c.svc != "" {
					svtest.OurSvc(t, c.svc, app)
				}
				testbin.Must(t, os.WriteFile(filepath.Join(app, "go"), nil, 0644))
				if code := s.Wait(t, 10*time.Second); code != c.code {
					t.Errorf("svscan exited %d, want %d", code, c.code)
				}
				checkLogs(t, dir, names)
				noneLeft(t, s.Group)
			})
		}
	})
}

// A tied service that merely restarts, or whose supervise is killed, does
// not end svscan; nor does one that starts down (a down file). Under
// svscan -1 there is no supervise to kill.
func TestTiedServiceRestarting(t *testing.T) { forModes(t, tiedServiceRestarting) }

func tiedServiceRestarting(t *testing.T, m mode) {
	dir := filepath.Join(t.TempDir(), "service")
	app := filepath.Join(dir, "app")
	makeService(t, app, "exec sleep 1000", "")
	writeFile(t, filepath.Join(app, "tied"), "", 0644)
	idle := filepath.Join(dir, "idle")
	makeService(t, idle, "exec sleep 1000", "")
	writeFile(t, filepath.Join(idle, "tied"), "", 0644)
	writeFile(t, filepath.Join(idle, "down"), "", 0644)
	s := m.start(t, dir)
	first := waitUp(t, 10*time.Second, app)[app]
	svtest.OurSvc(t, "-k", app)
	svtest.WaitFor(t, 10*time.Second, "a restart", func() bool {
		p := upPid(t, app)
		return p != 0 && p != first
	})
	if m.perProcess() {
		old := s.supervisePid("app")
		testbin.Must(t, syscall.Kill(old, syscall.SIGKILL))
		waitGone(t, old)
		s.signal(t, syscall.SIGHUP)
		waitUp(t, 10*time.Second, app)
	}
	if s.HasExited() {
		t.Fatalf("svscan exited: %v", s.Cmd.ProcessState)
	}
	if _, err := os.Stat(filepath.Join(idle, "supervise/status")); err != nil {
		t.Errorf("idle: %v", err)
	}
}

// As PID 1, the tied service's exit code is the container's.
func TestTiedServicePid1(t *testing.T) { forModes(t, tiedServicePid1) }

func tiedServicePid1(t *testing.T, m mode) {
	dir := filepath.Join(testbin.PublicDir(t), "service")
	app := filepath.Join(dir, "app")
	makeService(t, app, "trap 'exit 42' TERM\n: >trapped\nwhile :; do sleep 0.05; done", "")
	writeFile(t, filepath.Join(app, "tied"), "", 0644)
	names := loggedServices(t, dir, 1)
	p := m.startPid1(t, dir)
	waitLogging(t, dir, names)
	waitUp(t, 10*time.Second, app)
	// Up is said before ./run runs: TERM must find the trap set.
	svtest.WaitFor(t, 5*time.Second, "the trap set", func() bool { return svtest.Exists(filepath.Join(app, "trapped")) })
	svtest.OurSvc(t, "-d", app)
	if code := p.Wait(t, 10*time.Second); code != 42 {
		t.Errorf("unshare exited %d, want the tied service's 42", code)
	}
	checkLogs(t, dir, names)
}

// A tied service whose daemon forks ends svscan, in both modes, with the
// daemon's exit code once it is down for good (svc -d: 7 from its trap).
func TestTiedPidfileDaemon(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		dir := filepath.Join(t.TempDir(), "service")
		app := filepath.Join(dir, "app")
		daemonService(t, app, "")
		writeFile(t, filepath.Join(app, "tied"), "", 0644)
		names := loggedServices(t, dir, 1)
		s := m.start(t, dir)
		waitLogging(t, dir, names)
		waitDaemon(t, app, 0)
		svtest.OurSvc(t, "-d", app)
		if code := s.Wait(t, 10*time.Second); code != 7 {
			t.Errorf("svscan exited %d, want the daemon's 7", code)
		}
		checkLogs(t, dir, names)
		noneLeft(t, s.Group)
	})
}
