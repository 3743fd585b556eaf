package faults

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// Many services under svscan, with services and supervise processes killed
// at random: every service runs at the end, under its own supervise, with no
// process left over, and svscan's descriptors and memory stay flat.
func TestSvscanManyServices(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	count := pick(150, 1000)
	duration := pick(10*time.Second, 5*time.Minute)
	root := t.TempDir()
	dirs := manyServices(t, root, count)
	cmd := exec.Command(prog(t, "svscan"), root)
	cmd.Dir = root
	// svscan finds supervise on $PATH: ours, not Debian's.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(prog(t, "supervise"))+":"+os.Getenv("PATH"))
	scan := start(t, cmd)
	waitAllUp(t, scan, dirs, 2*time.Minute)
	before := measure(t, scan)

	begin := time.Now()
	serviceKills, superviseKills := 0, 0
	for next := begin; time.Since(begin) < duration; next = next.Add(50 * time.Millisecond) {
		if scan.HasExited() {
			t.Fatalf("svscan exited: %v\n%s", scan.Cmd.ProcessState, scan.out)
		}
		time.Sleep(time.Until(next)) // the pace of the crashes
		dir := dirs[rng.IntN(len(dirs))]
		st, err := svtest.WellFormedStatus(dir)
		if err != nil || st.Pid == 0 {
			continue // being restarted
		}
		if serviceKills%20 == 19 {
			// supervise crashes; kill its service too, or it would run on
			// beside the one the next supervise starts.
			// The status may still name a service orphaned by an
			// earlier kill, whose parent is now this process.
			if sup := parentOf(st.Pid); sup != 0 && parentOf(sup) == scan.Pid() {
				syscall.Kill(sup, syscall.SIGKILL)
				superviseKills++
			}
		}
		syscall.Kill(st.Pid, syscall.SIGKILL)
		serviceKills++
	}
	t.Logf("%d services (%d with a log); %d service and %d supervise kills in %v", count, len(dirs)-count, serviceKills, superviseKills, duration)
	waitAllUp(t, scan, dirs, time.Minute)

	before.flat(t, scan)
}

// killWhileBusy sends SIGKILL to pid as soon as one of its threads runs
// (rather than waits for input), or after a second.
func killWhileBusy(pid int) {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		running := false
		for _, task := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
			if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'R' {
				running = true
			}
		}
		if running {
			break
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// parentOf returns the parent of pid, 0 if unknown.
func parentOf(pid int) int {
	s, err := svtest.ReadStat(pid)
	if err != nil {
		return 0
	}
	return s.PPid
}

// waitAllUp waits until every service in dirs runs under a live supervise
// and the session of svscan holds nothing else: svscan, a supervise and a
// service for each, no zombie.
func waitAllUp(t testing.TB, scan *proc, dirs []string, timeout time.Duration) {
	t.Helper()
	svtest.WaitForNil(t, timeout, fmt.Sprintf("all %d services up", len(dirs)), func() error {
		down := 0
		var last error
		for _, dir := range dirs {
			if err := serviceUp(dir); err != nil {
				down++
				last = err
			}
		}
		if down > 0 {
			return fmt.Errorf("%d services not up, as %v", down, last)
		}
		scan.Reap() // services orphaned by a killed supervise come to this process
		n, zombies := 0, 0
		for _, s := range svtest.AllProcs() {
			if s.Session == scan.Pid() {
				n++
				if s.State == 'Z' {
					zombies++
				}
			}
		}
		if n != 1+2*len(dirs) || zombies > 0 {
			return fmt.Errorf("%d processes (%d zombies) under svscan, want %d", n, zombies, 1+2*len(dirs))
		}
		return nil
	})
}

// serviceUp tells whether dir's supervise runs (its ok FIFO has a reader)
// and its status names a live service.
func serviceUp(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "supervise", "ok"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	f.Close()
	st, err := svtest.WellFormedStatus(dir)
	switch {
	case err != nil:
		return err
	case st.Pid == 0 || !svtest.Alive(st.Pid):
		return fmt.Errorf("%s: status pid %d not running", dir, st.Pid)
	case st.Want != 'u':
		return errors.New(dir + ": not wanted up")
	}
	return nil
}

// The log pipe under svscan: a service pours out lines while its multilog
// is killed with -9 at random moments; supervise restarts multilog on the
// pipe svscan holds, and every line reaches the log, in order.
func TestLogPipeUnderSvscan(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	root := t.TempDir()
	lines := pick(200000, 1000000)
	kills := pick(5, 20)
	// The service pours the lines out in chunks, 0.1 s apart, so that the
	// flow lasts while multilog is killed and restarted (a second each).
	input := t.TempDir()
	chunks := 15 * kills
	var data bytes.Buffer
	for n := range lines {
		data.WriteString(logLine(n))
		data.WriteByte('\n')
		if (n+1)%(lines/chunks) == 0 || n == lines-1 {
			testbin.Must(t, os.WriteFile(filepath.Join(input, fmt.Sprintf("%09d", n)), data.Bytes(), 0644))
			data.Reset()
		}
	}
	dir := filepath.Join(root, "talker")
	svtest.NewService(t, dir, "for f in "+input+"/*; do cat $f; sleep 0.1; done\nexec sleep 100000")
	svtest.NewService(t, filepath.Join(dir, "log"), "exec multilog t s262144 n100000 ./main")
	logDir := filepath.Join(dir, "log", "main")

	cmd := exec.Command(prog(t, "svscan"), root)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(prog(t, "supervise"))+":"+os.Getenv("PATH"))
	scan := start(t, cmd)
	logger := 0
	for range kills {
		st := svtest.WaitUp(t, filepath.Join(dir, "log"), logger)
		logger = st.Pid
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond) // the random moment of the kill
		killWhileBusy(logger)
	}
	svtest.WaitForNil(t, time.Minute, "every line logged", func() error {
		if scan.HasExited() {
			t.Fatalf("svscan exited: %v\n%s", scan.Cmd.ProcessState, scan.out)
		}
		r, err := readLog(logDir, true)
		if err == nil && r.next < lines {
			err = fmt.Errorf("lines up to %d logged", r.next)
		}
		return err
	})
	checkLog(t, logDir, lines, kills)
}
