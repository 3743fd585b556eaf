package main

import (
	"os"
	"path/filepath"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A supervise that is a symlink to a directory not made yet (runit's
// trees: Debian's /etc/sv/NAME/supervise leads to /run/runit/supervise/NAME,
// which runsv makes) gets that directory made, mode 0700, as runsv does,
// the link absolute or relative; daemontools' supervise gives up.
func TestSuperviseLinkMade(t *testing.T) {
	t.Parallel()
	for name, target := range map[string]func(dir string) string{
		"absolute": func(dir string) string { return filepath.Join(filepath.Dir(dir), "run", "svc") },
		"relative": func(string) string { return "../supervise.svc" },
	} {
		t.Run(name, func(t *testing.T) {
			dir := newService(t, "exec sleep 1000")
			link := target(dir)
			if name == "absolute" {
				testbin.Must(t, os.Mkdir(filepath.Dir(link), 0o755))
			}
			testbin.Must(t, os.Symlink(link, filepath.Join(dir, "supervise")))
			svtest.StartSupervise(t, dir)
			svtest.WaitStatus(t, dir, "up", isUp)
			st, err := os.Lstat(filepath.Join(dir, "supervise"))
			testbin.Must(t, err)
			made, err := os.Stat(filepath.Join(dir, "supervise"))
			if err != nil || st.Mode()&os.ModeSymlink == 0 || !made.IsDir() || made.Mode().Perm() != 0o700 {
				t.Errorf("supervise: link %v, %v %v", st.Mode(), made, err)
			}
		})
	}
}
