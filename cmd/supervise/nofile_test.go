package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// Without a descriptor to spare for its signal pipe, supervise says what
// daemontools' says, before it touches the service directory.
func TestNoDescriptorForThePipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	svtest.NewService(t, filepath.Join(dir, "s"), "exec sleep 100")
	run := func(prog string) testbin.Result {
		// Descriptor 3 is the one left under the limit: closed here in
		// case the test inherited it open (flock(1) around the suite).
		cmd := exec.Command("/bin/sh", "-c", `exec 3>&- && ulimit -n 4 && exec "$0" s`, prog)
		cmd.Dir = dir
		return testbin.RunWithin(t, cmd, svtest.Scaled(testbin.Hang))
	}
	got, want := run(testbin.Path(t, "supervise")), run(testbin.Reference(t, "supervise"))
	if got != want || got != testbin.Fatal("supervise: fatal: unable to create pipe for s: process cannot open more files") {
		t.Errorf("ulimit -n 4:\nours: %+v\nref:  %+v", got, want)
	}
}
