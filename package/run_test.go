package install

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// package/run in the background, as from a shell script: the services get
// SIGINT and SIGQUIT at their defaults (svc -i works), svscan and
// readproctitle get no descriptor of the caller's, and a second SERVICEDIR
// gets an svscan of its own without disturbing the first, which a third
// run finds again.
func TestRunInBackground(t *testing.T) {
	t.Parallel()
	tmp, src := freshCopy(t)
	stray, err := os.Create(filepath.Join(tmp, "stray"))
	testbin.Must(t, err)
	defer stray.Close()

	env := append(os.Environ(), "BOOT=background")
	for _, v := range []string{"COMMANDDIR", "BINDIR", "MANDIR"} {
		env = append(env, v+"="+filepath.Join(tmp, strings.ToLower(v)))
	}
	// run starts package/run for servicedir and returns svscan's pid and
	// the pid of the service "s" in it.
	run := func(servicedir string) (svscan, service int, out string) {
		t.Helper()
		svtest.NewService(t, filepath.Join(servicedir, "s"), "exec sleep 1000")
		out = runScript(t, src, "run", append(env, "SERVICEDIR="+servicedir, "PIDFILE="), stray)
		i := strings.LastIndex(out, "as pid ")
		if i < 0 {
			t.Fatalf("package/run names no pid:\n%s", out)
		}
		svscan, _ = strconv.Atoi(strings.TrimRight(strings.Fields(out[i+len("as pid "):])[0], ";"))
		svtest.WaitFor(t, 10*time.Second, "the service up", func() bool {
			st, ok := svtest.ReadStatus(t, filepath.Join(servicedir, "s"))
			service = st.Pid
			return ok && st.Pid != 0
		})
		return svscan, service, out
	}
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	svscanA, serviceA, _ := run(a)

	sigIgn := func(pid int) uint64 {
		status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "SigIgn:\t"); ok {
				n, _ := strconv.ParseUint(v, 16, 64)
				return n
			}
		}
		t.Fatalf("no SigIgn for %d", pid)
		return 0
	}
	const intQuit = 1<<(2-1) | 1<<(3-1)
	if ign := sigIgn(serviceA); ign&intQuit != 0 {
		t.Errorf("the service ignores signals %#x: SIGINT or SIGQUIT among them", ign)
	}
	for _, p := range svtest.AllProcs() {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/cmdline")
		if p.Pid != svscanA && !(p.PPid == svscanA && strings.HasPrefix(string(cmdline), "readproctitle\x00")) {
			continue
		}
		fds, _ := os.ReadDir("/proc/" + strconv.Itoa(p.Pid) + "/fd")
		for _, fd := range fds {
			if target, _ := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/fd/" + fd.Name()); target == stray.Name() {
				t.Errorf("%q holds the caller's descriptor as %s", cmdline, fd.Name())
			}
		}
	}

	svscanB, _, _ := run(b)
	if svscanB == svscanA {
		t.Errorf("SERVICEDIR=%s got the svscan of %s", b, a)
	}
	again, serviceAgain, out := run(a)
	if again != svscanA || serviceAgain != serviceA {
		t.Errorf("package/run again on %s: svscan %d, service %d; were %d, %d\n%s", a, again, serviceAgain, svscanA, serviceA, out)
	}
	for _, dir := range []string{a, b} {
		runScript(t, src, "uninstall", append(env, "SERVICEDIR="+dir, "PIDFILE="))
	}
	if left := killUnder(tmp); len(left) != 0 {
		t.Errorf("processes left running: %v", left)
	}
}
