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

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

var env = []string{"PATH=/usr/bin:/bin"}

func TestLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	testbin.LikeReference(t, env, "fghack", []testbin.Case{
		{Want: testbin.Usage("fghack: usage: fghack child")},
		{Args: []string{missing}, Want: testbin.Fatal("fghack: fatal: unable to run " + missing + ": file does not exist")},
		{Args: []string{"no-such-program-anywhere"}, Want: testbin.Fatal("fghack: fatal: unable to run no-such-program-anywhere: file does not exist")},
		{Args: []string{"sh", "-c", "exit 3"}, Want: testbin.Result{Code: 3}},
		{Args: []string{"sh", "-c", "kill -9 $$"}, Want: testbin.Fatal("fghack: fatal: child crashed")},
		{Args: []string{"echo", "hi"}, Want: testbin.Result{Stdout: "hi\n"}},
	})
}

// fghack waits for what the child left running in the background, not just
// for the child: the child exits at once, its background job holds the pipe
// until released, and only then does fghack exit with the child's code.
func TestWaitsForBackground(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "release")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testbin.Path(t, "fghack"), "sh", "-c", "(read x <"+fifo+") & echo $! ; exit 3")
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out.SetReadDeadline(time.Now().Add(svtest.Scaled(10 * time.Second)))
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	background, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if background == 0 {
		cmd.Process.Kill()
		t.Fatalf("no background pid: %q", buf[:n])
	}
	// Should the test fail, release nothing and leave nothing behind.
	t.Cleanup(func() { syscall.Kill(background, syscall.SIGKILL); cmd.Process.Kill() })
	// The child becomes a zombie fghack has not reaped: it is still reading.
	svtest.WaitFor(t, 10*time.Second, "the child to exit", func() bool { return childIsZombie(cmd.Process.Pid) })
	var ws syscall.WaitStatus
	if pid, _ := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil); pid != 0 {
		t.Fatal("fghack exited while the background job still ran")
	}
	testbin.Must(t, os.WriteFile(fifo, []byte("go\n"), 0))
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("exit %v, want 3", err)
	}
}

// The pipe's copies take free descriptors only: one fghack inherited
// reaches the child under its number, as with daemontools.
func TestInheritedDescriptorsLikeReference(t *testing.T) {
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var listings []string
	for _, prog := range []string{testbin.Path(t, "fghack"), testbin.Reference(t, "fghack")} {
		cmd := exec.Command(prog, "ls", "-l", "/proc/self/fd")
		cmd.ExtraFiles = []*os.File{nil, nil, nil, nil, f} // descriptor 7
		r := testbin.Run(t, cmd)
		if r.Code != 0 {
			t.Fatalf("%s: %+v", prog, r)
		}
		// "... 7 -> /dev/null" and "... 8 -> pipe:[1234]" become "7 /dev/null", "8 pipe".
		var fds []string
		for _, line := range strings.Split(r.Stdout, "\n") {
			if f := strings.Fields(line); len(f) >= 11 && f[9] == "->" {
				target, _, _ := strings.Cut(f[10], ":")
				if strings.HasPrefix(target, "/proc/") {
					target = "ls's /proc/PID/fd"
				}
				fds = append(fds, f[8]+" "+target)
			}
		}
		listings = append(listings, strings.Join(fds, ", "))
	}
	if listings[0] != listings[1] || !strings.Contains(listings[0], ", 7 /dev/null, ") {
		t.Errorf("ours:      %s\nreference: %s", listings[0], listings[1])
	}
}

// childIsZombie reports whether fghack (pid) has a child in state Z. Any of
// fghack's threads may have forked it, so every thread's children count.
func childIsZombie(pid int) bool {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, task := range tasks {
		children, _ := os.ReadFile(task)
		for _, c := range strings.Fields(string(children)) {
			pid, _ := strconv.Atoi(c)
			if st, err := svtest.ReadStat(pid); err == nil && st.State == 'Z' {
				return true
			}
		}
	}
	return false
}
