package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A daemon that forks and writes a pidfile is supervised the same way
// under plain svscan and svscan -1: the pid from the pidfile is the
// service's (svstat -l says so), a kill -9 of the daemon starts ./run
// again and the new daemon is supervised, with no copy left of the old
// one and no zombie; svc -d stops it.
func TestPidfileBothModes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "service")
			pf := filepath.Join(dir, "pf")
			makeService(t, pf, "rm -f daemon.pid\nsh -c 'echo $$ >daemon.pid.new && mv daemon.pid.new daemon.pid && exec sleep 1000' &\nexit 0", "")
			writeFile(t, filepath.Join(pf, "pidfile"), "daemon.pid\n", 0o644)
			s := m.start(t, dir)
			// daemonUp waits until the status names the daemon in the
			// pidfile, other than old, and svstat -l says it as want
			// (with %d for its pid); it returns the daemon's pid.
			daemonUp := func(old int, want string) int {
				t.Helper()
				var pid int
				svtest.WaitForNil(t, 15*time.Second, "the daemon supervised", func() error {
					b, err := os.ReadFile(filepath.Join(pf, "daemon.pid"))
					if err != nil {
						return err
					}
					pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
					if got := upPid(t, pf); pid == old || got != pid {
						return fmt.Errorf("daemon.pid says %d, svstat %d", pid, got)
					}
					return nil
				})
				if got, want := svstatLong(t, pf), fmt.Sprintf(want, pid); got != want {
					t.Errorf("svstat -l: %q, want %q", got, want)
				}
				// The daemon alone works in pf, beside its supervise
				// if any: ./run and the shell that forked it are gone,
				// and reaped.
				svtest.WaitForNil(t, 5*time.Second, "the daemon alone, no zombie", func() error {
					var there []int
					for _, p := range svtest.AllProcs() {
						if p.Session != s.Pid() || p.Pid == s.supervisePid("pf") {
							continue
						}
						if p.State == 'Z' {
							return fmt.Errorf("zombie %d", p.Pid)
						}
						if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.Pid)); cwd == pf {
							there = append(there, p.Pid)
						}
					}
					if len(there) != 1 || there[0] != pid {
						return fmt.Errorf("processes in %s: %v, want the daemon %d", pf, there, pid)
					}
					return nil
				})
				return pid
			}
			daemon := daemonUp(0, "up (pid %d) N seconds, pid from pidfile, 0 restarts")
			testbin.Must(t, syscall.Kill(daemon, syscall.SIGKILL))
			daemon = daemonUp(daemon, "up (pid %d) N seconds, pid from pidfile, 1 restart, last killed by SIGKILL")
			svtest.Svc(t, "/usr/bin/svc", "-d", pf)
			svtest.WaitFor(t, 5*time.Second, "the daemon stopped", func() bool { return upPid(t, pf) == 0 && !svtest.Alive(daemon) })
			if got, want := svstatLong(t, pf), "down N seconds, normally up, 1 restart, last killed by SIGTERM"; got != want {
				t.Errorf("svstat -l after svc -d: %q, want %q", got, want)
			}
			if s.stderr() != "" {
				t.Errorf("stderr %q", s.stderr())
			}
		})
	}
}
