package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// formCase is a directory and what each form says of it.
type formCase struct {
	name, dir   string
	plain, long string         // after "DIR: "
	json        map[string]any // every key of the object but "service"
}

// formCases makes directories whose records say every kind of thing.
func formCases(t *testing.T) []formCase {
	root := t.TempDir()
	now := tai64.Now()
	ago := func(sec uint64) tai64.Label { return tai64.Label{Sec: now.Sec - sec, Nano: 5} }
	in := func(sec uint64) tai64.Label { return tai64.Label{Sec: now.Sec + sec, Nano: now.Nano} }
	up := status.Status{Since: ago(100), Pid: 1234, Want: 'u', State: status.Running, Restarts: 3, Exited: true, LastExit: status.Exit{Code: 1}}
	killed := status.Status{Since: ago(5), Want: 'u', State: status.Stopped, Restarts: 1, Exited: true,
		LastExit: status.Exit{Code: 256, Signal: 9}, NextStart: in(3)}
	finishing := status.Status{Since: ago(2), Want: 'd', State: status.Stopping, Finishing: true, Exited: true, LastExit: status.Exit{Code: 2}}
	failed := status.Status{Since: ago(7), Want: 'd', State: status.Failed, Restarts: 1, Exited: true, LastExit: status.Exit{Code: 0}}
	ready := status.Status{Since: ago(50), Pid: 99, Want: 'u', State: status.Running, Readiness: true, Ready: ago(40), Text: "serving"}
	hostile := ready
	hostile.Text = "ok\x1b]0;owned\x07\x1b[2J\rfake\u0085\u009b\x7f\ttab\nnext \xff caf\u00e9 \\x41"
	notReady := status.Status{Since: ago(50), Pid: 99, Want: 'u', State: status.Starting, Readiness: true}
	stopping := status.Status{Since: ago(50), Pid: 99, Want: 'd', State: status.Stopping}
	daemon := status.Status{Since: ago(9), Pid: 4321, Want: 'u', State: status.Running, FromPidfile: true, Restarts: 2}
	mainpid := status.Status{Since: ago(9), Pid: 4321, Want: 'u', State: status.Running, FromMainpid: true}
	probed := status.Status{Since: ago(3), Pid: 77, Want: 'u', State: status.Running, Restarts: 1, Exited: true,
		LastExit: status.Exit{Code: 256, Signal: 15, Unhealthy: true, Probe: "connection refused"},
		Health:   status.HealthUnhealthy, Failures: 2, Probe: "connection refused"}
	healthy := status.Status{Since: ago(3), Pid: 78, Want: 'u', State: status.Running, Health: status.HealthHealthy, Probe: "HTTP/1.0 200 OK"}
	daemontools := record(up)[:status.Size]
	runit := record(up)[:status.RunitSize]
	runitTerm := append(record(up)[:status.Size:status.Size], 1, 1)
	future := record(up)
	future[20] = 9

	base := func(upNow bool, pid int, sec uint64, want, state string) map[string]any {
		return map[string]any{"supervised": true, "up": upNow, "pid": float64(pid), "seconds": float64(sec),
			"normally_up": true, "paused": false, "want": want, "state": state, "ready": nil, "ready_seconds": nil,
			"restarts": float64(0), "exit_code": nil, "exit_signal": nil, "status_text": nil, "next_start_seconds": nil,
			"pid_from_pidfile": false, "pid_from_mainpid": false}
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	unknown := func(m map[string]any, why string) map[string]any {
		return with(m, "restarts", nil, "pid_from_pidfile", nil, "pid_from_mainpid", nil, "error", why)
	}
	return []formCase{
		{"up", service(t, root, "up", record(up), true, false), "up (pid 1234) 100 seconds",
			"up (pid 1234) 100 seconds, 3 restarts, last exit 1",
			with(base(true, 1234, 100, "up", "running"), "restarts", float64(3), "exit_code", float64(1), "exit_signal", float64(0))},
		{"killed, start due", service(t, root, "killed", record(killed), true, false), "down 5 seconds, normally up, want up",
			"down 5 seconds, normally up, want up, 1 restart, last killed by SIGKILL, next start in 3 seconds",
			with(base(false, 0, 5, "up", "stopped"), "restarts", float64(1), "exit_code", float64(256), "exit_signal", float64(9), "next_start_seconds", float64(3))},
		{"finishing", service(t, root, "finishing", record(finishing), true, false), "down 2 seconds, normally up",
			"down 2 seconds, normally up, finishing, 0 restarts, last exit 2",
			with(base(false, 0, 2, "down", "finishing"), "exit_code", float64(2), "exit_signal", float64(0))},
		{"failed", service(t, root, "failed", record(failed), true, false), "down 7 seconds, normally up",
			"down 7 seconds, normally up, failed, 1 restart, last exit 0",
			with(base(false, 0, 7, "down", "failed"), "restarts", float64(1), "exit_code", float64(0), "exit_signal", float64(0))},
		{"ready", service(t, root, "ready", record(ready), true, false), "up (pid 99) 50 seconds",
			"up (pid 99) 50 seconds, ready 40 seconds, 0 restarts, status: serving",
			with(base(true, 99, 50, "up", "running"), "ready", true, "ready_seconds", float64(40), "status_text", "serving")},
		{"status text with control characters", service(t, root, "hostile", record(hostile), true, false), "up (pid 99) 50 seconds",
			`up (pid 99) 50 seconds, ready 40 seconds, 0 restarts, status: ok\x1b]0;owned\x07\x1b[2J\x0dfake\u0085\u009b\x7f\x09tab next ? café \x41`,
			with(base(true, 99, 50, "up", "running"), "ready", true, "ready_seconds", float64(40), "status_text", "ok\x1b]0;owned\x07\x1b[2J\rfake\u0085\u009b\x7f\ttab\nnext \ufffd caf\u00e9 \\x41")},
		{"not ready", service(t, root, "notready", record(notReady), true, false), "up (pid 99) 50 seconds",
			"up (pid 99) 50 seconds, starting, not ready, 0 restarts",
			with(base(true, 99, 50, "up", "starting"), "ready", false)},
		{"stopping", service(t, root, "stopping", record(stopping), true, false), "up (pid 99) 50 seconds, want down",
			"up (pid 99) 50 seconds, want down, stopping, 0 restarts",
			base(true, 99, 50, "down", "stopping")},
		{"daemon from a pidfile", service(t, root, "daemon", record(daemon), true, false), "up (pid 4321) 9 seconds",
			"up (pid 4321) 9 seconds, pid from pidfile, 2 restarts",
			with(base(true, 4321, 9, "up", "running"), "restarts", float64(2), "pid_from_pidfile", true)},
		{"daemon named by MAINPID", service(t, root, "mainpid", record(mainpid), true, false), "up (pid 4321) 9 seconds",
			"up (pid 4321) 9 seconds, pid from MAINPID, 0 restarts",
			with(base(true, 4321, 9, "up", "running"), "pid_from_mainpid", true)},
		{"unhealthy, restarted by its probes", service(t, root, "probed", record(probed), true, false), "up (pid 77) 3 seconds",
			"up (pid 77) 3 seconds, unhealthy (2 failed: connection refused), 1 restart, last stopped: unhealthy (probe: connection refused), killed by SIGTERM",
			with(base(true, 77, 3, "up", "running"), "restarts", float64(1), "exit_code", float64(256), "exit_signal", float64(15),
				"health", "unhealthy", "health_failures", float64(2), "health_probe", "connection refused",
				"exit_unhealthy", true, "exit_probe", "connection refused")},
		{"healthy", service(t, root, "healthy", record(healthy), true, false), "up (pid 78) 3 seconds",
			"up (pid 78) 3 seconds, healthy, 0 restarts",
			with(base(true, 78, 3, "up", "running"), "health", "healthy", "health_failures", float64(0), "health_probe", "HTTP/1.0 200 OK",
				"exit_unhealthy", nil, "exit_probe", nil)},
		{"daemontools' record", service(t, root, "daemontools", daemontools, true, false), "up (pid 1234) 100 seconds",
			"up (pid 1234) 100 seconds; no extended status (written by another supervise)",
			unknown(base(true, 1234, 100, "up", "running"), "no extended status (written by another supervise)")},
		{"runit's record", service(t, root, "runit", runit, true, false), "up (pid 1234) 100 seconds",
			"up (pid 1234) 100 seconds; no extended status (written by another supervise)",
			unknown(base(true, 1234, 100, "up", "running"), "no extended status (written by another supervise)")},
		{"runit's record, got TERM", service(t, root, "runitterm", runitTerm, true, false), "up (pid 1234) 100 seconds",
			"up (pid 1234) 100 seconds; no extended status (written by another supervise)",
			unknown(base(true, 1234, 100, "up", "stopping"), "no extended status (written by another supervise)")},
		{"later layout", service(t, root, "future", future, true, false), "up (pid 1234) 100 seconds",
			"up (pid 1234) 100 seconds; unknown extended status: layout version 9",
			unknown(base(true, 1234, 100, "up", "running"), "unknown extended status: layout version 9")},
		{"short", service(t, root, "short", record(up)[:10], true, false), "unable to read supervise/status: bad format",
			"unable to read supervise/status: bad format",
			map[string]any{"supervised": true, "error": "unable to read supervise/status: bad format"}},
		{"not running", service(t, root, "stopped", record(up), false, true), "supervise not running", "supervise not running",
			map[string]any{"supervised": false, "error": "supervise not running"}},
		{"missing", filepath.Join(root, "missing"), "unable to chdir: file does not exist", "unable to chdir: file does not exist",
			map[string]any{"supervised": false, "normally_up": false, "error": "unable to chdir: file does not exist"}},
	}
}

// TestForms checks plain svstat (against daemontools' too), -l and -j on
// every kind of record, retrying while a second boundary falls in between
// (on a loaded machine, many times).
func TestForms(t *testing.T) {
	testbin.Path(t, "svstat") // built before the records' times are taken
	var problems []string
	if !svtest.Poll(10*time.Second, func() bool {
		cases := formCases(t)
		var dirs []string
		for _, c := range cases {
			dirs = append(dirs, c.dir)
		}
		problems = formProblems(t, cases, dirs)
		return len(problems) == 0
	}) {
		t.Fatal(strings.Join(problems, "\n"))
	}
}

func formProblems(t *testing.T, cases []formCase, dirs []string) []string {
	var problems []string
	run := func(prog string, args ...string) []string {
		out, err := exec.Command(prog, append(args, dirs...)...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", prog, args, err)
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != len(dirs) {
			t.Fatalf("%s %v: %d lines for %d directories:\n%s", prog, args, len(lines), len(dirs), out)
		}
		return lines
	}
	ours := testbin.Path(t, "svstat")
	plain, ref, long, js := run(ours), run(testbin.Reference(t, "svstat")), run(ours, "-l"), run(ours, "-j")
	for i, c := range cases {
		if want := c.dir + ": " + c.plain; plain[i] != want || ref[i] != want {
			problems = append(problems, c.name+": plain "+plain[i]+", daemontools "+ref[i]+", want "+want)
		}
		if want := c.dir + ": " + c.long; long[i] != want {
			problems = append(problems, c.name+": -l "+long[i]+", want "+want)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(js[i]), &got); err != nil {
			problems = append(problems, c.name+": -j "+js[i]+": "+err.Error())
			continue
		}
		if got["service"] != c.dir {
			problems = append(problems, c.name+": -j service "+js[i])
		}
		for k, v := range c.json {
			if !reflect.DeepEqual(got[k], v) {
				problems = append(problems, c.name+": -j "+js[i]+": key "+k)
			}
		}
		if _, ok := c.json["error"]; !ok {
			if _, has := got["error"]; has {
				problems = append(problems, c.name+": -j has an error: "+js[i])
			}
		}
	}
	return problems
}
