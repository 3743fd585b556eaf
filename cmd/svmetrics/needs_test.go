package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A service waiting for those it needs (missing from the scan directory)
// and a one-shot task done, migrate, are in the states svstat -j calls
// waiting and done, in both modes, and /metrics says so as it says every
// state; promtool accepts it. /healthz says what app waits for, and
// turns 200 once app runs: migrate, done, counts as healthy.
func TestNeedsStates(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{nil, {"-1"}} {
		t.Run(strings.Join(append([]string{"svscan"}, mode...), " "), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "service")
			svtest.NewService(t, dir+"/app", "exec sleep 1000")
			testbin.Must(t, os.MkdirAll(dir+"/app/needs", 0o755))
			testbin.Must(t, os.WriteFile(dir+"/app/needs/db", nil, 0o644))
			testbin.Must(t, os.WriteFile(dir+"/app/needs/cache", nil, 0o644))
			svtest.NewService(t, dir+"/migrate", "exit 0")
			testbin.Must(t, os.WriteFile(dir+"/migrate/oneshot", nil, 0o644))
			startSvscan(t, dir, mode...)
			url := startSvmetrics(t, dir)

			var body, states string
			if !svtest.Poll(10*time.Second, func() bool {
				body = get(t, url+"/metrics").body
				states = strings.Join(stateRE.FindAllString(body, -1), "")
				return states == wantStates
			}) {
				t.Fatalf("GET /metrics, its states:\n%s\nwant:\n%s", states, wantStates)
			}
			check := exec.Command("promtool", "check", "metrics")
			check.Stdin = strings.NewReader(body)
			if out, err := check.CombinedOutput(); err != nil || len(out) != 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
			waitPage(t, url+"/healthz", page{503, textType, "app: waiting for cache, db\n"})
			svtest.NewService(t, dir+"/cache", "exec sleep 1000")
			svtest.NewService(t, dir+"/db", "exec sleep 1000")
			waitPage(t, url+"/healthz", page{200, textType, "ok\n"})
		})
	}
}

var stateRE = regexp.MustCompile(`(?m)^daemontools_service_state\{.*\n`)

const wantStates = `daemontools_service_state{service="app",state="stopped"} 0
daemontools_service_state{service="app",state="starting"} 0
daemontools_service_state{service="app",state="started"} 0
daemontools_service_state{service="app",state="running"} 0
daemontools_service_state{service="app",state="stopping"} 0
daemontools_service_state{service="app",state="failed"} 0
daemontools_service_state{service="app",state="finishing"} 0
daemontools_service_state{service="app",state="waiting"} 1
daemontools_service_state{service="app",state="done"} 0
daemontools_service_state{service="migrate",state="stopped"} 0
daemontools_service_state{service="migrate",state="starting"} 0
daemontools_service_state{service="migrate",state="started"} 0
daemontools_service_state{service="migrate",state="running"} 0
daemontools_service_state{service="migrate",state="stopping"} 0
daemontools_service_state{service="migrate",state="failed"} 0
daemontools_service_state{service="migrate",state="finishing"} 0
daemontools_service_state{service="migrate",state="waiting"} 0
daemontools_service_state{service="migrate",state="done"} 1
`
