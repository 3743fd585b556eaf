package testbin

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leaveEnv makes this test binary, once guarded, start a process that
// outlives it, as s6-supervise's service outlives a kill of s6-supervise's
// process group: in a session of its own, orphaned at once. Then it runs
// no test ("pass") or panics as -test.timeout does ("timeout").
const leaveEnv = "TESTBIN_LEAVE"

func TestMain(m *testing.M) {
	if how := os.Getenv(leaveEnv); how != "" && os.Getenv(guardEnv) != "" {
		if err := exec.Command("setsid", "-f", "sleep", "1000").Run(); err != nil {
			fmt.Println("setsid:", err)
			os.Exit(3)
		}
		if how == "timeout" {
			panic("test timed out after 1s")
		}
	}
	Main(m)
}

// TestGuard runs this binary as go test would, with leaveEnv set: the
// guard must fail the run, name the process left and kill it, whether the
// tests passed or timed out.
func TestGuard(t *testing.T) {
	self, err := os.Executable()
	Must(t, err)
	left := regexp.MustCompile(`(?m)^\tpid ([0-9]+): sleep 1000 \(in /[^)]*\)$`)
	for _, how := range []string{"pass", "timeout"} {
		t.Run(how, func(t *testing.T) {
			cmd := exec.Command(self, "-test.run=^$")
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(v string) bool {
				return strings.HasPrefix(v, guardEnv+"=")
			}), leaveEnv+"="+how)
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() < 1 {
				t.Fatalf("exit %v, want a failure:\n%s", err, out)
			}
			if !strings.Contains(string(out), "testbin: 1 processes the tests started still run after them; killed:\n") {
				t.Errorf("no report of the process left:\n%s", out)
			}
			m := left.FindSubmatch(out)
			if m == nil {
				t.Fatalf("the process left is not named:\n%s", out)
			}
			// Killed and reaped before the guard exited.
			pid, _ := strconv.Atoi(string(m[1]))
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				if string(cmdline) == "sleep\x001000\x00" {
					exec.Command("kill", "-9", string(m[1])).Run()
					t.Errorf("pid %d still runs after the guard exited", pid)
				}
			}
		})
	}
}

// TestGuardPasses: a run that leaves nothing passes, and says nothing of
// the guard.
func TestGuardPasses(t *testing.T) {
	self, err := os.Executable()
	Must(t, err)
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = slices.DeleteFunc(os.Environ(), func(v string) bool { return strings.HasPrefix(v, guardEnv+"=") })
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "testbin:") {
		t.Fatalf("%v:\n%s", err, out)
	}
	t.Logf("guarded run of no test: %v", time.Since(start))
}

// TestEveryPackageGuarded: every package with tests runs them through
// Main (svtest.Main calls it), so that none can leave a process behind
// unnoticed.
func TestEveryPackageGuarded(t *testing.T) {
	callsMain := regexp.MustCompile(`(\btestbin\.|\bsvtest\.|\t)Main(WithoutProcesses)?\(m\)`)
	root, err := Root()
	Must(t, err)
	tests, guarded := map[string]bool{}, map[string]bool{}
	Must(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			if err == nil {
				err = filepath.SkipDir
			}
			return err
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		tests[dir] = true
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte("\nfunc TestMain(m *testing.M) {")) && callsMain.Match(b) {
			guarded[dir] = true
		}
		return err
	}))
	for dir := range tests {
		if !guarded[dir] {
			t.Errorf("%s: no func TestMain(m *testing.M) { testbin.Main(m) } (or svtest.Main)", dir)
		}
	}
}
