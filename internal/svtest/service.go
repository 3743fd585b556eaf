package svtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/testbin"
)

// NewService makes the service directory dir, and its parents, with a run
// that is the sh script body.
func NewService(t testing.TB, dir, body string) {
	t.Helper()
	testbin.Must(t, os.MkdirAll(dir, 0o755))
	WriteFile(t, filepath.Join(dir, "run"), []byte("#!/bin/sh\n"+body+"\n"), 0o755)
}

// Svc runs the svc at path prog with args and fails the test unless it
// exits 0 without a word.
func Svc(t testing.TB, prog string, args ...string) {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("%s %s: %v %s", prog, strings.Join(args, " "), err, out)
	}
}

// ReadStatus reads dir/supervise/status as svstat does (status.ReadAll),
// any supervise's: it reports false while there is no record, and fails
// the test on a short one. A record with daemontools' bytes alone, or
// runit's, gives what they say.
func ReadStatus(t testing.TB, dir string) (status.Status, bool) {
	t.Helper()
	s, err := status.ReadAll(filepath.Join(dir, status.File))
	var failed *status.ReadError
	switch {
	case errors.As(err, &failed):
		return status.Status{}, false
	case err == status.ErrBadFormat:
		t.Fatalf("status of %s: %v", dir, err)
	}
	return s, true
}

// LogFiles lists multilog directory dir: files are the log files in the
// order they were written (the @ files by their TAI64N names, then
// current), others every other name.
func LogFiles(dir string) (files, others []string, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	current := false
	for _, e := range ents {
		switch name := e.Name(); {
		case name == "current":
			current = true
		case strings.HasPrefix(name, "@"):
			files = append(files, name)
		default:
			others = append(others, name)
		}
	}
	sort.Strings(files)
	if current {
		files = append(files, "current")
	}
	return files, others, nil
}

// StopsInRestartGap checks that supervise, running dir's run, which exits
// at once and logs its starts to the file starts with LogStartTime, obeys
// svc -d (the svc at path svc) inside the one-second gap between two
// starts: no start follows. An attempt in which svc, slowed by load,
// returned only after the gap had ended proves nothing; then the service is
// brought up again for another.
func StopsInRestartGap(t testing.TB, svc, dir, starts string) {
	t.Helper()
	deadline := time.Now().Add(Scaled(30 * time.Second))
	for {
		n := len(ReadStartTimes(t, starts))
		WaitFor(t, 5*time.Second, "the next start", func() bool { return len(ReadStartTimes(t, starts)) > n })
		times := ReadStartTimes(t, starts)
		Svc(t, svc, "-d", dir)
		sent := time.Now()
		WaitFor(t, 5*time.Second, "svc -d obeyed", func() bool {
			s, ok := ReadStatus(t, dir)
			return ok && s.Want == 'd' && s.Pid == 0
		})
		gapEnd := times[len(times)-1].Add(time.Second)
		if sent.Before(gapEnd.Add(-2 * tick)) {
			// A start svc -d failed to cancel comes at gapEnd.
			if !Holds(time.Until(gapEnd.Add(500*time.Millisecond)), func() bool {
				return len(ReadStartTimes(t, starts)) == len(times)
			}) {
				t.Fatalf("started again after svc -d, sent %v before the gap ended", gapEnd.Sub(sent).Round(tick))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("svc -d never got through inside the restart gap (last time %v after it)", sent.Sub(gapEnd).Round(tick))
		}
		Svc(t, svc, "-u", dir)
	}
}

// Create creates the file path for the test to write, closed when the
// test ends.
func Create(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	testbin.Must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// SvstatLong is what our svstat -l says of dir after "DIR: ", without
// its newline, each count of seconds written "N seconds".
func SvstatLong(t testing.TB, dir string) string {
	t.Helper()
	out, err := exec.Command(testbin.Path(t, "svstat"), "-l", dir).Output()
	testbin.Must(t, err)
	return secondsRE.ReplaceAllString(strings.TrimPrefix(strings.TrimSuffix(string(out), "\n"), dir+": "), "N seconds")
}

var secondsRE = regexp.MustCompile(`\d+ seconds`)
