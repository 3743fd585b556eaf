package faults

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// Many services under svscan -1 (1000 under FAULTS_LONG), every tenth with
// a logger, and each service and logger in turn, in a random order, is
// killed with -9 or told svc -t: every one is supervised again, by a new
// process, and runs once, svscan -1 being the one other process of the
// session; its descriptors come back to where they were and its memory
// stays flat.
func TestOneProcessSoak(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	count := pick(100, 1000)
	root := t.TempDir()
	dirs := manyServices(t, root, count)
	scan := start(t, exec.Command(prog(t, "svscan"), "-1", root))
	before := waitAllOnce(t, scan, dirs, nil, 2*time.Minute)
	use := measure(t, scan)

	kills, terms := 0, 0
	began := time.Now()
	for _, i := range rng.Perm(len(dirs)) {
		if scan.HasExited() {
			t.Fatalf("svscan -1 exited: %v\n%s", scan.Cmd.ProcessState, scan.out)
		}
		if rng.IntN(2) == 0 {
			testbin.Must(t, syscall.Kill(before[dirs[i]], syscall.SIGKILL))
			kills++
		} else {
			svtest.Svc(t, prog(t, "svc"), "-t", dirs[i])
			terms++
		}
	}
	t.Logf("%d services (%d with a log): %d kill -9 and %d svc -t in %v", count, len(dirs)-count, kills, terms, time.Since(began).Round(time.Millisecond))
	waitAllOnce(t, scan, dirs, before, 2*time.Minute)

	use.flat(t, scan)
	noPanic(t, "svscan -1", scan.out.String())
	if out := scan.out.String(); out != "" {
		t.Errorf("svscan -1 said:\n%s", out)
	}
}

// waitAllOnce waits until every dir is supervised (its ok FIFO has a
// reader) and its status names a live service, other than the one in
// old, if any; until, too, the session of svscan -1 holds it and one
// process per dir, no zombie, and each dir's process works in that
// directory: nothing runs twice. It returns each dir's service.
func waitAllOnce(t *testing.T, scan *proc, dirs []string, old map[string]int, timeout time.Duration) map[string]int {
	t.Helper()
	pids := map[string]int{}
	svtest.WaitForNil(t, timeout, fmt.Sprintf("all %d services up once", len(dirs)), func() error {
		if scan.HasExited() {
			t.Fatalf("svscan -1 exited: %v\n%s", scan.Cmd.ProcessState, scan.out)
		}
		down := 0
		var last error
		for _, dir := range dirs {
			err := serviceUp(dir)
			if err == nil {
				st, _ := svtest.WellFormedStatus(dir)
				if pids[dir] = st.Pid; st.Pid == old[dir] {
					err = fmt.Errorf("%s: still pid %d", dir, st.Pid)
				}
			}
			if err != nil {
				down++
				last = err
			}
		}
		if down > 0 {
			return fmt.Errorf("%d services not up, as %v", down, last)
		}
		scan.Reap()
		cwds := map[string]int{}
		n := 0
		for _, s := range svtest.AllProcs() {
			if s.Session != scan.Pid() {
				continue
			}
			if n++; s.State == 'Z' {
				return fmt.Errorf("zombie %d in svscan -1's session", s.Pid)
			}
			if s.Pid != scan.Pid() {
				cwd, _ := os.Readlink("/proc/" + strconv.Itoa(s.Pid) + "/cwd")
				cwds[cwd]++
			}
		}
		if n != 1+len(dirs) {
			return fmt.Errorf("%d processes under svscan -1, want %d", n, 1+len(dirs))
		}
		for _, dir := range dirs {
			if cwds[dir] != 1 || !svtest.Alive(pids[dir]) {
				return fmt.Errorf("%s: %d processes work there; the status names %d", dir, cwds[dir], pids[dir])
			}
		}
		return nil
	})
	return pids
}
