package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// kill -9 of supervise at random moments (a start, a stop, ./finish, the
// wait for a pidfile's daemon) of services that keep restarting, in both
// modes: no service ever runs twice, and every service is supervised
// again soon after. Under svscan -1 the supervise killed is svscan itself
// (every supervisor inside it), replaced by a new one as README says, or
// the supervise process of the service with a pidfile.
func TestKill9NeverTwice(t *testing.T) {
	t.Parallel()
	needRoot(t)
	for _, m := range []struct {
		name  string
		flags []string
	}{{"per-process", nil}, {"one-process", []string{"-1"}}} {
		t.Run(m.name, func(t *testing.T) { kill9NeverTwice(t, m.flags) })
	}
}

// twiceServices are the services, each running one process whose command
// line is its marker, "sleep 36NN", once started.
var twiceServices = []struct{ name, run, finish, pidfile, timeoutKill string }{
	{"plain", "exec sleep 3601", "", "", ""},
	{"finish", "exec sleep 3602", "sleep 0.3", "", ""},
	{"stubborn", "trap '' TERM\nexec sleep 3603", "", "", "300"},
	{"daemon", "sh -c 'sleep 0.3; echo $$ > daemon.pid; exec sleep 3604' </dev/null >/dev/null 2>&1 &\nexit 0", "", "daemon.pid", ""},
}

func kill9NeverTwice(t *testing.T, flags []string) {
	rounds := pick(10, 200)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	root := filepath.Join(t.TempDir(), "service")
	var dirs []string
	for _, s := range twiceServices {
		dir := filepath.Join(root, s.name)
		svtest.NewService(t, dir, s.run)
		for file, content := range map[string]string{"finish": s.finish, "pidfile": s.pidfile, "timeout-kill": s.timeoutKill} {
			if content == "" {
				continue
			}
			mode := os.FileMode(0o644)
			if file == "finish" {
				content, mode = "#!/bin/sh\n"+content+"\n", 0o755
			}
			testbin.Must(t, os.WriteFile(filepath.Join(dir, file), []byte(content), mode))
		}
		dirs = append(dirs, dir)
	}
	startScan := func() *proc {
		cmd := exec.Command(prog(t, "svscan"), append(flags, root)...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(prog(t, "svscan"))+":/usr/bin:/bin", "SVSCAN_TEST_INTERVAL=100ms")
		return start(t, cmd)
	}
	scan := startScan()

	// The watch: every marker at most once among the live processes.
	var mu sync.Mutex
	var twice []string
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-done:
				return
			default:
			}
			if seen := markersTwice(root); seen != "" {
				mu.Lock()
				twice = append(twice, seen)
				mu.Unlock()
			}
		}
	}()
	defer func() { close(done); <-watched }()

	allUp := func(what string) {
		t.Helper()
		svtest.WaitForNil(t, 5*time.Second, what, func() error {
			for i, sv := range twiceServices {
				if n := countMarker(root, 3601+i); n != 1 || !superviseRuns(dirs[i]) {
					st, err := svtest.WellFormedStatus(dirs[i])
					return fmt.Errorf("%s: %d running, supervised %v; record %+v %v", sv.name, n, superviseRuns(dirs[i]), st, err)
				}
			}
			return nil
		})
	}
	allUp("every service up")
	svc := prog(t, "svc")
	for round := range rounds {
		i := rng.IntN(len(dirs))
		letters := []string{"-t", "-du"}[rng.IntN(2)]
		testbin.Must(t, exec.Command(svc, letters, dirs[i]).Run())
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		victims := superviseProcs(root)
		if own := superviseProcs(dirs[i]); len(own) > 0 && rng.IntN(4) != 0 {
			victims = own // mostly the service's own, in the middle of what it was told
		}
		if flags != nil && (len(victims) == 0 || rng.IntN(2) == 0) {
			scan.Kill9(t)
			scan = startScan()
		} else if len(victims) > 0 {
			syscall.Kill(victims[rng.IntN(len(victims))], syscall.SIGKILL)
		}
		svtest.WaitFor(t, time.Second+100*time.Millisecond, fmt.Sprintf("round %d: every service supervised again", round), func() bool {
			for _, d := range dirs {
				if !superviseRuns(d) {
					return false
				}
			}
			return true
		})
	}
	report := func() {
		mu.Lock()
		defer mu.Unlock()
		if len(twice) > 0 {
			t.Errorf("a service ran twice, seen %d times; first: %s", len(twice), twice[0])
		}
	}
	report()
	allUp("every service up at the end")
	report()
	t.Logf("%d rounds of kill -9", rounds)
}

// markersTwice says which markers more than one live process working in
// root has (other tests, this one's included, may run at the same time),
// with their pids; "" for none.
func markersTwice(root string) string {
	seen := map[string][]int{}
	for _, p := range svtest.AllProcs() {
		if p.State == 'Z' || !worksIn(p.Pid, root) {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/cmdline")
		if err != nil || !strings.HasPrefix(string(b), "sleep\x0036") {
			continue
		}
		seen[string(b)] = append(seen[string(b)], p.Pid)
	}
	var out []string
	for m, pids := range seen {
		if len(pids) > 1 && svtest.Alive(pids[0]) && svtest.Alive(pids[1]) {
			var who []string
			for _, pid := range pids {
				st, _ := svtest.ReadStat(pid)
				parent, _ := os.ReadFile("/proc/" + strconv.Itoa(st.PPid) + "/cmdline")
				who = append(who, fmt.Sprintf("%d (parent %d %q)", pid, st.PPid, strings.ReplaceAll(string(parent), "\x00", " ")))
			}
			out = append(out, fmt.Sprintf("%q: pids %s", strings.ReplaceAll(m, "\x00", " "), strings.Join(who, ", ")))
		}
	}
	return strings.Join(out, "; ")
}

// worksIn tells whether pid's working directory is root or inside it.
func worksIn(pid int, root string) bool {
	cwd, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	return cwd == root || strings.HasPrefix(cwd, root+"/")
}

// countMarker counts the live processes working in root that run "sleep N".
func countMarker(root string, n int) int {
	want := "sleep\x00" + strconv.Itoa(n) + "\x00"
	count := 0
	for _, p := range svtest.AllProcs() {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/cmdline"); err == nil && string(b) == want && svtest.Alive(p.Pid) && worksIn(p.Pid, root) {
			count++
		}
	}
	return count
}

// superviseRuns tells whether dir's supervise/ok has a reader, as svok.
func superviseRuns(dir string) bool {
	fd, err := syscall.Open(filepath.Join(dir, "supervise/ok"), syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		syscall.Close(fd)
	}
	return err == nil
}

// superviseProcs lists the supervise processes working in root or in its
// subdirectories.
func superviseProcs(root string) []int {
	var pids []int
	for _, p := range svtest.AllProcs() {
		proc := "/proc/" + strconv.Itoa(p.Pid)
		b, _ := os.ReadFile(proc + "/cmdline")
		if strings.HasPrefix(string(b), "supervise\x00") && worksIn(p.Pid, root) && p.State != 'Z' {
			pids = append(pids, p.Pid)
		}
	}
	return pids
}
