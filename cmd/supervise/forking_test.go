package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// Readiness and MAINPID= of daemons that fork (issue 18 with issue 15).

// doubleFork is a ./run that starts the shell script daemon in a
// grandchild, and exits 0.
const doubleFork = "echo $$ >> runs\nrm -f daemon.pid\nsh -c 'sh ./daemon &'\nexit 0"

// A daemon found through the pidfile speaks sd_notify: a datagram of its
// child counts, the service is "starting" until the daemon's READY=1,
// then ready.
func TestPidfileNotifySocket(t *testing.T) {
	t.Parallel()
	dir := newService(t, doubleFork)
	// The child stays alive until its datagram has been seen: a sender
	// gone before its datagram is read cannot be checked.
	writeFile(t, dir, "daemon", "echo $$ > daemon.pid.new && mv daemon.pid.new daemon.pid\n"+
		helperCommand(t, "STATUS=from the child", "await:seen")+"\n"+
		"exec "+helperCommand(t, "await:ready", "READY=1|STATUS=serving", "hang")+"\n", 0o644)
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	writeFile(t, dir, "notify-socket", "", 0o644)
	g, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool { return s.FromPidfile && s.Text == "from the child" })
	if s.Pid != readPid(t, filepath.Join(dir, "daemon.pid")) || !notReady(s) || s.State != status.Starting {
		t.Errorf("before READY=1: %+v", s)
	}
	writeFile(t, dir, "seen", "", 0o644)
	writeFile(t, dir, "ready", "", 0o644)
	daemon := s.Pid
	s = svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return !notReady(s) })
	if s.Pid != daemon || s.Text != "serving" || s.State != status.Running || s.Restarts != 0 {
		t.Errorf("after READY=1: %+v", s)
	}
	if got, want := svtest.SvstatLong(t, dir), "pid from pidfile, ready "; !strings.Contains(got, want) {
		t.Errorf("svstat -l: %q, want it to say %q", got, want)
	}
	svtest.OurSvc(t, "-dx", dir)
	g.Wait(t, 10*time.Second)
	if svtest.Alive(daemon) {
		t.Errorf("daemon %d alive after -dx", daemon)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// A daemon found through the pidfile inherits ./run's notification-fd:
// its newline makes the service ready.
func TestPidfileNotificationFd(t *testing.T) {
	t.Parallel()
	dir := newService(t, doubleFork)
	writeFile(t, dir, "daemon", "echo $$ > daemon.pid.new && mv daemon.pid.new daemon.pid\nsleep 0.3\necho >&3\nexec sleep 1000\n", 0o644)
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	writeFile(t, dir, "notification-fd", "3\n", 0o644)
	_, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return s.FromPidfile && !notReady(s) })
	if s.Pid != readPid(t, filepath.Join(dir, "daemon.pid")) || s.State != status.Running {
		t.Errorf("ready: %+v", s)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// MAINPID= names the service's process: a process ./run started, which
// becomes the service (svstat, svc, its death) while ./run, still running,
// no longer counts; svc -d stops both.
func TestMainpid(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> runs\n"+helperCommand(t, "pidfile:daemon.pid", "sleep:100", "mainpid", "READY=1", "hang")+" &\nexec sleep 1000")
	writeFile(t, dir, "notify-socket", "", 0o644)
	g, errFile := svtest.StartSupervise(t, dir)
	daemonUp := func(restarts uint32) status.Status {
		t.Helper()
		return svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool {
			return s.FromMainpid && !notReady(s) && s.Restarts == restarts && len(lines(t, filepath.Join(dir, "daemon.pid"))) == 1 &&
				s.Pid == readPid(t, filepath.Join(dir, "daemon.pid"))
		})
	}
	s := daemonUp(0)
	run := lines(t, filepath.Join(dir, "runs"))
	if s.FromPidfile || s.State != status.Running || run[0] == strconv.Itoa(s.Pid) {
		t.Errorf("record: %+v, ./run %v", s, run)
	}
	if got, want := svtest.SvstatLong(t, dir), "pid from MAINPID, ready "; !strings.Contains(got, want) {
		t.Errorf("svstat -l: %q, want it to say %q", got, want)
	}
	out, err := exec.Command(testbin.Path(t, "svstat"), "-j", dir).Output()
	testbin.Must(t, err)
	if j := string(out); !strings.Contains(j, `"pid_from_pidfile":false,"pid_from_mainpid":true`) {
		t.Errorf("svstat -j: %s", j)
	}

	// ./run's exit is no longer the service's.
	runPid, _ := strconv.Atoi(run[0])
	testbin.Must(t, unix.Kill(runPid, unix.SIGTERM))
	svtest.WaitFor(t, 5*time.Second, "./run gone", func() bool { return !svtest.Alive(runPid) })
	noZombies(t, g.Pid())
	if now := svtest.WaitStatus(t, dir, "the daemon still up", isUp); now.Pid != s.Pid || now.Exited || now.Restarts != 0 {
		t.Errorf("after ./run exited: %+v, want %+v", now, s)
	}

	// The daemon's death is the service's: an orphan of ./run now, its
	// exit status is had.
	testbin.Must(t, unix.Kill(s.Pid, unix.SIGKILL))
	second := daemonUp(1)
	if second.Pid == s.Pid || second.LastExit != (status.Exit{Code: 256, Signal: 9}) {
		t.Errorf("after kill -9 of %d: %+v", s.Pid, second)
	}
	run = lines(t, filepath.Join(dir, "runs"))
	if len(run) != 2 {
		t.Fatalf("runs %v", run)
	}
	runPid, _ = strconv.Atoi(run[1])

	svtest.OurSvc(t, "-d", dir)
	d := svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && s.State == status.Stopped })
	// TERM went to the daemon and to ./run, its parent: the daemon's
	// status is had if it came back to supervise before it exited.
	if d.LastExit != (status.Exit{Code: 256, Signal: int(unix.SIGTERM)}) && !d.LastExit.Unknown || d.FromMainpid {
		t.Errorf("record after -d: %+v", d)
	}
	stoppedCleanly(t, g.Pid(), errFile, second.Pid, runPid)
}

// The daemon found through the pidfile names its own child with MAINPID=:
// that child becomes the service, and svc -d stops both.
func TestPidfileThenMainpid(t *testing.T) {
	t.Parallel()
	dir := newService(t, doubleFork)
	writeFile(t, dir, "daemon", "echo $$ > daemon.pid.new && mv daemon.pid.new daemon.pid\n"+
		helperCommand(t, "sleep:300", "pidfile:main.pid", "mainpid", "READY=1", "hang")+" &\nwait\n", 0o644)
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	writeFile(t, dir, "notify-socket", "", 0o644)
	g, errFile := svtest.StartSupervise(t, dir)
	svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool { return s.FromPidfile })
	daemon := readPid(t, filepath.Join(dir, "daemon.pid"))
	s := svtest.WaitStatus(t, dir, "its child up", func(s status.Status) bool { return s.FromMainpid && !notReady(s) })
	if main := readPid(t, filepath.Join(dir, "main.pid")); s.Pid != main || s.FromPidfile || s.Restarts != 0 {
		t.Errorf("record %+v, main.pid %d", s, main)
	}
	if got, want := svtest.SvstatLong(t, dir), "pid from MAINPID, ready "; !strings.Contains(got, want) {
		t.Errorf("svstat -l: %q, want it to say %q", got, want)
	}
	svtest.OurSvc(t, "-d", dir)
	svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && s.State == status.Stopped })
	stoppedCleanly(t, g.Pid(), errFile, daemon, s.Pid)
}

// stoppedCleanly checks what svc -d must leave: none of pids alive, no
// zombie under supervise, nothing on its stderr (errFile).
func stoppedCleanly(t *testing.T, supervisePid int, errFile string, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		if svtest.Alive(pid) {
			t.Errorf("pid %d alive after -d", pid)
		}
	}
	noZombies(t, supervisePid)
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// MAINPID= naming a process that is not ./run's is not trusted: a warning,
// ./run stays the service, and that process never gets a signal.
func TestMainpidStranger(t *testing.T) {
	t.Parallel()
	got := filepath.Join(t.TempDir(), "got")
	trapAll := "for s in HUP ALRM INT TERM QUIT USR1 USR2 WINCH CONT; do trap \"echo $s >> " + got + "\" $s; done\n" +
		"while :; do sleep 1; done"
	stranger := svtest.Start(t, exec.Command("sh", "-c", trapAll))
	dir := newService(t, "")
	notifyService(t, dir, "MAINPID="+strconv.Itoa(stranger.Pid()), "READY=1", "hang")
	g, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return s.Pid != 0 && !notReady(s) })
	if s.FromMainpid || strconv.Itoa(s.Pid) != lines(t, filepath.Join(dir, "starts"))[0] {
		t.Errorf("record: %+v, starts %v", s, lines(t, filepath.Join(dir, "starts")))
	}
	warning := "supervise: warning: " + dir + "/notify-socket: MAINPID from pid " + strconv.Itoa(s.Pid) + " names pid " +
		strconv.Itoa(stranger.Pid()) + ", which is not a descendant of " + dir + "/run: ignored\n"
	if e := stderrOf(errFile); e != warning {
		t.Errorf("stderr %q, want %q", e, warning)
	}
	svtest.OurSvc(t, "-dx", dir)
	g.Wait(t, 10*time.Second)
	if st, err := svtest.ReadStat(stranger.Pid()); err != nil || st.State == 'Z' || len(lines(t, got)) != 0 {
		t.Errorf("the stranger: %+v, %v, got %q", st, err, lines(t, got))
	}
}

// After kill -9 of supervise, the next one adopts the daemon and still
// knows it came from the pidfile; svc -d stops the daemon and its helper.
func TestPidfileAdopted(t *testing.T) {
	t.Parallel()
	dir := newService(t, doubleFork)
	writeFile(t, dir, "daemon", forkingDaemon, 0o644)
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	g, _ := svtest.StartSupervise(t, dir)
	first := svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool { return s.FromPidfile })
	svtest.WaitFor(t, 5*time.Second, "the helper", func() bool { return len(lines(t, filepath.Join(dir, "helper.pid"))) == 1 })
	helper := readPid(t, filepath.Join(dir, "helper.pid"))
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	// The daemon is no longer in supervise's session: kill it by pid
	// should the test fail.
	t.Cleanup(func() {
		for _, pid := range []int{first.Pid, helper} {
			if svtest.Alive(pid) {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	})
	_, errFile := svtest.StartSupervise(t, dir)
	running(t, dir)
	s := svtest.WaitStatus(t, dir, "adopted", func(s status.Status) bool { return s.Pid == first.Pid })
	if !s.FromPidfile || s.Start != first.Start || s.State != status.Running {
		t.Errorf("adopted: %+v, was %+v", s, first)
	}
	if got, want := svtest.SvstatLong(t, dir), "pid from pidfile, 0 restarts"; !strings.Contains(got, want) {
		t.Errorf("svstat -l: %q, want it to say %q", got, want)
	}
	svtest.OurSvc(t, "-d", dir)
	d := svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && s.State == status.Stopped })
	if d.FromPidfile || !d.LastExit.Unknown {
		t.Errorf("record after -d: %+v", d)
	}
	for _, pid := range []int{first.Pid, helper} {
		if svtest.Alive(pid) {
			st, _ := svtest.ReadStat(pid)
			cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			t.Errorf("pid %d alive after -d: %+v %q (daemon %d, helper %d)", pid, st, cmd, first.Pid, helper)
		}
	}
	if runs := lines(t, filepath.Join(dir, "runs")); len(runs) != 1 {
		t.Errorf("./run started again: runs %v", runs)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}
