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
			s := svtest.WaitStatus(t, dir, "two restarts", func(s status.Status) bool { return s.Restarts >= 2 })
			if s.LastExit != (status.Exit{Code: 1}) {
				t.Errorf("record %+v", s)
			}
		})
	}
}

// Bad health files: a warning each, in daemontools' words, naming what
// is used instead; a probe that cannot be understood is no probe, and the
// service runs as without it.
func TestBadHealthSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		files  []string // name, content
		warns  []string // after "supervise: warning: DIR/"
		health status.Health
	}{
		{"no probe", []string{"health-tcp", "example.com:80\n", "health-http", "https://127.0.0.1/\n", "health-unix", "\n"}, []string{
			`health-http: not an http:// URL: "https://127.0.0.1/", ignored`,
			`health-tcp: host is not an IP address or localhost: "example.com:80", ignored`,
			`health-unix: no path: "", ignored`,
		}, status.HealthNone},
		{"not executable", []string{"health", "#!/bin/sh\n"}, []string{"health: not executable: ignored"}, status.HealthNone},
		{"bad numbers", []string{"health-tcp", "127.0.0.1:1\n", "health-interval", "0\n", "health-timeout", "5s\n",
			"health-grace", "-1\n", "health-failures", "0\n"}, []string{
			`health-interval: not a number of milliseconds: "0", using 10000`,
			`health-timeout: not a number of milliseconds: "5s", using 5000`,
			`health-grace: not a number of milliseconds: "-1", using 10000`,
			`health-failures: not a count of 1 or more: "0", using 3`,
		}, status.HealthUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newService(t, "exec sleep 1000")
			for i := 0; i < len(tc.files); i += 2 {
				writeFile(t, dir, tc.files[i], tc.files[i+1], 0o644)
			}
			_, errFile := svtest.StartSupervise(t, dir)
			s := svtest.WaitStatus(t, dir, "up", func(s status.Status) bool { return s.Pid != 0 })
			if s.Health != tc.health {
				t.Errorf("health %v, want %v", s.Health, tc.health)
			}
			var want string
			for _, w := range tc.warns {
				want += "supervise: warning: " + dir + "/" + w + "\n"
			}
			svtest.WaitFor(t, 5*time.Second, "the warnings", func() bool { return stderrOf(errFile) == want })
		})
	}
}
