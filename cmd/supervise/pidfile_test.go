package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// pidfileWait is supervise's wait for a pidfile after ./run exits 0, with
// a margin for a loaded machine.
const pidfileWait = 5*time.Second + 10*time.Second

// forkingDaemon is a daemon that logs the signals it gets (but INT and
// QUIT, which sh ignores in a background job), exits 7 on
// TERM, writes its pid to daemon.pid once its traps are set, and keeps a
// helper (a sleep whose pid is in helper.pid).
// forkingDaemon's wait is silent: when svc -d's TERM reaches its sleep
// before the shell's trap runs, dash reports "Terminated" for it, which is
// the fixture's noise, not supervise's.
const forkingDaemon = `for s in HUP ALRM USR1 USR2 WINCH CONT; do trap "echo $s >> signals" $s; done
trap 'echo TERM >> signals; exit 7' TERM
sleep 1000 &
echo $! > helper.pid
echo $$ > daemon.pid.new && mv daemon.pid.new daemon.pid
while :; do sleep 1 & wait $! 2>/dev/null; done
`

// readPid reads the pid in file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	l := lines(t, file)
	if len(l) != 1 {
		t.Fatalf("%s holds %q", file, l)
	}
	pid, err := strconv.Atoi(l[0])
	testbin.Must(t, err)
	return pid
}

// zombiesOf lists the zombie children of pid.
func zombiesOf(pid int) []int {
	var z []int
	for _, p := range svtest.AllProcs() {
		if p.PPid == pid && p.State == 'Z' {
			z = append(z, p.Pid)
		}
	}
	return z
}

// noZombies waits until supervise has reaped every child that exited.
func noZombies(t *testing.T, supervise int) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, "no zombie children of supervise", func() bool { return len(zombiesOf(supervise)) == 0 })
}

// A shell daemon that double-forks and writes a pidfile is supervised as
// the service: svstat shows its pid, from the pidfile; svc signals it;
// supervise reaps the intermediate process; a kill -9 restarts it; svc -d
// stops it and its helper, and ./finish gets its exit code.
func TestPidfileDoubleFork(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> runs\nrm -f daemon.pid\nsh -c 'sh ./daemon &'\nexit 0")
	writeFile(t, dir, "daemon", forkingDaemon, 0o644)
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	writeFile(t, dir, "finish", finishLogs, 0o755)
	g, errFile := svtest.StartSupervise(t, dir)
	daemonUp := func(restarts uint32) (status.Status, int) {
		t.Helper()
		var pid int
		s := svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool {
			b, err := os.ReadFile(filepath.Join(dir, "daemon.pid"))
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			return err == nil && s.Pid == pid && s.Restarts == restarts
		})
		if !s.FromPidfile || s.State != status.Running || s.Want != status.WantUp {
			t.Errorf("record with the daemon up: %+v", s)
		}
		return s, pid
	}
	_, daemon := daemonUp(0)
	if runs := lines(t, filepath.Join(dir, "runs")); len(runs) != 1 || runs[0] == strconv.Itoa(daemon) {
		t.Errorf("runs %q, daemon %d", runs, daemon)
	}
	if got, want := svtest.SvstatLong(t, dir), "pid from pidfile, 0 restarts"; !strings.Contains(got, want) {
		t.Errorf("svstat -l: %q, want it to say %q", got, want)
	}
	noZombies(t, g.Pid())

	var want []string
	for _, c := range []struct{ letter, signal string }{
		{"-h", "HUP"}, {"-a", "ALRM"}, {"-1", "USR1"}, {"-2", "USR2"}, {"-w", "WINCH"}, {"-c", "CONT"},
	} {
		svtest.OurSvc(t, c.letter, dir)
		want = append(want, c.signal)
		svtest.WaitFor(t, 5*time.Second, "the daemon to get "+c.signal, func() bool {
			return strings.Join(lines(t, filepath.Join(dir, "signals")), " ") == strings.Join(want, " ")
		})
	}

	testbin.Must(t, unix.Kill(daemon, unix.SIGKILL))
	s, second := daemonUp(1)
	if second == daemon || s.LastExit != (status.Exit{Code: 256, Signal: 9}) {
		t.Errorf("after kill -9 of %d: daemon %d, record %+v", daemon, second, s)
	}
	helper := readPid(t, filepath.Join(dir, "helper.pid"))

	svtest.OurSvc(t, "-d", dir)
	s = svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && !s.Finishing })
	if s.Want != status.WantDown || s.State != status.Stopped || s.LastExit != (status.Exit{Code: 7}) || s.FromPidfile {
		t.Errorf("record after -d: %+v", s)
	}
	for _, pid := range []int{daemon, second, helper} {
		if svtest.Alive(pid) {
			t.Errorf("pid %d still alive after -d", pid)
		}
	}
	if got := strings.Join(lines(t, filepath.Join(dir, "finished")), " "); got != "256 9 "+dir+" 7 0 "+dir {
		t.Errorf("finish saw %q", got)
	}
	noZombies(t, g.Pid())
	// The helper of the daemon killed with -9 was stopped before the
	// restart.
	if e := stderrOf(errFile); !leftBehind(dir).MatchString(e) || leftBehind(dir).ReplaceAllString(e, "") != "" {
		t.Errorf("stderr %q", e)
	}
}

// A daemon that ignores the down signal is killed after timeout-kill, and
// so is its helper, which ignores it too.
func TestPidfileTimeoutKill(t *testing.T) {
	t.Parallel()
	dir := newService(t, "sh -c 'sh ./daemon &'\nexit 0")
	writeFile(t, dir, "daemon", "trap '' TERM\nsh -c 'trap \"\" TERM; echo $$ > helper.pid; exec sleep 1000' &\necho $$ > daemon.pid\nwhile :; do sleep 1; done\n", 0o644)
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	writeFile(t, dir, "timeout-kill", "300\n", 0o644)
	g, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool { return s.FromPidfile })
	svtest.WaitFor(t, 5*time.Second, "the helper", func() bool { return len(lines(t, filepath.Join(dir, "helper.pid"))) == 1 })
	helper := readPid(t, filepath.Join(dir, "helper.pid"))
	svtest.OurSvc(t, "-d", dir)
	d := svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && s.State == status.Stopped })
	if d.LastExit != (status.Exit{Code: 256, Signal: 9}) {
		t.Errorf("record after -d: %+v", d)
	}
	if svtest.Alive(s.Pid) || svtest.Alive(helper) {
		t.Errorf("daemon %d or helper %d alive after -d", s.Pid, helper)
	}
	noZombies(t, g.Pid())
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// awaitNoDaemon waits for the warning that ./run's pidfile named no daemon,
// and for ./run to have started twice.
func awaitNoDaemon(t *testing.T, dir, errFile, why string) {
	t.Helper()
	warning := "supervise: warning: no daemon 5 seconds after " + dir + "/run exited 0: " + why + "\n"
	svtest.WaitFor(t, pidfileWait, "the warning", func() bool { return strings.HasPrefix(stderrOf(errFile), warning) })
	svtest.WaitFor(t, 5*time.Second, "a second run", func() bool { return len(lines(t, filepath.Join(dir, "runs"))) >= 2 })
	e := leftBehind(dir).ReplaceAllString(stderrOf(errFile), "")
	if strings.ReplaceAll(e, warning, "") != "" {
		t.Errorf("stderr %q, want lines %q", e, warning)
	}
}

// leftBehind matches the warning of supervise stopping what the run of
// a service with a pidfile left running.
func leftBehind(dir string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^supervise: warning: stopping what ` + regexp.QuoteMeta(dir) + `/run left running before it starts again: pid( \d+)+\n`)
}

// A ./run that forks and exits 0 without writing its pidfile: the service
// is "starting" meanwhile, with no pid; after 5 seconds a warning, and it
// is started again, the throttle kept.
func TestPidfileNotWritten(t *testing.T) {
	t.Parallel()
	dir := newService(t, "date +%s.%N >> runs\nsleep 1000 &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	_, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "waiting for the pidfile", func(s status.Status) bool { return s.State == status.Starting })
	if s.Pid != 0 || s.Exited || s.Want != status.WantUp {
		t.Errorf("record while waiting: %+v", s)
	}
	if got, want := svtest.SvstatLong(t, dir), ", normally up, want up, starting, 0 restarts"; !strings.HasSuffix(got, want) {
		t.Errorf("svstat -l: %q, want it to end in %q", got, want)
	}
	awaitNoDaemon(t, dir, errFile, "unable to open "+dir+"/daemon.pid: file does not exist")
	runs := lines(t, filepath.Join(dir, "runs"))
	first, _ := strconv.ParseFloat(runs[0], 64)
	second, _ := strconv.ParseFloat(runs[1], 64)
	if second-first < 5 {
		t.Errorf("second run %.3f seconds after the first", second-first)
	}
	s = svtest.WaitStatus(t, dir, "waiting again", func(s status.Status) bool { return s.State == status.Starting && s.Restarts == 1 })
	if !s.Exited || s.LastExit != (status.Exit{}) {
		t.Errorf("record while waiting again: %+v", s)
	}
}

// A stale pidfile that names an unrelated live process: that process is
// never signalled, whatever svc is told, and the service is started again.
func TestPidfileStale(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	got := filepath.Join(root, "got")
	trapAll := "for s in HUP ALRM INT TERM QUIT USR1 USR2 WINCH CONT; do trap \"echo $s >> " + got + "\" $s; done\n" +
		"while :; do sleep 1; done"
	unrelated := svtest.Start(t, exec.Command("sh", "-c", trapAll))
	dir := newService(t, "echo $$ >> runs\nexit 0")
	writeFile(t, dir, "pid", strconv.Itoa(unrelated.Pid())+"\n", 0o644)
	writeFile(t, dir, "pidfile", "pid\n", 0o644)
	writeFile(t, dir, "timeout-kill", "100\n", 0o644)
	g, errFile := svtest.StartSupervise(t, dir)
	svtest.WaitStatus(t, dir, "waiting for the pidfile", func(s status.Status) bool { return s.State == status.Starting })
	untouched := func(after string) {
		t.Helper()
		st, err := svtest.ReadStat(unrelated.Pid())
		if err != nil || st.State == 'T' || st.State == 'Z' || len(lines(t, got)) != 0 {
			t.Fatalf("after %s: the unrelated process is %+v, %v, got %q", after, st, err, lines(t, got))
		}
	}
	for _, letter := range []string{"-p", "-c", "-h", "-a", "-i", "-t", "-k", "-q", "-1", "-2", "-w", "-o", "-u", "-d", "-u"} {
		svtest.OurSvc(t, letter, dir)
		untouched(letter)
	}
	awaitNoDaemon(t, dir, errFile, dir+"/pid names pid "+strconv.Itoa(unrelated.Pid())+", which is not a descendant of "+dir+"/run")
	untouched("the warning")
	svtest.OurSvc(t, "-dx", dir)
	g.Wait(t, 10*time.Second)
	untouched("svc -dx")
}

// A pidfile that names a zombie descendant of ./run: not a daemon.
func TestPidfileZombie(t *testing.T) {
	t.Parallel()
	// The subshell forks a child and becomes a sleep, which never reaps
	// it; the child exits only once its parent is that sleep (a child
	// that died sooner could be reaped by the shell before its exec), and
	// ./run names it once it is a zombie.
	dir := newService(t, `echo $$ >> runs
rm -f z
(sh -c 'until [ "$(cat /proc/$PPID/comm)" = sleep ]; do :; done' & echo $! > z; exec sleep 1000) &
until [ -s z ] && [ "$(cut -d' ' -f3 /proc/$(cat z)/stat)" = Z ]; do :; done
mv z pid
exit 0`)
	writeFile(t, dir, "pidfile", "pid\n", 0o644)
	_, errFile := svtest.StartSupervise(t, dir)
	svtest.WaitFor(t, 5*time.Second, "the pidfile", func() bool { return len(lines(t, filepath.Join(dir, "pid"))) == 1 })
	zombie := readPid(t, filepath.Join(dir, "pid"))
	awaitNoDaemon(t, dir, errFile, dir+"/pid names pid "+strconv.Itoa(zombie)+", which is a zombie")
}

// Debian's dnsmasq (package dnsmasq-base) forks by default, twice, and
// writes a pidfile: supervised up, restarted after kill -9, stopped
// cleanly. DNS off (--port=0), so it needs no port.
func TestPidfileDnsmasq(t *testing.T) {
	t.Parallel()
	const dnsmasq = "/usr/sbin/dnsmasq"
	if _, err := os.Stat(dnsmasq); err != nil {
		t.Fatalf("%v: package/test installs dnsmasq-base", err)
	}
	dir := newService(t, "exec "+dnsmasq+" --port=0 --pid-file=$PWD/dnsmasq.pid --user=root --conf-file=/dev/null --log-facility=$PWD/log")
	writeFile(t, dir, "pidfile", "dnsmasq.pid\n", 0o644)
	g, errFile := svtest.StartSupervise(t, dir)
	// dnsmasq leaves the session: kill what is left of it by pid.
	var seen []int
	t.Cleanup(func() {
		for _, pid := range seen {
			if svtest.Alive(pid) {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	})
	up := func(restarts uint32) int {
		t.Helper()
		s := svtest.WaitStatus(t, dir, "dnsmasq up", func(s status.Status) bool { return s.FromPidfile && s.Restarts == restarts })
		seen = append(seen, s.Pid)
		if s.Pid != readPid(t, filepath.Join(dir, "dnsmasq.pid")) {
			t.Errorf("pid %d, pidfile %q", s.Pid, lines(t, filepath.Join(dir, "dnsmasq.pid")))
		}
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/cmdline")
		if !strings.HasPrefix(string(cmd), dnsmasq+"\x00") {
			t.Errorf("pid %d runs %q", s.Pid, cmd)
		}
		return s.Pid
	}
	first := up(0)
	noZombies(t, g.Pid())
	testbin.Must(t, unix.Kill(first, unix.SIGKILL))
	second := up(1)
	if second == first {
		t.Errorf("the same pid %d after kill -9", first)
	}
	svtest.OurSvc(t, "-d", dir)
	s := svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && s.State == status.Stopped })
	if s.LastExit != (status.Exit{}) || s.Want != status.WantDown {
		t.Errorf("record after -d: %+v", s)
	}
	if svtest.Alive(second) {
		t.Errorf("dnsmasq %d alive after -d", second)
	}
	noZombies(t, g.Pid())
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// A daemon told to write its pid into the pidfile file itself overwrites
// the path there: supervise says what happened, once, and takes the pid
// from that file, well within its wait, rather than waiting 5 s for a
// file that will never come and starting a second daemon.
func TestPidfileOverwrittenByThePid(t *testing.T) {
	t.Parallel()
	dir := newService(t, "sh -c 'echo $$ > pidfile; exec sleep 1000' </dev/null &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	_, errFile := svtest.StartSupervise(t, dir)
	s, daemon := daemonNamedIn(t, dir, "pidfile")
	if !s.FromPidfile || s.Restarts != 0 {
		t.Errorf("record: %+v", s)
	}
	want := "supervise: warning: " + dir + "/pidfile holds " + strconv.Itoa(daemon) + ", a pid, not the path of the daemon's pid file: " +
		"the daemon wrote its pid into it; reading the pid from there (write a path such as daemon.pid into " + dir + "/pidfile and give the daemon that path)\n"
	if got := stderrOf(errFile); got != want {
		t.Errorf("stderr:\n%q\nwant\n%q", got, want)
	}
	if !svtest.Holds(svtest.Scaled(200*time.Millisecond), func() bool {
		st, _ := svtest.ReadStatus(t, dir)
		return st.Pid == daemon
	}) {
		t.Error("the daemon was not kept")
	}
}

// What a failed start of a service with a pidfile leaves running is
// stopped before the next start, with a warning, rather than piling up:
// a ./run that forks a sleep and exits 1, and one that forks a sleep and
// exits 0 but never writes the pidfile.
func TestPidfileLeftoversStoppedBeforeRetry(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, run, why string }{
		{"exit 1", "exit 1", ""},
		{"no pidfile written", "exit 0", "no daemon 5 seconds after DIR/run exited 0: unable to open DIR/daemon.pid: file does not exist\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := newService(t, "sleep 1000 &\necho $! >> sleeps\n"+c.run)
			writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
			_, errFile := svtest.StartSupervise(t, dir)
			var sleeps []string
			svtest.WaitFor(t, 3*pidfileWait, "a third start", func() bool {
				sleeps = lines(t, filepath.Join(dir, "sleeps"))
				return len(sleeps) >= 3
			})
			for _, p := range sleeps[:2] {
				pid, _ := strconv.Atoi(p)
				if svtest.Alive(pid) {
					t.Errorf("the sleep of an earlier start, %d, still runs", pid)
				}
			}
			why := strings.ReplaceAll(c.why, "DIR", dir)
			if why != "" {
				why = "supervise: warning: " + why
			}
			want := why + "supervise: warning: stopping what " + dir + "/run left running before it starts again: pid " + sleeps[0] + "\n" +
				why + "supervise: warning: stopping what " + dir + "/run left running before it starts again: pid " + sleeps[1] + "\n"
			if got := stderrOf(errFile); !strings.HasPrefix(got, want) {
				t.Errorf("stderr:\n%s\nwant it to begin with\n%s", got, want)
			}
		})
	}
}

// A supervise killed with -9 while it waits for a pidfile: the next one
// takes the wait over (the record says ./run exited 0 and when it
// started) and supervises the daemon that ./run forked, rather than
// starting ./run again, and a second daemon beside the first.
func TestPidfileWaitSurvivesKill9(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> runs\nsh -c 'while [ ! -e go ]; do sleep 0.01; done; echo $$ > daemon.pid; exec sleep 1000' </dev/null &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	g, _ := svtest.StartSupervise(t, dir)
	waiting := func(s status.Status) bool {
		return s.AwaitingDaemon && s.State == status.Starting && s.Start != procstart.ID{}
	}
	svtest.WaitStatus(t, dir, "waiting for the pidfile", waiting)
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	_, errFile := svtest.StartSupervise(t, dir)
	running(t, dir)
	svtest.WaitStatus(t, dir, "waiting again", waiting)
	writeFile(t, dir, "go", "", 0o644)
	s, _ := daemonNamedIn(t, dir, "daemon.pid")
	if !s.FromPidfile || s.AwaitingDaemon {
		t.Errorf("record: %+v", s)
	}
	if runs := lines(t, filepath.Join(dir, "runs")); len(runs) != 1 {
		t.Errorf("./run started %d times: %q", len(runs), runs)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// A supervise killed with -9 while ./run of a service with a pidfile
// still runs: the next one adopts ./run and, when it exits (how, it cannot
// know), looks for the daemon it forked before it starts ./run again.
func TestPidfileRunAdoptedAwaitsDaemon(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> runs\nwhile [ ! -e go ]; do sleep 0.01; done\nsh -c 'echo $$ > daemon.pid; exec sleep 1000' </dev/null &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	g, _ := svtest.StartSupervise(t, dir)
	run := svtest.WaitStatus(t, dir, "./run up", isUp)
	// ./run notes its start: the test is of a ./run that runs.
	svtest.WaitFor(t, 5*time.Second, "./run running", func() bool { return len(lines(t, filepath.Join(dir, "runs"))) == 1 })
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	_, errFile := svtest.StartSupervise(t, dir)
	running(t, dir)
	writeFile(t, dir, "go", "", 0o644)
	s, _ := daemonNamedIn(t, dir, "daemon.pid")
	if !s.FromPidfile || s.Pid == run.Pid {
		t.Errorf("record: %+v", s)
	}
	if runs := lines(t, filepath.Join(dir, "runs")); len(runs) != 1 {
		t.Errorf("./run started %d times: %q", len(runs), runs)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// daemonNamedIn waits until the record names, as the service's process,
// the pid that file in the service directory holds, and returns both.
func daemonNamedIn(t *testing.T, dir, file string) (status.Status, int) {
	t.Helper()
	var daemon int
	s := svtest.WaitStatus(t, dir, "the daemon up", func(s status.Status) bool {
		b, _ := os.ReadFile(filepath.Join(dir, file))
		daemon, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return s.Pid != 0 && s.Pid == daemon
	})
	return s, daemon
}

// A supervise killed with -9 after ./run of a service with a pidfile has
// exited, before its record says so (strace holds its record writes back
// from the third on): the record names a ./run that is gone, and the next
// supervise looks for the daemon it forked before it starts ./run again.
func TestPidfileRunGoneBeforeRecord(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> runs\nsh -c 'while [ ! -e go ]; do sleep 0.01; done; echo $$ > daemon.pid; exec sleep 1000' </dev/null &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	strace, err := exec.LookPath("strace")
	testbin.Must(t, err)
	g := svtest.Start(t, exec.Command(strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2",
		"-e", "inject=renameat2:delay_enter=2000000:when=3+", testbin.Path(t, "supervise"), dir))
	run := svtest.WaitStatus(t, dir, "./run up", isUp)
	svtest.WaitFor(t, 5*time.Second, "./run gone", func() bool { return !svtest.Alive(run.Pid) })
	// Killed before its next record, 2 s on at most: supervise is
	// strace's one child (found there, not among every process, which
	// takes long on a busy machine).
	tracer := strconv.Itoa(g.Pid())
	children, err := os.ReadFile("/proc/" + tracer + "/task/" + tracer + "/children")
	testbin.Must(t, err)
	if f := strings.Fields(string(children)); len(f) != 1 {
		t.Fatalf("strace's children: %q, want supervise alone", children)
	} else {
		pid, _ := strconv.Atoi(f[0])
		testbin.Must(t, unix.Kill(pid, unix.SIGKILL))
	}
	svtest.WaitFor(t, 10*time.Second, "supervise gone", func() bool {
		fd, err := unix.Open(filepath.Join(dir, "supervise/ok"), unix.O_WRONLY|unix.O_NONBLOCK, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err != nil
	})
	// ./run, a zombie of the killed supervise, comes back to this process:
	// reaped, as svscan reaps it, it is gone.
	svtest.WaitFor(t, 5*time.Second, "./run reaped", func() bool {
		g.Reap()
		return !svtest.Exists("/proc/" + strconv.Itoa(run.Pid))
	})
	if s, err := status.ReadAll(filepath.Join(dir, status.File)); err != nil || s.Pid != run.Pid {
		t.Fatalf("the record after the kill: %+v %v, want ./run's pid %d still", s, err, run.Pid)
	}
	_, errFile := svtest.StartSupervise(t, dir)
	running(t, dir)
	writeFile(t, dir, "go", "", 0o644)
	if s, _ := daemonNamedIn(t, dir, "daemon.pid"); !s.FromPidfile {
		t.Errorf("record: %+v", s)
	}
	if runs := lines(t, filepath.Join(dir, "runs")); len(runs) != 1 {
		t.Errorf("./run started %d times: %q", len(runs), runs)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}

// svc -d during a wait for the daemon taken over after kill -9 of
// supervise: what ./run left came back to another process, so the wait
// goes on, and the daemon, once named, is stopped rather than left
// running unsupervised (and beside the next ./run's).
func TestPidfileTakenOverWaitStopped(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> runs\nsh -c 'while [ ! -e go ]; do sleep 0.01; done; echo $$ > daemon.pid; exec sleep 1000' </dev/null &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	g, _ := svtest.StartSupervise(t, dir)
	waiting := func(s status.Status) bool { return s.AwaitingDaemon }
	svtest.WaitStatus(t, dir, "waiting for the pidfile", waiting)
	testbin.Must(t, g.Cmd.Process.Kill())
	g.Wait(t, 5*time.Second)
	svtest.StartSupervise(t, dir)
	running(t, dir)
	svtest.WaitStatus(t, dir, "waiting again", waiting)
	svtest.OurSvc(t, "-d", dir)
	writeFile(t, dir, "go", "", 0o644)
	svtest.WaitFor(t, 5*time.Second, "the daemon's pid", func() bool { return len(lines(t, filepath.Join(dir, "daemon.pid"))) == 1 })
	daemon := readPid(t, filepath.Join(dir, "daemon.pid"))
	s := svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && !s.AwaitingDaemon && s.Exited })
	if svtest.Alive(daemon) || s.Want != status.WantDown {
		t.Errorf("daemon %d alive %v; record %+v", daemon, svtest.Alive(daemon), s)
	}
	if runs := lines(t, filepath.Join(dir, "runs")); len(runs) != 1 {
		t.Errorf("./run started %d times: %q", len(runs), runs)
	}
}

// A forking daemon is probed once its pidfile names it, not while it is
// awaited; its probes failing stop it and start ./run again.
func TestPidfileProbed(t *testing.T) {
	t.Parallel()
	dir := newService(t, "sh -c 'echo $$ > daemon.pid; exec sleep 1000' &\nexit 0")
	writeFile(t, dir, "pidfile", "daemon.pid\n", 0o644)
	writeFile(t, dir, "health", "#!/bin/sh\n[ ! -e sick ]\n", 0o755)
	writeFile(t, dir, "health-interval", "50\n", 0o644)
	writeFile(t, dir, "health-grace", "0\n", 0o644)
	svtest.StartSupervise(t, dir)
	first := svtest.WaitStatus(t, dir, "the daemon healthy", func(s status.Status) bool {
		return s.FromPidfile && s.Health == status.HealthHealthy
	})
	writeFile(t, dir, "sick", "", 0o644)
	after := svtest.WaitStatus(t, dir, "a new daemon", func(s status.Status) bool { return s.FromPidfile && s.Pid != first.Pid })
	if !after.LastExit.Unhealthy || after.LastExit.Probe != "exit 1" {
		t.Errorf("after: %+v", after)
	}
}
