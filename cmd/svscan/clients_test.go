package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/eventfifo"
	"daemontools/internal/sdnotify"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// mode is one of the two ways svscan supervises: a supervise process
// for each service, or every supervisor inside svscan (-1). The tests
// that range over modes hold both to the same expectations.
type mode struct {
	name  string
	flags []string
}

var modes = []mode{{"per-process", nil}, {"one-process", []string{"-1"}}}

// start runs svscan in this mode on dir, with env added to its environment.
func (m mode) start(t testing.TB, dir string, env ...string) *scanner {
	t.Helper()
	return startScanner(t, append(slices.Clone(m.flags), dir), env...)
}

// svwaitRun runs our svwait with args to its end; it must say nothing.
func svwaitRun(t *testing.T, args ...string) int {
	t.Helper()
	r := testbin.RunWithin(t, exec.Command(testbin.Path(t, "svwait"), args...), svtest.Scaled(testbin.Hang))
	if r.Stdout != "" || r.Stderr != "" {
		t.Errorf("svwait %q: stdout %q, stderr %q", args, r.Stdout, r.Stderr)
	}
	return r.Code
}

// svwaitBackground starts our svwait with args; its result comes on the
// channel.
func svwaitBackground(t *testing.T, args ...string) <-chan testbin.Result {
	t.Helper()
	done := make(chan testbin.Result, 1)
	cmd := exec.Command(testbin.Path(t, "svwait"), args...)
	go func() { done <- testbin.RunWithin(t, cmd, svtest.Scaled(20*time.Second)) }()
	return done
}

// awaitResult waits for a background svwait and fails the test unless it
// exited 0 without a word.
func awaitResult(t *testing.T, what string, done <-chan testbin.Result) {
	t.Helper()
	if got := <-done; got != (testbin.Result{}) {
		t.Errorf("%s: %+v", what, got)
	}
}

// readyHelperEnv, set, makes the test binary readyHelper instead of
// running tests.
const readyHelperEnv = "SVSCAN_TEST_READY_HELPER"

// mainpidHelperEnv names a file holding a pid that readyHelper names
// with MAINPID= in its datagram.
const mainpidHelperEnv = "SVSCAN_TEST_MAINPID_FILE"

// readyHelper says READY=1 on $NOTIFY_SOCKET, with MAINPID= from the file
// $SVSCAN_TEST_MAINPID_FILE if set, and sleeps: a service that execs it is
// ./run itself, alive when its datagram is read (a sender that has exited
// by then, as systemd-notify may have, cannot be told to be one of ./run's
// processes).
func readyHelper() {
	message := "READY=1"
	if file := os.Getenv(mainpidHelperEnv); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ready helper:", err)
			os.Exit(111)
		}
		message = "MAINPID=" + strings.TrimSpace(string(b)) + "\n" + message
	}
	if err := sdnotify.Send(os.Getenv("NOTIFY_SOCKET"), message); err != nil {
		fmt.Fprintln(os.Stderr, "ready helper:", err)
		os.Exit(111)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// readinessServices makes, in dir, "fd", whose run says it is ready on
// notification-fd 4, and "sock", which says READY=1 on its notify socket
// (readyHelper), each once its file "go" exists.
func readinessServices(t *testing.T, dir string) (fd, sock string) {
	t.Helper()
	self, err := os.Executable()
	testbin.Must(t, err)
	fd, sock = filepath.Join(dir, "fd"), filepath.Join(dir, "sock")
	const wait = "while [ ! -e go ]; do sleep 0.05; done\n"
	makeService(t, fd, wait+"echo >&4\nexec sleep 1000", "")
	writeFile(t, filepath.Join(fd, "notification-fd"), "4\n", 0o644)
	makeService(t, sock, wait+readyHelperEnv+"=1 exec '"+self+"'", "")
	writeFile(t, filepath.Join(sock, "notify-socket"), "", 0o644)
	return fd, sock
}

var svinfoWhen = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+\n$`)

// svtools' svinfo and our svwait see the services of svscan -1 as those
// of plain svscan: the same answers, exit codes and waits, readiness by
// notification-fd and by notify socket included.
func TestSvinfoAndSvwaitBothModes(t *testing.T) {
	t.Parallel()
	svinfo := "/usr/bin/svinfo"
	if _, err := os.Stat(svinfo); err != nil {
		t.Fatalf("svtools' svinfo is missing (apt-get install svtools): %v", err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, "service")
			a := filepath.Join(dir, "a")
			makeService(t, a, "exec sleep 1000", "exec cat >/dev/null")
			fd, sock := readinessServices(t, dir)
			idle := filepath.Join(dir, "idle")
			makeService(t, idle, "exec sleep 1000", "")
			writeFile(t, filepath.Join(idle, "down"), "", 0o644)
			s := m.start(t, dir)
			pids := waitUp(t, 5*time.Second, a, a+"/log", fd, sock)
			svtest.WaitFor(t, 5*time.Second, "idle supervised", func() bool { return clientCode(t, "/usr/bin/svok", idle) == 0 })

			// svinfo finds the service directory with svdir, and runs
			// svok, svstat and tai64nlocal, all through $PATH: Debian's
			// daemontools, then ours.
			bin := filepath.Join(root, "bin")
			writeFile(t, filepath.Join(bin, "svdir"), "#!/bin/sh\necho "+dir+"\n", 0o755)
			svinfoSays := func(path string, args ...string) testbin.Result {
				t.Helper()
				cmd := exec.Command(svinfo, args...)
				cmd.Env = []string{"PATH=" + bin + ":" + path + ":/usr/bin:/bin"}
				return testbin.RunWithin(t, cmd, svtest.Scaled(testbin.Hang))
			}
			for _, path := range []string{"/usr/bin", testbin.Dir(t)} {
				for _, c := range []struct {
					args []string
					want testbin.Result
				}{
					{[]string{"-p", "a"}, testbin.Result{Stdout: fmt.Sprintln(pids[a])}},
					{[]string{"-l", "-p", "a"}, testbin.Result{Stdout: fmt.Sprintln(pids[a+"/log"])}},
					{[]string{"-s", "a"}, testbin.Result{Stdout: "Service is started\n", Code: 3}},
					{[]string{"-p", "sock"}, testbin.Result{Stdout: fmt.Sprintln(pids[sock])}},
					{[]string{"a"}, testbin.Result{Stdout: fmt.Sprintf("%s: up (pid %d) N seconds\n", a, pids[a])}},
				} {
					got := svinfoSays(path, c.args...)
					got.Stdout = secondsRE.ReplaceAllString(got.Stdout, "N seconds")
					if got != c.want {
						t.Errorf("svinfo %q with %s: %+v, want %+v", c.args, path, got, c.want)
					}
				}
				if got := svinfoSays(path, "-w", "a"); !svinfoWhen.MatchString(got.Stdout) || got.Stderr != "" || got.Code != 0 {
					t.Errorf("svinfo -w a with %s: %+v", path, got)
				}
			}

			// svwait: what holds answers at once, what does not times out.
			for _, c := range []struct {
				args []string
				code int
			}{
				{[]string{"-u", a}, 0},
				{[]string{"-U", a}, 0}, // no readiness: up is ready
				{[]string{"-u", fd, sock}, 0},
				{[]string{"-d", "-t", "100", a}, 99},
				{[]string{"-D", "-t", "100", a}, 99},
				{[]string{"-U", "-t", "300", fd}, 99},
				{[]string{"-U", "-t", "300", sock}, 99},
				{[]string{"-U", "-o", "-t", "300", fd, sock}, 99},
				{[]string{"-U", "-o", a, fd}, 0},
			} {
				if code := svwaitRun(t, c.args...); code != c.code {
					t.Errorf("svwait %q: exit %d, want %d", c.args, code, c.code)
				}
			}
			for _, d := range []string{fd, sock} {
				if got, want := svtest.SvstatLong(t, d), fmt.Sprintf("up (pid %d) N seconds, starting, not ready, 0 restarts", pids[d]); got != want {
					t.Errorf("svstat -l %s: %q, want %q", d, got, want)
				}
			}
			// Each service says it is ready while svwait -U waits.
			for _, d := range []string{fd, sock} {
				waiting := svwaitBackground(t, "-U", d)
				testbin.Must(t, os.WriteFile(filepath.Join(d, "go"), nil, 0o644))
				awaitResult(t, "svwait -U "+d, waiting)
				if got, want := svtest.SvstatLong(t, d), fmt.Sprintf("up (pid %d) N seconds, ready N seconds, 0 restarts", pids[d]); got != want {
					t.Errorf("svstat -l %s once ready: %q, want %q", d, got, want)
				}
			}

			// Debian's svc takes a down, and svwait -d and -D see it.
			waitDown, waitFinished := svwaitBackground(t, "-d", a), svwaitBackground(t, "-D", a)
			svtest.Svc(t, "/usr/bin/svc", "-d", a)
			awaitResult(t, "svwait -d after svc -d", waitDown)
			awaitResult(t, "svwait -D after svc -d", waitFinished)
			if pid := upPid(t, a); pid != 0 {
				t.Errorf("svwait -d returned with a up (pid %d)", pid)
			}
			for _, c := range []struct {
				args []string
				want testbin.Result
			}{
				{[]string{"-p", "a"}, testbin.Result{Stdout: "0\n"}},
				{[]string{"-s", "a"}, testbin.Result{Stdout: "Service is stopped\n", Code: 1}},
			} {
				if got := svinfoSays("/usr/bin", c.args...); got != c.want {
					t.Errorf("svinfo %q after svc -d: %+v, want %+v", c.args, got, c.want)
				}
			}
			if code := svwaitRun(t, "-u", "-t", "100", a); code != 99 {
				t.Errorf("svwait -u -t 100 on a down service: exit %d, want 99", code)
			}
			waitUpAgain := svwaitBackground(t, "-u", a)
			svtest.Svc(t, "/usr/bin/svc", "-u", a)
			awaitResult(t, "svwait -u after svc -u", waitUpAgain)
			again := upPid(t, a)
			if again == 0 || again == pids[a] {
				t.Errorf("after svc -u, a's pid %d (was %d)", again, pids[a])
			}
			if got, want := svinfoSays("/usr/bin", "-p", "a"), (testbin.Result{Stdout: strconv.Itoa(again) + "\n"}); got != want {
				t.Errorf("svinfo -p a after svc -u: %+v, want %+v", got, want)
			}

			// A supervisor that ends while svwait waits ends the wait.
			waiting := svwaitBackground(t, "-u", idle)
			// Told once svwait watches (its FIFO is in the event
			// directory): sooner, svscan may start idle's supervisor
			// again before svwait looks, and svwait waits for that one.
			svtest.WaitFor(t, 5*time.Second, "svwait to watch idle", func() bool {
				fifos, _ := os.ReadDir(filepath.Join(idle, eventfifo.Dir))
				return len(fifos) > 0
			})
			svtest.Svc(t, "/usr/bin/svc", "-x", idle)
			if got, want := <-waiting, (testbin.Result{Stderr: "svwait: fatal: unable to watch " + idle + ": supervise not running\n", Code: 111}); got != want {
				t.Errorf("svwait -u on a service whose supervisor ends: %+v, want %+v", got, want)
			}
			if s.stderr() != "" {
				t.Errorf("stderr %q", s.stderr())
			}
		})
	}
}
