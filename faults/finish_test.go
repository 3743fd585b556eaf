package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	statusrec "daemontools/internal/status"
	"daemontools/internal/svtest"
)

// A crash loop with a ./finish that has work to do: the same throttle, CPU
// bound, zombie and descriptor checks as TestCrashLoop, with two children
// per round instead of one. The last ./finish is told how the last ./run
// ended, as the rec says: it exited 1, or svc -d came before it had
// exited and its TERM killed it.
func TestCrashLoopWithFinish(t *testing.T) {
	t.Parallel()
	dir := crashLoop(t, "#!/bin/sh\necho \"$1 $2\" > finished\n")
	if os.Getenv("FAULTS_BIN") != "" {
		return // another supervise, whose ./finish is told nothing
	}
	var s statusrec.Status
	svtest.WaitFor(t, 5*time.Second, "the last ./finish done", func() bool {
		var err error
		s, err = statusrec.ReadAll(filepath.Join(dir, "supervise/status"))
		return err == nil && s.State == statusrec.Stopped
	})
	if s.LastExit != (statusrec.Exit{Code: 1}) && s.LastExit != (statusrec.Exit{Code: 256, Signal: 15}) {
		t.Errorf("last exit %+v, want exit 1 or SIGTERM", s.LastExit)
	}
	want := fmt.Sprintf("%d %d\n", s.LastExit.Code, s.LastExit.Signal)
	if b, err := os.ReadFile(filepath.Join(dir, "finished")); string(b) != want {
		t.Errorf("finish wrote %q (%v), want %q", b, err, want)
	}
}
