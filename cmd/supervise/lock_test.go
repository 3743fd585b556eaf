package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A supervise/lock that is a FIFO makes supervise fail at once, as
// daemontools' does (it opens the lock without blocking), instead of
// waiting for a reader forever.
func TestLockIsFifo(t *testing.T) {
	t.Parallel()
	dir := newService(t, "#!/bin/sh\nexec sleep 100\n")
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "supervise"), 0o700))
	testbin.Must(t, syscall.Mkfifo(filepath.Join(dir, "supervise/lock"), 0o600))
	run := func(prog string) testbin.Result {
		ctx, cancel := context.WithTimeout(context.Background(), svtest.Scaled(5*time.Second))
		defer cancel()
		cmd := exec.CommandContext(ctx, prog, dir)
		cmd.Args[0] = "supervise"
		r := testbin.Run(t, cmd)
		if ctx.Err() != nil {
			t.Fatalf("%s hangs on a FIFO named lock", prog)
		}
		return r
	}
	ours, ref := run(testbin.Path(t, "supervise")), run(testbin.Reference(t, "supervise"))
	want := testbin.Result{Stderr: "supervise: fatal: unable to acquire " + dir + "/supervise/lock: device not configured\n", Code: 111}
	if ours != want || ref != want {
		t.Errorf("ours %+v\nref  %+v\nwant %+v", ours, ref, want)
	}
}
