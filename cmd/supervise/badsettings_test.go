package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
)

// Bad timeout-finish and backoff-max files: a warning naming the file and
// what is used instead, and the service goes on being restarted as without
// them.
func TestBadSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, content, instead string }{
		{"timeout-finish", "5s\n", "using 5000"},
		{"timeout-finish", "99999999999\n", "using 5000"},
		{"backoff-max", "-1\n", "ignored"},
		{"backoff-max", "\n", "ignored"},
	} {
		t.Run(tc.file+" "+strings.TrimSpace(tc.content), func(t *testing.T) {
			dir := newService(t, "echo $$ >> starts\nexit 1")
			writeFile(t, dir, "finish", "#!/bin/sh\n", 0o755)
			writeFile(t, dir, tc.file, tc.content, 0o644)
			_, errFile := svtest.StartSupervise(t, dir)
			svtest.WaitFor(t, 10*time.Second, "three starts", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) >= 3 })
			line := "supervise: warning: " + dir + "/" + tc.file + ": not a number of milliseconds: \"" +
				strings.TrimSpace(tc.content) + "\", " + tc.instead + "\n"
			e := stderrOf(errFile)
			if !strings.HasPrefix(e, line) || strings.ReplaceAll(e, line, "") != "" {
				t.Errorf("stderr %q, want lines %q", e, line)
			}
			// ./run notes its start before supervise records it.
			s := waitRecord(t, dir, "two restarts", func(s status.Status) bool { return s.Restarts >= 2 })
			if s.LastExit != (status.Exit{Code: 1}) {
				t.Errorf("record %+v", s)
			}
		})
	}
}
