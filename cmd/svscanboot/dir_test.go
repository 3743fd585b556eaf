package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"daemontools/internal/testbin"
)

// A directory svscanboot cannot scan is reported before anything starts:
// svscan's own complaint would only scroll through readproctitle's title.
func TestMissingDirSaysSo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	testbin.Must(t, os.WriteFile(file, nil, 0o644))
	for arg, want := range map[string]string{
		filepath.Join(dir, "missing"): "svscanboot: fatal: unable to open " + filepath.Join(dir, "missing") + ": file does not exist\n",
		file:                          "svscanboot: fatal: unable to open " + file + ": not a directory\n",
	} {
		got := testbin.Run(t, exec.Command(testbin.Path(t, "svscanboot"), arg))
		if want := (testbin.Result{Stderr: want, Code: 111}); got != want {
			t.Errorf("svscanboot %s: %+v, want %+v", arg, got, want)
		}
	}
}
