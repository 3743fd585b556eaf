package svtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A group's session ends when its last process, here one that outlives
// the leader, is reaped; not before.
func TestGroupNotesTheEndOfItsSession(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", "(while [ ! -e go ]; do sleep 0.01; done) & exit 0")
	cmd.Dir = dir
	g := Start(t, cmd)
	g.Wait(t, 5*time.Second)
	g.Reap()
	if len(g.procs()) == 0 {
		t.Fatal("the session ended with its leader, though the loop runs")
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 5*time.Second, "the session to end", func() bool {
		g.Reap()
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.ended
	})
	if left := g.procs(); left != nil {
		t.Errorf("an ended session still has %v", left)
	}
}

// Once a group's session has ended, its id may be another test's
// session's: the group kills nothing of it.
func TestEndedGroupKillsNothing(t *testing.T) {
	t.Parallel()
	other := Start(t, exec.Command("sleep", "1000"))
	ended := &Group{Cmd: other.Cmd, done: make(chan struct{}), leaderReaped: true, ended: true}
	close(ended.done)
	ended.kill(t)
	if !Alive(other.Pid()) {
		t.Error("an ended group's cleanup killed the process that has its id")
	}
}

// A script WriteFile wrote runs at once, even while other
// goroutines of this process fork and exec all along.
func TestWriteFileBesideForks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stop := make(chan struct{})
	var forks sync.WaitGroup
	for range 4 {
		forks.Add(1)
		go func() {
			defer forks.Done()
			for {
				select {
				case <-stop:
					return
				default:
					exec.Command("true").Run()
				}
			}
		}()
	}
	defer func() { close(stop); forks.Wait() }()
	// Long enough to be open for a while.
	content := []byte("#!/bin/sh\nexit 0\n" + strings.Repeat("#\n", 1<<20))
	for i := range 10 {
		script := filepath.Join(dir, fmt.Sprintf("script%d", i))
		WriteFile(t, script, content, 0o755)
		if out, err := exec.Command(script).CombinedOutput(); err != nil {
			t.Fatalf("running %s, just written: %v %s", script, err, out)
		}
	}
}
