package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/sdnotify"
	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// notifyHelperEnv, set, makes the test binary a service speaking sd_notify
// (notifyHelper) instead of running tests.
const notifyHelperEnv = "SUPERVISE_TEST_NOTIFY_HELPER"

// notifyStepsEnv holds the helper's steps, blank-separated, when it has
// no arguments (run as ./run itself).
const notifyStepsEnv = "SUPERVISE_TEST_NOTIFY_STEPS"

// notifyHelper is a daemon that speaks sd_notify to $NOTIFY_SOCKET, as
// its arguments say in turn: "sleep:MS", "await:FILE" (until FILE exists:
// the test says when, so no check depends on how busy the machine is),
// "watchdog:MS:N" (WATCHDOG=1 N
// times, MS apart), "big" (a 64 KB datagram), "mainpid" (MAINPID= its own
// pid), "pidfile:FILE" (its pid into FILE, whole at once), "env:FILE" (its
// environment into FILE, a line each, whole at once), "hang" (sleep for
// ever), or a datagram to send, with "|" for newlines.
func notifyHelper(steps []string) {
	if len(steps) == 0 {
		steps = strings.Fields(os.Getenv(notifyStepsEnv))
	}
	socket := os.Getenv("NOTIFY_SOCKET")
	for _, step := range steps {
		kind, arg, _ := strings.Cut(step, ":")
		switch kind {
		case "sleep":
			ms, _ := strconv.Atoi(arg)
			time.Sleep(time.Duration(ms) * time.Millisecond)
		case "await":
			for _, err := os.Stat(arg); err != nil; _, err = os.Stat(arg) {
				time.Sleep(5 * time.Millisecond)
			}
		case "watchdog":
			a, b, _ := strings.Cut(arg, ":")
			ms, _ := strconv.Atoi(a)
			n, _ := strconv.Atoi(b)
			for range n {
				sdnotify.Send(socket, "WATCHDOG=1")
				time.Sleep(time.Duration(ms) * time.Millisecond)
			}
		case "big":
			sdnotify.Send(socket, strings.Repeat("STATUS=x\n", 65536/9))
		case "mainpid":
			sdnotify.Send(socket, "MAINPID="+strconv.Itoa(os.Getpid()))
		case "pidfile":
			os.WriteFile(arg+".new", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
			os.Rename(arg+".new", arg)
		case "env":
			os.WriteFile(arg+".new", []byte(strings.Join(os.Environ(), "\n")+"\n"), 0o644)
			os.Rename(arg+".new", arg)
		case "hang":
			for {
				time.Sleep(time.Hour)
			}
		default:
			if err := sdnotify.Send(socket, strings.ReplaceAll(step, "|", "\n")); err != nil {
				os.Stderr.WriteString("helper: " + err.Error() + "\n")
				os.Exit(1)
			}
		}
	}
}

// notifyService makes a service directory (at path dir, made here) whose
// run execs the helper with steps, with a notify-socket file.
func notifyService(t *testing.T, dir string, steps ...string) {
	t.Helper()
	svtest.NewService(t, dir, "echo $$ >> starts\nenv > env\nexec "+helperCommand(t, steps...))
	writeFile(t, dir, "notify-socket", "", 0o644)
}

// helperCommand is a shell command that runs the helper with steps.
func helperCommand(t *testing.T, steps ...string) string {
	t.Helper()
	self, err := os.Executable()
	testbin.Must(t, err)
	quoted := ""
	for _, s := range append([]string{self}, steps...) {
		quoted += " '" + s + "'"
	}
	return "env " + notifyHelperEnv + "=1" + quoted
}

func notReady(s status.Status) bool { return s.Ready == (tai64.Label{}) }

// notification-fd: ./run gets a pipe's write end at the descriptor named
// there (./finish gets nothing there); the service is "starting" until it
// writes a newline, then ready; readiness is cleared at every exit.
func TestNotificationFd(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nwhile [ ! -e go ]; do sleep 0.01; done\nprintf 'ready\\n' >&7\nexec sleep 100")
	writeFile(t, dir, "notification-fd", "7\n", 0o644)
	writeFile(t, dir, "finish", "#!/bin/sh\nif { true >&7; } 2>/dev/null; then echo open; else echo closed; fi >> finished\n", 0o755)
	_, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "run up", isUp)
	if !s.Readiness || !notReady(s) || s.State != status.Starting {
		t.Errorf("before the newline: %+v", s)
	}
	waiting := exec.Command(testbin.Path(t, "svwait"), "-U", dir)
	testbin.Must(t, waiting.Start())
	writeFile(t, dir, "go", "", 0o644)
	s = svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return !notReady(s) })
	if s.State != status.Running || s.Pid == 0 || !s.Readiness {
		t.Errorf("after the newline: %+v", s)
	}
	testbin.Must(t, waiting.Wait())
	if now := svtest.SvstatLong(t, dir); !strings.Contains(now, ", ready ") {
		t.Errorf("svstat -l: %q", now)
	}
	testbin.Must(t, os.Remove(filepath.Join(dir, "go")))
	testbin.Must(t, unix.Kill(s.Pid, unix.SIGKILL))
	s = svtest.WaitStatus(t, dir, "second run up", func(s status.Status) bool { return s.Pid != 0 && s.Restarts == 1 })
	if !notReady(s) || s.State != status.Starting {
		t.Errorf("after a restart: %+v", s)
	}
	if got := lines(t, filepath.Join(dir, "finished")); len(got) != 1 || got[0] != "closed" {
		t.Errorf("./finish saw descriptor 7: %v", got)
	}
	writeFile(t, dir, "go", "", 0o644)
	svtest.WaitStatus(t, dir, "ready again", func(s status.Status) bool { return !notReady(s) })
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr: %q", e)
	}
}

// A notification-fd that is not a descriptor ./run can get is reported
// once a start, and the service runs without readiness.
func TestNotificationFdBad(t *testing.T) {
	t.Parallel()
	for content, why := range map[string]string{
		"abc\n": `"abc" is not a descriptor number`,
		"1":     "descriptor 1 is already ./run's standard output",
		"2\n":   "descriptor 2 is already ./run's standard error",
	} {
		dir := newService(t, "echo $$ >> starts\nexec sleep 100")
		writeFile(t, dir, "notification-fd", content, 0o644)
		_, errFile := svtest.StartSupervise(t, dir)
		s := svtest.WaitStatus(t, dir, "run up", isUp)
		if s.Readiness || s.State != status.Running {
			t.Errorf("%q: %+v", content, s)
		}
		want := "supervise: warning: " + dir + "/notification-fd: " + why + ": ignored\n"
		if got := stderrOf(errFile); got != want {
			t.Errorf("%q: stderr %q, want %q", content, got, want)
		}
	}
}

// notify-socket: ./run gets NOTIFY_SOCKET (./finish does not) even when
// the service's path is longer than a socket path may be; STATUS= shows
// in svstat -l and -j, READY=1 makes it ready, RELOADING=1 unready; the
// socket is gone once supervise has exited.
func TestNotifySocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-directory-name-", 8), "svc")
	notifyService(t, dir, "STATUS=starting up", "await:ready", "READY=1|STATUS=serving", "await:reload", "RELOADING=1", "hang")
	writeFile(t, dir, "finish", "#!/bin/sh\nenv | grep -c NOTIFY_SOCKET >> finished\n", 0o755)
	g, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "status text", func(s status.Status) bool { return s.Text == "starting up" })
	if !s.Readiness || !notReady(s) || s.State != status.Starting {
		t.Errorf("before READY=1: %+v", s)
	}
	writeFile(t, dir, "ready", "", 0o644)
	s = svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return !notReady(s) })
	if s.Text != "serving" || s.State != status.Running {
		t.Errorf("after READY=1: %+v", s)
	}
	if l := svtest.SvstatLong(t, dir); !strings.Contains(l, ", status: serving") {
		t.Errorf("svstat -l: %q", l)
	}
	out, err := exec.Command(testbin.Path(t, "svstat"), "-j", dir).Output()
	testbin.Must(t, err)
	if j := string(out); !strings.Contains(j, `"ready":true`) || !strings.Contains(j, `"status_text":"serving"`) {
		t.Errorf("svstat -j: %s", j)
	}
	writeFile(t, dir, "reload", "", 0o644)
	svtest.WaitStatus(t, dir, "reloading", notReady)
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	testbin.Must(t, err)
	var socket string
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "NOTIFY_SOCKET="); ok {
			socket = v
		}
	}
	if !strings.HasPrefix(socket, "@") {
		t.Fatalf("NOTIFY_SOCKET=%q", socket)
	}
	svtest.OurSvc(t, "-dx", dir)
	g.Wait(t, 5*time.Second)
	if got := lines(t, filepath.Join(dir, "finished")); len(got) != 1 || got[0] != "0" {
		t.Errorf("./finish got NOTIFY_SOCKET: %v", got)
	}
	if err := sdnotify.Ready(socket); err == nil {
		t.Errorf("%s still reachable after supervise exited", socket)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr: %q", e)
	}
}

// Bad datagrams: from a process that is not ./run's (a flood of 100,000
// of them), 64 KB long, with malformed lines. Each kind is reported at
// most once a second, the good lines are obeyed, supervision goes on and
// supervise's memory stays bounded.
func TestNotifySocketBadInput(t *testing.T) {
	t.Parallel()
	dir := newService(t, "")
	notifyService(t, dir, "big", "bad line|STATUS=fine|READY=yes", "sleep:100", "READY=1", "hang")
	g, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return !notReady(s) })
	if s.Text != "fine" {
		t.Errorf("the good line was not obeyed: %+v", s)
	}
	socket := ""
	svtest.WaitFor(t, 5*time.Second, "NOTIFY_SOCKET in env", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "env"))
		_, rest, ok := strings.Cut(string(b), "NOTIFY_SOCKET=")
		socket, _, _ = strings.Cut(rest, "\n")
		return ok
	})
	rss := func() int {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(g.Pid()) + "/status")
		_, v, _ := strings.Cut(string(b), "VmRSS:")
		kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.SplitN(v, "\n", 2)[0]), "kB")))
		return kb
	}
	before := rss()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	testbin.Must(t, err)
	defer unix.Close(fd)
	testbin.Must(t, unix.Connect(fd, &unix.SockaddrUnix{Name: socket}))
	// Warnings written after this are the flood's.
	early, floodBegin := stderrOf(errFile), time.Now()
	for range 100000 {
		testbin.Must(t, ignoreAgain(unix.Write(fd, []byte("RELOADING=1|STATUS=intruder"))))
	}
	// Supervision goes on: a restart is made and recorded.
	svtest.OurSvc(t, "-k", dir)
	s = svtest.WaitStatus(t, dir, "restart", func(s status.Status) bool { return s.Restarts == 1 && s.Pid != 0 })
	if s.Text == "STATUS=intruder" {
		t.Errorf("the stranger was obeyed: %+v", s)
	}
	// Bounded, not proportional: kept, the 100,000 datagrams would be
	// 2.7 MB of text and far more in records; the heap may grow a few MB
	// before the collector runs.
	if after := rss(); after > before+16384 {
		t.Errorf("supervise grew from %d kB to %d kB in the flood", before, after)
	}
	e := stderrOf(errFile)
	prefix := "supervise: warning: " + dir + "/notify-socket: "
	for _, want := range []string{
		prefix + "datagram of 65529 bytes from pid ",
		prefix + "datagram from pid ",
		`: not an assignment: "bad line": line ignored`,
		", not a process of ./run: ignored",
	} {
		if !strings.Contains(e, want) {
			t.Errorf("stderr lacks %q:\n%s", want, e)
		}
	}
	warningsWithinRate(t, strings.TrimPrefix(e, early), time.Since(floodBegin))
}

// warningsWithinRate checks supervise's rule for notify-socket warnings:
// at most one of each kind a second. Warnings of one kind are then at
// least a second apart, so in elapsed (a span holding them all, measured
// by the test: a loaded machine makes it longer, not the rule looser)
// there are at most 1+elapsed/1s of each kind. stderr is the warnings.
func warningsWithinRate(t *testing.T, stderr string, elapsed time.Duration) {
	t.Helper()
	kinds := []string{
		" while ./run is not running: ignored",
		", not a process of ./run: ignored",
		" bytes from pid ",
		": line ignored",
	}
	count := map[string]int{}
	for line := range strings.Lines(stderr) {
		kind := ""
		for _, k := range kinds {
			if strings.Contains(line, k) {
				kind = k
				break
			}
		}
		if kind == "" {
			t.Errorf("not a notify-socket warning: %q", line)
		}
		count[kind]++
	}
	limit := 1 + int(elapsed/time.Second)
	for kind, n := range count {
		if n > limit {
			t.Errorf("%d warnings %q in %v, at most one a second:\n%s", n, kind, elapsed.Round(time.Millisecond), stderr)
		}
	}
}

// ignoreAgain drops EAGAIN: a full socket queue drops the datagram, as a
// flood should.
func ignoreAgain(_ int, err error) error {
	if err == unix.EAGAIN {
		return nil
	}
	return err
}

// timeout-watchdog: ./run gets WATCHDOG_USEC; once ready it must say
// WATCHDOG=1 within every timeout, else it is stopped with its down
// signal, started again, and svstat -l says why.
func TestWatchdog(t *testing.T) {
	t.Parallel()
	dir := newService(t, "")
	notifyService(t, dir, "READY=1", "watchdog:50:6", "hang")
	writeFile(t, dir, "timeout-watchdog", "400\n", 0o644)
	_, errFile := svtest.StartSupervise(t, dir)
	s := svtest.WaitStatus(t, dir, "restarted by the watchdog", func(s status.Status) bool { return s.Restarts >= 1 })
	if !s.Exited || !s.LastExit.Watchdog || s.LastExit.Code != 256 || s.LastExit.Signal != int(unix.SIGTERM) {
		t.Errorf("after the watchdog: %+v", s)
	}
	if l := svtest.SvstatLong(t, dir); !strings.Contains(l, "last killed by SIGTERM after the watchdog's timeout") {
		t.Errorf("svstat -l: %q", l)
	}
	// The file is written anew at each start: wait for a whole one.
	svtest.WaitFor(t, 5*time.Second, "WATCHDOG_USEC=400000 in ./run's environment", func() bool {
		env, _ := os.ReadFile(filepath.Join(dir, "env"))
		return strings.Contains(string(env), "\nWATCHDOG_USEC=400000\n")
	})
	if e := stderrOf(errFile); !strings.HasPrefix(e, "supervise: warning: "+dir+"/run said no WATCHDOG=1 for 400 ms: stopping it\n") {
		t.Errorf("stderr: %q", e)
	}
}

// examples/notification-fd, as shipped, becomes ready under supervise
// and svwait -U sees it.
func TestNotificationFdExample(t *testing.T) {
	t.Parallel()
	root, err := testbin.Root()
	testbin.Must(t, err)
	dir := filepath.Join(t.TempDir(), "svc")
	testbin.Must(t, os.CopyFS(dir, os.DirFS(filepath.Join(root, "examples/notification-fd"))))
	testbin.Must(t, os.Chmod(filepath.Join(dir, "run"), 0o755))
	_, errFile := svtest.StartSupervise(t, dir)
	svtest.WaitStatus(t, dir, "run up", isUp)
	wait := exec.Command(testbin.Path(t, "svwait"), "-U", dir)
	if got := testbin.RunWithin(t, wait, svtest.Scaled(10*time.Second)); got != (testbin.Result{}) {
		t.Errorf("svwait -U: %+v", got)
	}
	if s := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return !notReady(s) }); s.State != status.Running {
		t.Errorf("%+v", s)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr: %q", e)
	}
}

// With timeout-watchdog, ./run gets WATCHDOG_PID, its own pid, as systemd
// sets it; its environment is otherwise supervise's, plus NOTIFY_SOCKET and
// WATCHDOG_USEC: the shell that learns the pid adds nothing, and leaves
// PWD as it was, or absent. An environment the shell would not pass on
// as it is (a name that is no shell variable's, as containers have, or
// IFS, OPTIND, PPID, which it sets) reaches ./run whole, without
// WATCHDOG_PID. ./run is the helper itself, not a shell script, which
// would set PWD on its own.
func TestWatchdogPid(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	testbin.Must(t, err)
	for _, c := range []struct {
		name  string
		extra []string // added to supervise's environment
		pid   bool     // ./run gets WATCHDOG_PID
	}{
		{"no PWD", nil, true},
		{"PWD", []string{"PWD=/nowhere"}, true},
		{"not a shell name", []string{"spring.profiles.active=prod"}, false},
		{"IFS", []string{"IFS=:"}, false},
		{"OPTIND", []string{"OPTIND=x"}, false},
		{"PPID", []string{"PPID=1"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "svc")
			testbin.Must(t, os.MkdirAll(dir, 0o755))
			testbin.Must(t, os.Symlink(self, filepath.Join(dir, "run")))
			writeFile(t, dir, "notify-socket", "", 0o644)
			writeFile(t, dir, "timeout-watchdog", "60000\n", 0o644)
			errFile := filepath.Join(t.TempDir(), "stderr")
			f, err := os.Create(errFile)
			testbin.Must(t, err)
			defer f.Close()
			cmd := exec.Command(testbin.Path(t, "supervise"), dir)
			cmd.Stderr = f
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PWD=") }),
				notifyHelperEnv+"=1", notifyStepsEnv+"=env:env READY=1 hang")
			cmd.Env = append(cmd.Env, c.extra...)
			g := svtest.Start(t, cmd)
			s := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return s.Pid != 0 && !notReady(s) })
			supervise, err := os.ReadFile("/proc/" + strconv.Itoa(g.Pid()) + "/environ")
			testbin.Must(t, err)
			want := []string{"WATCHDOG_USEC=60000000"}
			if c.pid {
				want = append(want, "WATCHDOG_PID="+strconv.Itoa(s.Pid))
			}
			for _, kv := range strings.Split(strings.TrimSuffix(string(supervise), "\x00"), "\x00") {
				if kv != "GOMAXPROCS=1" && kv != "SUPERVISE_GOMAXPROCS=added" {
					want = append(want, kv)
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "env"))
			testbin.Must(t, err)
			env := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			got := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "NOTIFY_SOCKET=@") })
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) || len(env) != len(got)+1 {
				t.Errorf("./run's environment\n%q, want\n%q and NOTIFY_SOCKET", env, want)
			}
			if e := stderrOf(errFile); e != "" {
				t.Errorf("stderr %q", e)
			}
		})
	}
}

// With timeout-watchdog, a ./run the kernel cannot execute fails to start
// as it does without one, in supervise's words: the shell that learns
// WATCHDOG_PID would run a file without #! as a script of its own, and
// report a missing interpreter as ./run's exit 127 in words of its own.
func TestWatchdogRunNotExecutable(t *testing.T) {
	missing := testbin.Missing(t)
	t.Parallel()
	for _, c := range []struct{ name, run, why string }{
		{"no #!", "touch ran\nexec sleep 100\n", "exec format error"},
		{"no interpreter", "#!" + missing + "/sh\ntouch ran\nexec sleep 100\n", "file does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "svc")
			testbin.Must(t, os.MkdirAll(dir, 0o755))
			writeFile(t, dir, "run", c.run, 0o755)
			writeFile(t, dir, "notify-socket", "", 0o644)
			writeFile(t, dir, "timeout-watchdog", "60000\n", 0o644)
			_, errFile := svtest.StartSupervise(t, dir)
			want := "supervise: fatal: unable to start " + dir + "/run: " + c.why + "\n"
			svtest.WaitForNil(t, 10*time.Second, "a line on stderr", func() error {
				if e := stderrOf(errFile); !strings.Contains(e, "\n") {
					return fmt.Errorf("stderr %q", e)
				}
				return nil
			})
			if e := stderrOf(errFile); !strings.HasPrefix(e, want) {
				t.Errorf("stderr %q, want it to start with %q", e, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
				t.Errorf("./run ran")
			}
		})
	}
}

// Debian's rsyslogd (package rsyslog, installed by package/test, built
// with libsystemd) tells its readiness with sd_notify's READY=1, as it
// does for systemd's Type=notify; no systemd runs here. svwait -U sees
// it ready, and svc -d stops it cleanly. Its own configuration: no system
// log socket, nothing written outside the service directory.
func TestNotifySocketRsyslogd(t *testing.T) {
	t.Parallel()
	const rsyslogd = "/usr/sbin/rsyslogd"
	if _, err := os.Stat(rsyslogd); err != nil {
		t.Fatalf("%v: package/test installs rsyslog", err)
	}
	dir := newService(t, "exec "+rsyslogd+" -n -f ./rsyslog.conf -i ./rsyslogd.pid")
	writeFile(t, dir, "rsyslog.conf", "global(workDirectory=\""+dir+"\")\n*.* action(type=\"omfile\" file=\""+dir+"/messages\")\n", 0o644)
	writeFile(t, dir, "notify-socket", "", 0o644)
	_, errFile := svtest.StartSupervise(t, dir)
	svtest.WaitStatus(t, dir, "rsyslogd up", isUp)
	wait := exec.Command(testbin.Path(t, "svwait"), "-U", "-t", "10000", dir)
	if got := testbin.RunWithin(t, wait, svtest.Scaled(20*time.Second)); got != (testbin.Result{}) {
		t.Fatalf("svwait -U: %+v", got)
	}
	s := svtest.WaitStatus(t, dir, "ready", func(s status.Status) bool { return !notReady(s) })
	if cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/cmdline"); !strings.HasPrefix(string(cmd), rsyslogd+"\x00") {
		t.Errorf("pid %d runs %q", s.Pid, cmd)
	}
	if s.State != status.Running {
		t.Errorf("ready, but %+v", s)
	}
	svtest.OurSvc(t, "-d", dir)
	s = svtest.WaitStatus(t, dir, "down", func(s status.Status) bool { return s.Pid == 0 && s.State == status.Stopped })
	if s.LastExit != (status.Exit{}) || !notReady(s) {
		t.Errorf("record after -d: %+v", s)
	}
	if e := stderrOf(errFile); e != "" {
		t.Errorf("stderr %q", e)
	}
}
