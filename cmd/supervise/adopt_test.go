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

	"daemontools/internal/procstart"
	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// After kill -9 of supervise, the next supervise adopts the service still
// running instead of starting ./run again; when the adopted process ends,
// its exit is unknown (./finish gets "-1 0") and ./run starts as usual.
func TestAdoptsRunningService(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nexec sleep 1000")
	svtest.WriteFile(t, filepath.Join(dir, "finish"), []byte("#!/bin/sh\necho \"$1 $2\" >> finished\n"), 0o755)
	g, _ := svtest.StartSupervise(t, dir)
	first := svtest.WaitStatus(t, dir, "up", isUp)
	if first.Start == (procstart.ID{}) {
		t.Fatalf("record without the start of pid %d: %+v", first.Pid, first)
	}
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	svtest.StartSupervise(t, dir)
	running(t, dir)
	s := svtest.WaitStatus(t, dir, "adopted", isUp)
	if s.Pid != first.Pid || s.Start != first.Start || s.Since != first.Since || s.State != status.Running {
		t.Fatalf("after a new supervise: %+v, want pid %d adopted", s, first.Pid)
	}
	waitStarts(t, dir, 1)
	testbin.Must(t, unix.Kill(first.Pid, unix.SIGKILL))
	s = svtest.WaitStatus(t, dir, "a new run", func(s status.Status) bool { return s.Pid != 0 && s.Pid != first.Pid })
	if !s.Exited || !s.LastExit.Unknown || s.Restarts != 1 {
		t.Errorf("after the adopted process ended: %+v", s)
	}
	out, err := exec.Command(testbin.Path(t, "svstat"), "-l", dir).Output()
	testbin.Must(t, err)
	if !strings.HasSuffix(string(out), ", 1 restart, last exit unknown\n") {
		t.Errorf("svstat -l: %q", out)
	}
	waitStarts(t, dir, 2)
	finished, err := os.ReadFile(filepath.Join(dir, "finished"))
	if err != nil || string(finished) != "-1 0\n" {
		t.Errorf("./finish of the adopted process got %q (%v), want \"-1 0\\n\"", finished, err)
	}
}

// waitStarts waits until ./run has written its pid to "starts" n times,
// and fails if it has more.
func waitStarts(t *testing.T, dir string, n int) {
	t.Helper()
	file := filepath.Join(dir, "starts")
	svtest.WaitFor(t, 5*time.Second, "./run's starts", func() bool {
		b, _ := os.ReadFile(file)
		return strings.Count(string(b), "\n") >= n
	})
	if got := lines(t, file); len(got) != n {
		t.Fatalf("./run started %d times, want %d", len(got), n)
	}
}

// A record naming a live process that is not the one it names (its start
// differs: the pid was reused), or that does not say when its process
// started (daemontools' own record), is not adopted: ./run starts, and
// the stranger is left alone.
func TestReusedPidNotAdopted(t *testing.T) {
	t.Parallel()
	stranger := svtest.Start(t, exec.Command("sleep", "1000"))
	id, err := procstart.Of(stranger.Pid())
	testbin.Must(t, err)
	reused := id
	reused.Ticks--
	for name, record := range map[string][]byte{
		"reused pid":  status.Status{Pid: stranger.Pid(), Want: status.WantUp, State: status.Running, Start: reused}.Append(nil),
		"other boot":  status.Status{Pid: stranger.Pid(), Want: status.WantUp, State: status.Running, Start: procstart.ID{Ticks: id.Ticks}}.Append(nil),
		"daemontools": status.Status{Pid: stranger.Pid(), Want: status.WantUp}.Append(nil)[:status.Size],
	} {
		t.Run(name, func(t *testing.T) {
			dir := newService(t, "echo $$ >> starts\nexec sleep 1000")
			testbin.Must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o700))
			testbin.Must(t, os.WriteFile(filepath.Join(dir, status.File), record, 0o644))
			svtest.StartSupervise(t, dir)
			s := svtest.WaitStatus(t, dir, "./run up", func(s status.Status) bool { return s.Pid != 0 && s.Pid != stranger.Pid() })
			if s.Restarts != 0 || s.Exited {
				t.Errorf("record %+v", s)
			}
			waitStarts(t, dir, 1)
			if stranger.HasExited() {
				t.Fatalf("the stranger ended: %v", stranger.Cmd.ProcessState)
			}
		})
	}
}

// A mark of a start under way (a supervise killed between the fork of
// ./run and the record naming it; the record still names the process
// before): the next supervise adopts the orphan of the service directory
// that started after the mark, not one that started before it (left by an
// earlier run, or named by the record), nor one elsewhere, and starts no
// ./run while it runs.
func TestStartUnderWayAdopted(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nexec sleep 1000")
	before := orphan(t, dir, "1001")
	mark, last, err := procstart.Mark()
	testbin.Must(t, err)
	elsewhere := orphan(t, t.TempDir(), "1002")
	run := orphan(t, dir, "1003")
	start, err := procstart.Of(before)
	testbin.Must(t, err)
	record := status.Status{Pid: before, Start: start, State: status.Running, Want: status.WantUp, Restarts: 4}
	killedMidStart(t, dir, record, status.Mark{Start: mark, LastPid: last})
	svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "adopted", func(s status.Status) bool { return isUp(s) && s.Since != record.Since })
	if s.Pid != run || s.State != status.Running || s.Restarts != 4 || s.LastExit != (status.Exit{Unknown: true}) {
		t.Fatalf("record %+v, want pid %d adopted (before the mark %d, elsewhere %d)", s, run, before, elsewhere)
	}
	if !svtest.Holds(svtest.Scaled(300*time.Millisecond), func() bool { return !svtest.Exists(filepath.Join(dir, "starts")) }) {
		t.Fatalf("./run started beside the adopted process: %q", lines(t, filepath.Join(dir, "starts")))
	}
	testbin.Must(t, unix.Kill(run, unix.SIGKILL))
	waitStarts(t, dir, 1)
	if !svtest.Alive(before) || !svtest.Alive(elsewhere) {
		t.Errorf("an orphan not adopted ended: %d %v, %d %v", before, svtest.Alive(before), elsewhere, svtest.Alive(elsewhere))
	}
}

// orphan starts "sleep marker" in the directory where as an orphan,
// child of this process (a subreaper) or init, and gives its pid.
func orphan(t *testing.T, where, marker string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep "+marker+" & echo $! > "+marker)
	cmd.Dir = where
	g := svtest.Start(t, cmd)
	g.Wait(t, 5*time.Second)
	b, err := os.ReadFile(filepath.Join(where, marker))
	testbin.Must(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	testbin.Must(t, err)
	return pid
}

// killedMidStart leaves in dir the record and the mark of a start under
// way that a supervise killed during a start would leave, and gives a
// descriptor of dir.
func killedMidStart(t *testing.T, dir string, record status.Status, mark status.Mark) int {
	t.Helper()
	testbin.Must(t, os.MkdirAll(filepath.Join(dir, "supervise"), 0o700))
	testbin.Must(t, os.WriteFile(filepath.Join(dir, status.File), record.Append(nil), 0o644))
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testbin.Must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	markFd, err := status.OpenMark(fd)
	testbin.Must(t, err)
	defer unix.Close(markFd)
	testbin.Must(t, status.WriteMark(markFd, mark))
	return fd
}

// A mark made old by the record (a supervise killed after the record
// naming the new ./run but before it cleared the mark): the next
// supervise adopts the process the record names, not the first orphan of
// the service directory started after the mark, and starts no ./run.
func TestMarkMadeOldByRecord(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nexec sleep 1000")
	mark, last, err := procstart.Mark()
	testbin.Must(t, err)
	first := orphan(t, dir, "1004")
	run := orphan(t, dir, "1005")
	start, err := procstart.Of(run)
	testbin.Must(t, err)
	record := status.Status{Pid: run, Start: start, State: status.Running, Want: status.WantUp, Restarts: 2}
	fd := killedMidStart(t, dir, record, status.Mark{Start: mark, LastPid: last})
	svtest.StartSupervise(t, dir)
	// Cleared once the supervise has written its record.
	svtest.WaitFor(t, 10*time.Second, "the mark cleared", func() bool { return status.ReadMark(fd) == (status.Mark{}) })
	s, err := status.ReadAll(filepath.Join(dir, status.File))
	if err != nil || s.Pid != run || s.Restarts != 2 || s.Exited {
		t.Fatalf("record %+v %v, want pid %d adopted (not %d)", s, err, run, first)
	}
	if !svtest.Holds(svtest.Scaled(300*time.Millisecond), func() bool { return !svtest.Exists(filepath.Join(dir, "starts")) }) {
		t.Fatalf("./run started beside the adopted process: %q", lines(t, filepath.Join(dir, "starts")))
	}
}

// An adopted process keeps the readiness it had said: the record still
// says since when it is ready, as svstat -l and svwait -U read it.
func TestAdoptKeepsReadiness(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo >&3\nexec sleep 1000")
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "notification-fd"), []byte("3\n"), 0o644))
	g, _ := svtest.StartSupervise(t, dir)
	first := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return isUp(s) && !notReady(s) })
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	svtest.StartSupervise(t, dir)
	running(t, dir)
	s := svtest.WaitStatus(t, dir, "adopted", isUp)
	if s.Pid != first.Pid || !s.Readiness || s.Ready != first.Ready || s.State != status.Running {
		t.Errorf("after a new supervise: %+v, want pid %d adopted, ready since %v", s, first.Pid, first.Ready)
	}
}

// A stop signal that the adopted process has not answered yet is still
// recorded (byte 18, runit's sv's "got TERM") by the supervise that adopts
// it, which still waits for it to end; its exit clears it.
func TestAdoptKeepsStopSent(t *testing.T) {
	t.Parallel()
	dir := newService(t, "trap '' TERM\necho $$ >> starts\nexec sleep 1000")
	g, _ := svtest.StartSupervise(t, dir)
	up := svtest.WaitStatus(t, dir, "up", isUp)
	waitStarts(t, dir, 1)
	svtest.OurSvc(t, "-d", dir)
	stopping := func(s status.Status) bool {
		return s.Pid == up.Pid && s.StopSent && s.State == status.Stopping && s.Want == status.WantDown
	}
	svtest.WaitStatus(t, dir, "TERM sent", stopping)
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	svtest.StartSupervise(t, dir)
	running(t, dir)
	svtest.WaitStatus(t, dir, "TERM still sent after adoption", stopping)
	svtest.OurSvc(t, "-k", dir)
	if s := svtest.WaitStatus(t, dir, "down", isDown); s.StopSent || s.State != status.Stopped {
		t.Errorf("after KILL: %+v", s)
	}
}

// kill9 kills supervise with -9 and waits for it to be gone.
func kill9(t *testing.T, g *svtest.Group) {
	t.Helper()
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
}

// A stop under way when supervise is killed with -9 escalates all the
// same: the next supervise sends KILL timeout-kill after the stop the
// record says began, not never.
func TestAdoptedStopEscalates(t *testing.T) {
	t.Parallel()
	dir := newService(t, "trap '' TERM\necho $$ >> starts\nwhile :; do sleep 0.05; done")
	// Scaled: the test must see the stop under way and kill supervise
	// before the KILL, however slowly it is scheduled.
	killAfter := svtest.Scaled(time.Second)
	writeFile(t, dir, "timeout-kill", strconv.FormatInt(killAfter.Milliseconds(), 10)+"\n", 0o644)
	g, _ := svtest.StartSupervise(t, dir)
	up := svtest.WaitStatus(t, dir, "up", isUp)
	waitStarts(t, dir, 1)
	svtest.OurSvc(t, "-d", dir)
	stopping := svtest.WaitStatus(t, dir, "stopping", func(s status.Status) bool { return s.State == status.Stopping })
	if stopping.StopSince == (tai64.Label{}) {
		t.Errorf("a stop without its start: %+v", stopping)
	}
	kill9(t, g)
	svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "down, killed", func(s status.Status) bool { return s.Pid == 0 && s.Exited })
	if svtest.Alive(up.Pid) || s.Want != status.WantDown {
		t.Errorf("after the adopted stop: pid %d alive %v, record %+v", up.Pid, svtest.Alive(up.Pid), s)
	}
	if d := s.Since.Time().Sub(stopping.StopSince.Time()); d < killAfter-100*time.Millisecond {
		t.Errorf("killed %v after the stop began, before timeout-kill's %v", d, killAfter)
	}
}

// A ./finish still running when supervise is killed with -9: the next
// supervise waits for it before it starts ./run again.
func TestAdoptedFinishWaitedFor(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nexit 1")
	writeFile(t, dir, "finish", "#!/bin/sh\necho begin >> finish.log\nwhile [ ! -e go ]; do sleep 0.01; done\necho end >> finish.log\n", 0o755)
	writeFile(t, dir, "timeout-finish", "0\n", 0o644)
	g, _ := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "finishing", func(s status.Status) bool { return s.Finishing })
	if s.FinishPid == 0 || s.Start == (procstart.ID{}) {
		t.Fatalf("finishing without ./finish's pid and start: %+v", s)
	}
	kill9(t, g)
	svtest.StartSupervise(t, dir)
	running(t, dir)
	if adopted, err := status.ReadAll(filepath.Join(dir, status.File)); err != nil || !adopted.Finishing || adopted.FinishPid != s.FinishPid {
		t.Errorf("after a new supervise: %+v, want ./finish %d adopted", adopted, s.FinishPid)
	}
	if !svtest.Holds(svtest.Scaled(1500*time.Millisecond), func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 }) {
		t.Fatalf("./run started again while the old ./finish runs: %q", lines(t, filepath.Join(dir, "finish.log")))
	}
	writeFile(t, dir, "go", "", 0o644)
	waitStarts(t, dir, 2)
	if got := lines(t, filepath.Join(dir, "finish.log")); len(got) < 2 || got[0] != "begin" || got[1] != "end" {
		t.Errorf("finish.log %q", got)
	}
}

// A ./run that cannot be started: svstat -l and -j say why, until a start
// succeeds.
func TestStartErrorRecorded(t *testing.T) {
	t.Parallel()
	dir := newService(t, "exec sleep 1000")
	testbin.Must(t, os.Chmod(filepath.Join(dir, "run"), 0o644))
	svtest.StartSupervise(t, dir)
	svtest.WaitStatus(t, dir, "the start error", func(s status.Status) bool { return s.StartError == "unable to start run: access denied" })
	if l := svtest.SvstatLong(t, dir); !strings.Contains(l, ", unable to start run: access denied") {
		t.Errorf("svstat -l: %q", l)
	}
	out, err := exec.Command(testbin.Path(t, "svstat"), "-j", dir).Output()
	testbin.Must(t, err)
	if !strings.Contains(string(out), `"start_error":"unable to start run: access denied"`) {
		t.Errorf("svstat -j: %s", out)
	}
	testbin.Must(t, os.Chmod(filepath.Join(dir, "run"), 0o755))
	s := svtest.WaitStatus(t, dir, "up", isUp)
	if s.StartError != "" {
		t.Errorf("up, still a start error: %+v", s)
	}
}

// A ./run whose first act is to kill its supervise with -9 (once) is
// found by the next supervise, which adopts it rather than starting a
// second copy. strace holds supervise's writes of the record (the rename
// into place) after the first for 300 ms, so that ./run always runs, and
// kills supervise, before the record names it: only the mark written
// before the fork (status.MarkFile) tells of it.
func TestKilledJustAfterStart(t *testing.T) {
	t.Parallel()
	dir := newService(t, "if [ ! -e killed ]; then touch killed; kill -9 $PPID; fi\necho $$ >> starts\nexec sleep 1000")
	strace, err := exec.LookPath("strace")
	testbin.Must(t, err)
	svtest.Start(t, exec.Command(strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2",
		"-e", "inject=renameat2:delay_enter=300000:when=2+", testbin.Path(t, "supervise"), dir))
	svtest.WaitFor(t, 10*time.Second, "supervise killed by ./run", func() bool {
		if _, err := os.Stat(filepath.Join(dir, "killed")); err != nil {
			return false
		}
		fd, err := unix.Open(filepath.Join(dir, "supervise/ok"), unix.O_WRONLY|unix.O_NONBLOCK, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err != nil
	})
	svtest.StartSupervise(t, dir)
	running(t, dir)
	waitStarts(t, dir, 1)
	if !svtest.Holds(svtest.Scaled(300*time.Millisecond), func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 }) {
		t.Fatalf("./run started twice: %q", lines(t, filepath.Join(dir, "starts")))
	}
	s, err := status.ReadAll(filepath.Join(dir, status.File))
	if got := lines(t, filepath.Join(dir, "starts")); err != nil || len(got) != 1 || got[0] != strconv.Itoa(s.Pid) {
		t.Errorf("starts %q, the record %+v %v", got, s, err)
	}
}
