package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { svtest.Main(m) }

const usageLine = "svwait: usage: svwait [-u|-U|-H|-d|-D] [-o] [-t MS] dir ...\n"

// svwait runs svwait with args to its end.
func svwait(t *testing.T, args ...string) testbin.Result {
	t.Helper()
	return testbin.RunWithin(t, exec.Command(testbin.Path(t, "svwait"), args...), svtest.Scaled(testbin.Hang))
}

// background starts svwait with args; its result comes on the channel.
func background(t *testing.T, args ...string) <-chan testbin.Result {
	t.Helper()
	done := make(chan testbin.Result, 1)
	cmd := exec.Command(testbin.Path(t, "svwait"), args...)
	go func() { done <- testbin.RunWithin(t, cmd, svtest.Scaled(20*time.Second)) }()
	svtest.WaitFor(t, 5*time.Second, "svwait to start", func() bool { return cmd.Process != nil })
	return done
}

// supervised starts supervise (ours, or the reference's when ref) on a new
// service dir running body, and waits until it is up, or down when the
// directory has a down file.
func supervised(t *testing.T, ref bool, body string, down bool) string {
	t.Helper()
	dir := filepath.Join(testbin.PublicDir(t), "svc")
	svtest.NewService(t, dir, body)
	if down {
		testbin.Must(t, os.WriteFile(filepath.Join(dir, "down"), nil, 0o644))
	}
	prog := testbin.Path(t, "supervise")
	if ref {
		prog = testbin.Reference(t, "supervise")
	}
	svtest.Start(t, exec.Command(prog, dir))
	// The record comes just before supervise opens supervise/ok, by
	// which svwait and svok tell that it runs: both are waited for.
	svtest.WaitFor(t, 5*time.Second, "supervise to start", func() bool {
		s, ok := svtest.ReadStatus(t, dir)
		return ok && (down || s.Pid != 0) && exec.Command(testbin.Path(t, "svok"), dir).Run() == nil
	})
	return dir
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{nil, usageLine},
		{[]string{"-u"}, usageLine},
		{[]string{"-t", "abc", "/"}, usageLine},
		{[]string{"-t", "-5", "/"}, usageLine},
		{[]string{"-t"}, "svwait: option requires an argument -- t\n" + usageLine},
		{[]string{"-x", "/"}, "svwait: illegal option -- x\n" + usageLine},
	} {
		if got, want := svwait(t, tc.args...), (testbin.Result{Stderr: tc.stderr, Code: 100}); got != want {
			t.Errorf("svwait %q: %+v, want %+v", tc.args, got, want)
		}
	}
}

// A directory without a running supervise cannot be watched: 111 at once,
// in daemontools' words.
func TestNotRunning(t *testing.T) {
	t.Parallel()
	root := testbin.PublicDir(t)
	plain := filepath.Join(root, "plain")
	testbin.Must(t, os.Mkdir(plain, 0o755))
	stopped := filepath.Join(root, "stopped")
	testbin.Must(t, os.MkdirAll(filepath.Join(stopped, "supervise"), 0o700))
	testbin.Must(t, syscall.Mkfifo(filepath.Join(stopped, "supervise/ok"), 0o600))
	up := supervised(t, false, "exec sleep 100", false)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{plain}, "svwait: fatal: unable to open " + plain + "/supervise/ok: file does not exist\n"},
		{[]string{"-d", stopped}, "svwait: fatal: unable to watch " + stopped + ": supervise not running\n"},
		{[]string{"-o", up, stopped}, "svwait: fatal: unable to watch " + stopped + ": supervise not running\n"},
		{[]string{root + "/missing"}, "svwait: fatal: unable to open " + root + "/missing/supervise/ok: file does not exist\n"},
	} {
		if got, want := svwait(t, tc.args...), (testbin.Result{Stderr: tc.stderr, Code: 111}); got != want {
			t.Errorf("svwait %q: %+v, want %+v", tc.args, got, want)
		}
	}
}

// Against our supervise and daemontools' own: a state that holds answers
// at once, one that does not times out with 99, and svwait -d returns
// once svc -d has taken effect (the record says down), as does -D.
func TestWaits(t *testing.T) {
	t.Parallel()
	for _, ref := range []bool{false, true} {
		dir := supervised(t, ref, "exec sleep 100", false)
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{dir}, 0},
			{[]string{"-u", dir}, 0},
			{[]string{"-U", dir}, 0}, // no readiness: up is ready
			{[]string{"-d", "-t", "0", dir}, 99},
			{[]string{"-D", "-t", "50", dir}, 99},
			{[]string{"-du", dir}, 0},
		} {
			if got, want := svwait(t, tc.args...), (testbin.Result{Code: tc.code}); got != want {
				t.Errorf("ref %v: svwait %q: %+v, want %+v", ref, tc.args, got, want)
			}
		}
		for _, want := range []string{"-d", "-D"} {
			waiting := background(t, want, dir)
			svc := testbin.Path(t, "svc")
			if ref {
				svc = testbin.Reference(t, "svc")
			}
			svtest.Svc(t, svc, "-d", dir)
			if got := <-waiting; got != (testbin.Result{}) {
				t.Errorf("ref %v: svwait %s after svc -d: %+v", ref, want, got)
			}
			if s, _ := svtest.ReadStatus(t, dir); s.Pid != 0 {
				t.Errorf("ref %v: svwait %s returned while the service is up (pid %d)", ref, want, s.Pid)
			}
			waiting = background(t, "-u", dir)
			svtest.Svc(t, svc, "-u", dir)
			if got := <-waiting; got != (testbin.Result{}) {
				t.Errorf("ref %v: svwait -u after svc -u: %+v", ref, got)
			}
		}
	}
}

// Every dir must hold, or one with -o; a supervise that exits before its
// service comes up ends the wait with 111, unless -o leaves another.
func TestSeveral(t *testing.T) {
	t.Parallel()
	up := supervised(t, false, "exec sleep 100", false)
	down := supervised(t, false, "exec sleep 100", true)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-o", down, up}, 0},
		{[]string{"-o", "-d", up, down}, 0},
		{[]string{"-t", "50", down, up}, 99},
		{[]string{"-d", "-t", "50", down, up}, 99},
		{[]string{up, up}, 0},
	} {
		if got, want := svwait(t, tc.args...), (testbin.Result{Code: tc.code}); got != want {
			t.Errorf("svwait %q: %+v, want %+v", tc.args, got, want)
		}
	}
	// down's supervise exits, its service never up.
	waiting := background(t, down)
	svtest.Svc(t, testbin.Path(t, "svc"), "-x", down)
	want := testbin.Result{Stderr: "svwait: fatal: unable to watch " + down + ": supervise not running\n", Code: 111}
	if got := <-waiting; got != want {
		t.Errorf("svwait on a service whose supervise exits: %+v, want %+v", got, want)
	}
}

// While it waits, svwait sleeps: no wake-ups at an interval.
func TestSleeps(t *testing.T) {
	t.Parallel()
	dir := supervised(t, false, "exec sleep 100", false)
	cmd := exec.Command(testbin.Path(t, "svwait"), "-d", dir)
	g := svtest.Start(t, cmd)
	// Once the Go runtime has settled after start-up, a second passes
	// with no wake-up at all; one polling at an interval would never
	// have such a second.
	svtest.WaitFor(t, 10*time.Second, "a second in which svwait sleeps", func() bool {
		before := switches(t, g.Pid())
		time.Sleep(time.Second)
		return switches(t, g.Pid()) == before
	})
	svtest.Svc(t, testbin.Path(t, "svc"), "-d", dir)
	if code := g.Wait(t, 5*time.Second); code != 0 {
		t.Errorf("svwait -d after svc -d: exit %d", code)
	}
}

// switches counts the voluntary context switches of every thread of pid.
func switches(t *testing.T, pid int) int {
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	testbin.Must(t, err)
	n := 0
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				k, _ := strconv.Atoi(strings.TrimSpace(v))
				n += k
			}
		}
	}
	return n
}

// svwait -D sees "down, finish done" even when ./run starts again right
// after ./finish, before svwait could look at the record again: a newer
// ./run means the one before ended and its ./finish is done. It waited
// for a moment it had missed, and gave 99 at the end of -t.
func TestDownDoneThenUpAgain(t *testing.T) {
	t.Parallel()
	dir := supervised(t, false, "exec sleep 100", false)
	svtest.WriteFile(t, filepath.Join(dir, "finish"), []byte("#!/bin/sh\nsleep 0.2\n"), 0o755)
	// Up for over a second: ./run starts again as soon as ./finish exits.
	svtest.WaitFor(t, 5*time.Second, "./run up for a second", func() bool {
		s, ok := svtest.ReadStatus(t, dir)
		return ok && s.Pid != 0 && time.Since(s.Since.Time()) > 1100*time.Millisecond
	})
	before, _ := svtest.ReadStatus(t, dir)
	cmd := exec.Command(testbin.Path(t, "svwait"), "-D", "-t", strconv.Itoa(int(svtest.Scaled(2*time.Second)/time.Millisecond)), dir)
	g := svtest.Start(t, cmd)
	// Its first look is done once it sleeps in poll.
	svtest.WaitFor(t, 5*time.Second, "svwait to wait", func() bool { return inPoll(g.Pid()) })
	svtest.Svc(t, testbin.Path(t, "svc"), "-k", dir)
	if code := g.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("svwait -D across ./finish and a new ./run: exit %d, want 0", code)
	}
	// svwait may have seen the moment between ./finish and the record
	// naming the new ./run: that record is waited for.
	svtest.WaitStatus(t, dir, "the service started again", func(s status.Status) bool { return s.Pid != 0 && s.Pid != before.Pid })
}

// inPoll tells whether a thread of pid sleeps in poll(2).
func inPoll(pid int) bool {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/wchan")
	for _, task := range tasks {
		if b, _ := os.ReadFile(task); strings.HasPrefix(string(b), "poll_schedule_timeout") {
			return true
		}
	}
	return false
}

// With -t, a service directory whose supervise has not started yet (just
// linked into svscan's directory, or left by a supervise that has gone)
// is waited for within that time; without -t, or when the directory is
// missing, svwait fails at once, and it fails as before when no
// supervise comes in time.
func TestWaitsForSupervise(t *testing.T) {
	t.Parallel()
	for _, stale := range []bool{false, true} {
		dir := filepath.Join(testbin.PublicDir(t), "svc")
		svtest.NewService(t, dir, "exec sleep 100")
		if stale {
			testbin.Must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o700))
			testbin.Must(t, syscall.Mkfifo(filepath.Join(dir, "supervise/ok"), 0o600))
		}
		notRunning := "svwait: fatal: unable to open " + dir + "/supervise/ok: file does not exist\n"
		if stale {
			notRunning = "svwait: fatal: unable to watch " + dir + ": supervise not running\n"
		}
		if got, want := svwait(t, "-U", dir), (testbin.Result{Stderr: notRunning, Code: 111}); got != want {
			t.Errorf("stale %v: without -t: %+v, want %+v", stale, got, want)
		}
		if got, want := svwait(t, "-U", "-t", "100", dir), (testbin.Result{Stderr: notRunning, Code: 111}); got != want {
			t.Errorf("stale %v: no supervise within -t: %+v, want %+v", stale, got, want)
		}
		cmd := exec.Command(testbin.Path(t, "svwait"), "-U", "-t", strconv.Itoa(int(svtest.Scaled(10*time.Second)/time.Millisecond)), dir)
		g := svtest.Start(t, cmd)
		svtest.WaitFor(t, 5*time.Second, "svwait to wait", func() bool { return inPoll(g.Pid()) })
		svtest.Start(t, exec.Command(testbin.Path(t, "supervise"), dir))
		if code := g.Wait(t, 10*time.Second); code != 0 {
			t.Errorf("stale %v: svwait -U -t once supervise starts: exit %d, want 0", stale, code)
		}
		if s, _ := svtest.ReadStatus(t, dir); s.Pid == 0 {
			t.Errorf("stale %v: svwait returned before the service was up", stale)
		}
	}
	missing := testbin.Missing(t)
	want := testbin.Result{Stderr: "svwait: fatal: unable to open " + missing + "/supervise/ok: file does not exist\n", Code: 111}
	if got := svwait(t, "-t", "600000", missing); got != want {
		t.Errorf("missing directory with -t: %+v, want %+v", got, want)
	}
}

// With our supervise, svwait waits on a FIFO of its own in
// supervise/event, not on inotify, whose descriptor would cost every exit
// the kernel's fsnotify grace period; the FIFO goes when svwait ends, and
// that of a svwait killed goes at the service's next change.
func TestWaitsOnEventFIFO(t *testing.T) {
	t.Parallel()
	dir := supervised(t, false, "exec sleep 100", false)
	events := filepath.Join(dir, "supervise/event")
	fifos := func() []string {
		entries, err := os.ReadDir(events)
		testbin.Must(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	g := svtest.Start(t, exec.Command(testbin.Path(t, "svwait"), "-d", dir))
	svtest.WaitFor(t, 5*time.Second, "svwait to wait", func() bool { return inPoll(g.Pid()) })
	if got := fifos(); len(got) != 1 || !strings.HasPrefix(got[0], strconv.Itoa(g.Pid())+".1.") {
		t.Errorf("event directory while svwait waits: %q, want its FIFO, %d.1.TIME", got, g.Pid())
	}
	fds, _ := filepath.Glob("/proc/" + strconv.Itoa(g.Pid()) + "/fd/*")
	for _, fd := range fds {
		if link, _ := os.Readlink(fd); strings.Contains(link, "inotify") {
			t.Errorf("svwait holds %s: %s", fd, link)
		}
	}
	svtest.Svc(t, testbin.Path(t, "svc"), "-d", dir)
	if code := g.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("svwait -d after svc -d: exit %d", code)
	}
	if got := fifos(); len(got) != 0 {
		t.Errorf("left after svwait: %q", got)
	}

	g = svtest.Start(t, exec.Command(testbin.Path(t, "svwait"), "-u", dir))
	svtest.WaitFor(t, 5*time.Second, "svwait to wait", func() bool { return inPoll(g.Pid()) })
	g.Kill9(t)
	if got := fifos(); len(got) != 1 {
		t.Fatalf("after kill -9 of svwait: %q, want its FIFO", got)
	}
	svtest.Svc(t, testbin.Path(t, "svc"), "-u", dir)
	svtest.WaitFor(t, 5*time.Second, "the abandoned FIFO to go", func() bool { return len(fifos()) == 0 })
}

// An event directory left by our supervise, under daemontools' own (which
// posts nothing): svwait sees the record is not ours and watches through
// inotify.
func TestEventDirectoryUnderReference(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testbin.PublicDir(t), "svc")
	svtest.NewService(t, dir, "exec sleep 100")
	testbin.Must(t, os.MkdirAll(filepath.Join(dir, "supervise/event"), 0o700))
	svtest.Start(t, exec.Command(testbin.Reference(t, "supervise"), dir))
	svtest.WaitFor(t, 5*time.Second, "supervise to start", func() bool {
		s, ok := svtest.ReadStatus(t, dir)
		return ok && s.Pid != 0
	})
	cmd := exec.Command(testbin.Path(t, "svwait"), "-d", "-t", strconv.Itoa(int(svtest.Scaled(5*time.Second)/time.Millisecond)), dir)
	g := svtest.Start(t, cmd)
	svtest.WaitFor(t, 5*time.Second, "svwait to wait", func() bool { return inPoll(g.Pid()) })
	svtest.Svc(t, testbin.Reference(t, "svc"), "-d", dir)
	if code := g.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("svwait -d after svc -d: exit %d, want 0", code)
	}
}
