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

// supervise is the one executable every program is, run through a link
// named supervise: ps, pgrep -x and pidof know it by that name (it used to
// start itself again through /proc/self/exe and show as "exe").
func TestKnownByItsName(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "s")
	svtest.NewService(t, dir, "exec sleep 100")
	g, _ := svtest.StartSupervise(t, dir)
	pid := strconv.Itoa(g.Pid())
	svtest.WaitFor(t, 5*time.Second, "the service up", func() bool {
		s, ok := svtest.ReadStatus(t, dir)
		return ok && s.Pid != 0
	})
	comm, err := os.ReadFile("/proc/" + pid + "/comm")
	testbin.Must(t, err)
	if string(comm) != "supervise\n" {
		t.Errorf("/proc/%s/comm is %q", pid, comm)
	}
	for _, finder := range [][]string{{"pgrep", "-x", "supervise"}, {"pidof", "supervise"}} {
		out, _ := exec.Command(finder[0], finder[1:]...).Output()
		if !strings.Contains(" "+strings.Join(strings.Fields(string(out)), " ")+" ", " "+pid+" ") {
			t.Errorf("%s does not list %s: %q", strings.Join(finder, " "), pid, out)
		}
	}
}
