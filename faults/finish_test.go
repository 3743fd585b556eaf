package faults

import (
	"os"
	"path/filepath"
	"testing"
)

// A crash loop with a ./finish that has work to do: the same throttle, CPU
// bound, zombie and descriptor checks as TestCrashLoop, with two children
// per round instead of one.
func TestCrashLoopWithFinish(t *testing.T) {
	dir := crashLoop(t, "#!/bin/sh\necho \"$1 $2\" > finished\n")
	if b, err := os.ReadFile(filepath.Join(dir, "finished")); os.Getenv("FAULTS_BIN") == "" && string(b) != "1 0\n" {
		t.Errorf("finish wrote %q (%v), want \"1 0\"", b, err)
	}
}
