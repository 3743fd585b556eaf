package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// normalise hides what differs between two supervisors in the same state:
// pids and seconds.
var (
	pidPattern     = regexp.MustCompile(`pid [0-9]+`)
	secondsPattern = regexp.MustCompile(`[0-9]+ seconds`)
)

func normalise(s string) string {
	return secondsPattern.ReplaceAllString(pidPattern.ReplaceAllString(s, "pid P"), "S seconds")
}

// Daemontools' own svstat and svc, and svtools' svinfo, read and control
// our supervise, whose record is longer than daemontools', exactly as they
// do /usr/bin/supervise: the two run side by side and are driven through
// the same states with Debian's svc, every old letter of it, and every
// reader must say the same of both.
func TestReferenceReadersSideBySide(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// svinfo finds the service directory with svdir, through $PATH.
	bin := filepath.Join(root, "bin")
	testbin.Must(t, os.Mkdir(bin, 0o755))
	scan := filepath.Join(root, "service")
	writeFile(t, bin, "svdir", "#!/bin/sh\necho "+scan+"\n", 0o755)
	svinfo := "/usr/bin/svinfo"
	if _, err := os.Stat(svinfo); err != nil {
		t.Fatalf("svtools' svinfo is missing (apt-get install svtools): %v", err)
	}
	dirs := map[string]string{"ours": filepath.Join(scan, "ours"), "daemontools": filepath.Join(scan, "daemontools")}
	for name, dir := range dirs {
		svtest.NewService(t, dir, "exec sleep 100")
		prog := testbin.Path(t, "supervise")
		if name == "daemontools" {
			prog = testbin.Reference(t, "supervise")
		}
		svtest.StartSupervise(t, dir, prog)
	}
	steps := []struct {
		svc    string
		up     bool
		paused bool
		want   byte
		newPid bool // the letter kills ./run, which is started again
	}{
		{"", true, false, 'u', false},
		{"-p", true, true, 'u', false},
		{"-c", true, false, 'u', false},
		{"-h", true, false, 'u', true},
		{"-a", true, false, 'u', true},
		{"-i", true, false, 'u', true},
		{"-t", true, false, 'u', true},
		{"-k", true, false, 'u', true},
		{"-d", false, false, 'd', false},
		{"-o", true, false, 0, false},
		{"-k", false, false, 0, false},
		{"-u", true, false, 'u', false},
	}
	for _, step := range steps {
		pids := map[string]int{}
		for name, dir := range dirs {
			s, _ := svtest.ReadStatus(t, dir)
			pids[name] = s.Pid
			if step.svc != "" {
				svtest.Svc(t, testbin.Reference(t, "svc"), step.svc, dir)
			}
		}
		for name, dir := range dirs {
			svtest.WaitStatus(t, dir, name+" after svc "+step.svc, func(s status.Status) bool {
				return (s.Pid != 0) == step.up && s.Paused == step.paused && s.Want == step.want &&
					(!step.newPid || s.Pid != 0 && s.Pid != pids[name])
			})
		}
		say := func(name string, prog string, args ...string) (string, int) {
			cmd := exec.Command(prog, args...)
			cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin")
			out, _ := cmd.CombinedOutput()
			return string(out), cmd.ProcessState.ExitCode()
		}
		var said [2][4]string
		for i, name := range []string{"ours", "daemontools"} {
			dir := dirs[name]
			s, _ := svtest.ReadStatus(t, dir)
			svstat, _ := say(name, testbin.Reference(t, "svstat"), dir)
			oursSvstat, _ := say(name, testbin.Path(t, "svstat"), dir)
			if normalise(oursSvstat) != normalise(svstat) {
				t.Errorf("%s after svc %s: our svstat %q, daemontools' %q", name, step.svc, oursSvstat, svstat)
			}
			pid, _ := say(name, svinfo, "-p", name)
			if pid != strconv.Itoa(s.Pid)+"\n" {
				t.Errorf("%s after svc %s: svinfo -p says %q, the record %d", name, step.svc, pid, s.Pid)
			}
			state, code := say(name, svinfo, "-s", name)
			when, _ := say(name, svinfo, "-w", name)
			if !regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+\n$`).MatchString(when) {
				t.Errorf("%s after svc %s: svinfo -w says %q", name, step.svc, when)
			}
			said[i] = [4]string{normalise(strings.TrimPrefix(svstat, dir+": ")), state, strconv.Itoa(code), normalise(pidPattern.ReplaceAllString("pid "+pid, "pid P"))}
		}
		if said[0] != said[1] {
			t.Errorf("after svc %s: ours %q, daemontools %q", step.svc, said[0], said[1])
		}
	}
	// Debian's svc -dx ends both.
	for _, dir := range dirs {
		svtest.Svc(t, testbin.Reference(t, "svc"), "-dx", dir)
		svtest.WaitFor(t, 5*time.Second, "supervise gone from "+dir, func() bool {
			out, _ := exec.Command(testbin.Reference(t, "svstat"), dir).Output()
			return normalise(string(out)) == dir+": supervise not running\n"
		})
	}
}
