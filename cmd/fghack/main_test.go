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

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

var env = []string{"PATH=/usr/bin:/bin"}

func TestLikeReference(t *testing.T) {
	for _, args := range [][]string{
		{}, {"/nonexistent"}, {"no-such-program-anywhere"},
		{"sh", "-c", "exit 3"}, {"sh", "-c", "kill -9 $$"}, {"echo", "hi"},
	} {
		testbin.SameAsReference(t, env, "fghack", args...)
	}
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
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	if n == 0 {
		t.Fatal("no background pid")
	}
	// The child becomes a zombie fghack has not reaped: it is still reading.
	deadline := time.Now().Add(10 * time.Second)
	for !childIsZombie(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("child never exited")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var ws syscall.WaitStatus
	if pid, _ := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil); pid != 0 {
		t.Fatal("fghack exited while the background job still ran")
	}
	os.WriteFile(fifo, []byte("go\n"), 0)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("exit %v, want 3", err)
	}
}

// childIsZombie reports whether fghack (pid) has a child in state Z. Any of
// fghack's threads may have forked it, so every thread's children count.
func childIsZombie(pid int) bool {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, task := range tasks {
		children, _ := os.ReadFile(task)
		for _, c := range strings.Fields(string(children)) {
			stat, _ := os.ReadFile("/proc/" + c + "/stat")
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
				return true
			}
		}
	}
	return false
}
