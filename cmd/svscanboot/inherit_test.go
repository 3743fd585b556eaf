package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// svscan and readproctitle get no descriptor svscanboot was started with
// beyond 0, 1 and 2 (a shell's, such as dash's 10 or a caller's 251).
func TestNothingInherited(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "service")
	testbin.Must(t, os.MkdirAll(dir, 0755))
	strayPath := filepath.Join(t.TempDir(), "stray")
	stray, err := os.Create(strayPath)
	testbin.Must(t, err)
	defer stray.Close()
	cmd := exec.Command(testbin.Path(t, "svscanboot"), dir)
	cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
	cmd.ExtraFiles = []*os.File{stray}
	boot := svtest.Start(t, cmd)
	pid := boot.Pid()
	var title int
	svtest.WaitFor(t, 5*time.Second, "svscan and readproctitle", func() bool {
		for _, p := range svtest.Procs(pid) {
			if p.PPid == pid && len(p.Args) > 0 && p.Args[0] == "readproctitle" {
				title = p.Pid
			}
		}
		return title != 0 && read(pid, "cmdline") == "svscan\x00"+dir+"\x00"
	})
	for _, p := range []int{pid, title} {
		entries, err := os.ReadDir("/proc/" + strconv.Itoa(p) + "/fd")
		testbin.Must(t, err)
		for _, e := range entries {
			target, _ := os.Readlink("/proc/" + strconv.Itoa(p) + "/fd/" + e.Name())
			if target == strayPath {
				t.Errorf("%s has the caller's descriptor as %s", strings.ReplaceAll(read(p, "cmdline"), "\x00", " "), e.Name())
			}
		}
	}
}
