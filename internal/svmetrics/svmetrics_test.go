package svmetrics

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/status"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// makeService makes dir/name with record (none if nil) as its status file
// and an ok FIFO, which this test holds open for reading if supervised.
func makeService(t testing.TB, dir, name string, record []byte, supervised, down bool) {
	t.Helper()
	d := filepath.Join(dir, name)
	testbin.Must(t, os.MkdirAll(filepath.Join(d, "supervise"), 0o700))
	if down {
		testbin.Must(t, os.WriteFile(filepath.Join(d, "down"), nil, 0o644))
	}
	if record != nil {
		testbin.Must(t, os.WriteFile(filepath.Join(d, status.File), record, 0o644))
	}
	ok := filepath.Join(d, "supervise/ok")
	testbin.Must(t, syscall.Mkfifo(ok, 0o600))
	if supervised {
		fd, err := syscall.Open(ok, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
		testbin.Must(t, err)
		t.Cleanup(func() { syscall.Close(fd) })
	}
}

// serve answers GET path of the handler of dir at time now.
func serve(dir, path string, now tai64.Label) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	Handler(dir, func() tai64.Label { return now }).ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

// Records of every kind, written by hand: a crashed service with a
// logger not ready yet, a record of daemontools' own supervise, a
// service waiting for the one it needs, a one-shot task done, a service
// not supervised, one whose record is cut short and whose name is not
// UTF-8; a file, a dot directory and a dangling link, which are no
// services.
func TestPages(t *testing.T) {
	dir := t.TempDir()
	now := tai64.Label{Sec: tai64.Offset + 1_000_000, Nano: 500}
	ago := func(sec uint64) tai64.Label { return tai64.Label{Sec: now.Sec - sec} }
	crashed := status.Status{Since: ago(7), Want: status.WantUp, State: status.Stopped, Restarts: 4,
		Exited: true, LastExit: status.Exit{Code: 256, Signal: 9}, NextStart: tai64.Label{Sec: now.Sec + 1}}
	starting := status.Status{Since: ago(3), Pid: 42, Want: status.WantUp, State: status.Starting, Readiness: true}
	old := status.Status{Since: ago(100), Pid: 5, Want: status.WantUp}
	probed := status.Status{Since: ago(2), Pid: 43, Want: status.WantUp, State: status.Running,
		Health: status.HealthUnhealthy, Failures: 2, Probe: "connection refused"}
	makeService(t, dir, "crashed", crashed.Append(nil), true, false)
	makeService(t, dir, "crashed/log", starting.Append(nil), true, false)
	makeService(t, dir, "old", old.Append(nil)[:status.Size], true, true)
	needy := status.Status{Since: ago(5), Want: status.WantUp, State: status.Stopped, Waiting: status.WaitingString([]string{"db"})}
	task := status.Status{Since: ago(9), Want: status.WantUp, State: status.Stopped, Done: true, Exited: true}
	makeService(t, dir, "probed", probed.Append(nil), true, false)
	makeService(t, dir, "needy", needy.Append(nil), true, false)
	makeService(t, dir, "task", task.Append(nil), true, false)
	makeService(t, dir, "unsupervised", nil, false, false)
	makeService(t, dir, "bad\xff", []byte("short"), true, false)
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, ".hidden"), 0o755))
	testbin.Must(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))

	for _, c := range []struct {
		path, contentType string
		code              int
		body              string
	}{
		{"/metrics", "text/plain; version=0.0.4; charset=utf-8", 200, wantMetrics},
		{"/healthz", "text/plain; charset=utf-8", 503, "bad\uFFFD: unable to read supervise/status: bad format\n" +
			"crashed: down\ncrashed/log: not ready\nneedy: waiting for db\nprobed: unhealthy (probe: connection refused)\n" +
			"unsupervised: supervise not running\n"},
		{"/status", "application/json", 200, `[
{"service":"bad\ufffd","supervised":true,"up":false,"pid":0,"seconds":null,"normally_up":true,"paused":false,"want":"","state":null,"ready":null,"ready_seconds":null,"restarts":null,"exit_code":null,"exit_signal":null,"exit_watchdog":null,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":null,"pid_from_mainpid":null,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":null,"exit_probe":null,"waiting_for":null,"error":"unable to read supervise/status: bad format"},
{"service":"crashed","supervised":true,"up":false,"pid":0,"seconds":7,"normally_up":true,"paused":false,"want":"up","state":"stopped","ready":null,"ready_seconds":null,"restarts":4,"exit_code":256,"exit_signal":9,"exit_watchdog":false,"status_text":null,"next_start_seconds":1,"pid_from_pidfile":false,"pid_from_mainpid":false,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":false,"exit_probe":null,"waiting_for":null},
{"service":"crashed/log","supervised":true,"up":true,"pid":42,"seconds":3,"normally_up":true,"paused":false,"want":"up","state":"starting","ready":false,"ready_seconds":null,"restarts":0,"exit_code":null,"exit_signal":null,"exit_watchdog":null,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":false,"pid_from_mainpid":false,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":null,"exit_probe":null,"waiting_for":null},
{"service":"needy","supervised":true,"up":false,"pid":0,"seconds":5,"normally_up":true,"paused":false,"want":"up","state":"waiting","ready":null,"ready_seconds":null,"restarts":0,"exit_code":null,"exit_signal":null,"exit_watchdog":null,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":false,"pid_from_mainpid":false,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":null,"exit_probe":null,"waiting_for":["db"]},
{"service":"old","supervised":true,"up":true,"pid":5,"seconds":100,"normally_up":false,"paused":false,"want":"up","state":"running","ready":null,"ready_seconds":null,"restarts":null,"exit_code":null,"exit_signal":null,"exit_watchdog":null,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":null,"pid_from_mainpid":null,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":null,"exit_probe":null,"waiting_for":null,"error":"no extended status (written by another supervise)"},
{"service":"probed","supervised":true,"up":true,"pid":43,"seconds":2,"normally_up":true,"paused":false,"want":"up","state":"running","ready":null,"ready_seconds":null,"restarts":0,"exit_code":null,"exit_signal":null,"exit_watchdog":null,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":false,"pid_from_mainpid":false,"start_error":null,"health":"unhealthy","health_failures":2,"health_probe":"connection refused","exit_unhealthy":null,"exit_probe":null,"waiting_for":null},
{"service":"task","supervised":true,"up":false,"pid":0,"seconds":9,"normally_up":true,"paused":false,"want":"up","state":"done","ready":null,"ready_seconds":null,"restarts":0,"exit_code":0,"exit_signal":0,"exit_watchdog":false,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":false,"pid_from_mainpid":false,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":false,"exit_probe":null,"waiting_for":null},
{"service":"unsupervised","supervised":false,"up":false,"pid":0,"seconds":null,"normally_up":true,"paused":false,"want":"","state":null,"ready":null,"ready_seconds":null,"restarts":null,"exit_code":null,"exit_signal":null,"exit_watchdog":null,"status_text":null,"next_start_seconds":null,"pid_from_pidfile":null,"pid_from_mainpid":null,"start_error":null,"health":null,"health_failures":null,"health_probe":null,"exit_unhealthy":null,"exit_probe":null,"waiting_for":null,"error":"supervise not running"}
]
`},
		{"/", "text/plain; charset=utf-8", 200, "svmetrics of " + dir + ": /metrics /healthz /status\n"},
		{"/nothing", "text/plain; charset=utf-8", 404, "404 page not found\n"},
	} {
		w := serve(dir, c.path, now)
		if w.Code != c.code || w.Header().Get("Content-Type") != c.contentType || w.Body.String() != c.body {
			t.Errorf("GET %s: %d %q\n%s\nwant %d %q\n%s", c.path, w.Code, w.Header().Get("Content-Type"), w.Body, c.code, c.contentType, c.body)
		}
	}
	// Prometheus' own checker takes it, the name that was not UTF-8 too.
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = strings.NewReader(wantMetrics)
	if out, err := check.CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

const wantMetrics = `# HELP daemontools_service_supervised 1 while a supervisor (supervise, or svscan -1) runs for the service.
# TYPE daemontools_service_supervised gauge
daemontools_service_supervised{service="bad�"} 1
daemontools_service_supervised{service="crashed"} 1
daemontools_service_supervised{service="crashed/log"} 1
daemontools_service_supervised{service="needy"} 1
daemontools_service_supervised{service="old"} 1
daemontools_service_supervised{service="probed"} 1
daemontools_service_supervised{service="task"} 1
daemontools_service_supervised{service="unsupervised"} 0
# HELP daemontools_service_normally_up 1 when the service directory has no file down.
# TYPE daemontools_service_normally_up gauge
daemontools_service_normally_up{service="bad�"} 1
daemontools_service_normally_up{service="crashed"} 1
daemontools_service_normally_up{service="crashed/log"} 1
daemontools_service_normally_up{service="needy"} 1
daemontools_service_normally_up{service="old"} 0
daemontools_service_normally_up{service="probed"} 1
daemontools_service_normally_up{service="task"} 1
daemontools_service_normally_up{service="unsupervised"} 1
# HELP daemontools_service_up 1 while ./run, or the daemon it started, runs.
# TYPE daemontools_service_up gauge
daemontools_service_up{service="bad�"} 0
daemontools_service_up{service="crashed"} 0
daemontools_service_up{service="crashed/log"} 1
daemontools_service_up{service="needy"} 0
daemontools_service_up{service="old"} 1
daemontools_service_up{service="probed"} 1
daemontools_service_up{service="task"} 0
daemontools_service_up{service="unsupervised"} 0
# HELP daemontools_service_ready 1 while the service is up and has said it is ready (up is enough without notification-fd or notify-socket).
# TYPE daemontools_service_ready gauge
daemontools_service_ready{service="bad�"} 0
daemontools_service_ready{service="crashed"} 0
daemontools_service_ready{service="crashed/log"} 0
daemontools_service_ready{service="needy"} 0
daemontools_service_ready{service="old"} 1
daemontools_service_ready{service="probed"} 1
daemontools_service_ready{service="task"} 1
daemontools_service_ready{service="unsupervised"} 0
# HELP daemontools_service_healthy 1 while the service is up and its latest health probe passed (up is enough without a probe).
# TYPE daemontools_service_healthy gauge
daemontools_service_healthy{service="bad�"} 0
daemontools_service_healthy{service="crashed"} 0
daemontools_service_healthy{service="crashed/log"} 1
daemontools_service_healthy{service="needy"} 0
daemontools_service_healthy{service="old"} 1
daemontools_service_healthy{service="probed"} 0
daemontools_service_healthy{service="task"} 0
daemontools_service_healthy{service="unsupervised"} 0
# HELP daemontools_service_health_failures Health probes failed in a row since the latest start, past the grace; none without a probe.
# TYPE daemontools_service_health_failures gauge
daemontools_service_health_failures{service="probed"} 2
# HELP daemontools_service_paused 1 while the service is stopped by svc -p.
# TYPE daemontools_service_paused gauge
daemontools_service_paused{service="crashed"} 0
daemontools_service_paused{service="crashed/log"} 0
daemontools_service_paused{service="needy"} 0
daemontools_service_paused{service="old"} 0
daemontools_service_paused{service="probed"} 0
daemontools_service_paused{service="task"} 0
# HELP daemontools_service_seconds Seconds since the service last went up or down, as svstat counts them.
# TYPE daemontools_service_seconds gauge
daemontools_service_seconds{service="crashed"} 7
daemontools_service_seconds{service="crashed/log"} 3
daemontools_service_seconds{service="needy"} 5
daemontools_service_seconds{service="old"} 100
daemontools_service_seconds{service="probed"} 2
daemontools_service_seconds{service="task"} 9
# HELP daemontools_service_want What the service is wanted to do: up, down, or none (after svc -o).
# TYPE daemontools_service_want gauge
daemontools_service_want{service="crashed",want="up"} 1
daemontools_service_want{service="crashed",want="down"} 0
daemontools_service_want{service="crashed",want="none"} 0
daemontools_service_want{service="crashed/log",want="up"} 1
daemontools_service_want{service="crashed/log",want="down"} 0
daemontools_service_want{service="crashed/log",want="none"} 0
daemontools_service_want{service="needy",want="up"} 1
daemontools_service_want{service="needy",want="down"} 0
daemontools_service_want{service="needy",want="none"} 0
daemontools_service_want{service="old",want="up"} 1
daemontools_service_want{service="old",want="down"} 0
daemontools_service_want{service="old",want="none"} 0
daemontools_service_want{service="probed",want="up"} 1
daemontools_service_want{service="probed",want="down"} 0
daemontools_service_want{service="probed",want="none"} 0
daemontools_service_want{service="task",want="up"} 1
daemontools_service_want{service="task",want="down"} 0
daemontools_service_want{service="task",want="none"} 0
# HELP daemontools_service_state The service's state, as svstat -j names it.
# TYPE daemontools_service_state gauge
daemontools_service_state{service="crashed",state="stopped"} 1
daemontools_service_state{service="crashed",state="starting"} 0
daemontools_service_state{service="crashed",state="started"} 0
daemontools_service_state{service="crashed",state="running"} 0
daemontools_service_state{service="crashed",state="stopping"} 0
daemontools_service_state{service="crashed",state="failed"} 0
daemontools_service_state{service="crashed",state="finishing"} 0
daemontools_service_state{service="crashed",state="waiting"} 0
daemontools_service_state{service="crashed",state="done"} 0
daemontools_service_state{service="crashed/log",state="stopped"} 0
daemontools_service_state{service="crashed/log",state="starting"} 1
daemontools_service_state{service="crashed/log",state="started"} 0
daemontools_service_state{service="crashed/log",state="running"} 0
daemontools_service_state{service="crashed/log",state="stopping"} 0
daemontools_service_state{service="crashed/log",state="failed"} 0
daemontools_service_state{service="crashed/log",state="finishing"} 0
daemontools_service_state{service="crashed/log",state="waiting"} 0
daemontools_service_state{service="crashed/log",state="done"} 0
daemontools_service_state{service="needy",state="stopped"} 0
daemontools_service_state{service="needy",state="starting"} 0
daemontools_service_state{service="needy",state="started"} 0
daemontools_service_state{service="needy",state="running"} 0
daemontools_service_state{service="needy",state="stopping"} 0
daemontools_service_state{service="needy",state="failed"} 0
daemontools_service_state{service="needy",state="finishing"} 0
daemontools_service_state{service="needy",state="waiting"} 1
daemontools_service_state{service="needy",state="done"} 0
daemontools_service_state{service="old",state="stopped"} 0
daemontools_service_state{service="old",state="starting"} 0
daemontools_service_state{service="old",state="started"} 0
daemontools_service_state{service="old",state="running"} 1
daemontools_service_state{service="old",state="stopping"} 0
daemontools_service_state{service="old",state="failed"} 0
daemontools_service_state{service="old",state="finishing"} 0
daemontools_service_state{service="old",state="waiting"} 0
daemontools_service_state{service="old",state="done"} 0
daemontools_service_state{service="probed",state="stopped"} 0
daemontools_service_state{service="probed",state="starting"} 0
daemontools_service_state{service="probed",state="started"} 0
daemontools_service_state{service="probed",state="running"} 1
daemontools_service_state{service="probed",state="stopping"} 0
daemontools_service_state{service="probed",state="failed"} 0
daemontools_service_state{service="probed",state="finishing"} 0
daemontools_service_state{service="probed",state="waiting"} 0
daemontools_service_state{service="probed",state="done"} 0
daemontools_service_state{service="task",state="stopped"} 0
daemontools_service_state{service="task",state="starting"} 0
daemontools_service_state{service="task",state="started"} 0
daemontools_service_state{service="task",state="running"} 0
daemontools_service_state{service="task",state="stopping"} 0
daemontools_service_state{service="task",state="failed"} 0
daemontools_service_state{service="task",state="finishing"} 0
daemontools_service_state{service="task",state="waiting"} 0
daemontools_service_state{service="task",state="done"} 1
# HELP daemontools_service_restarts_total Starts of ./run since the supervisor began, less one.
# TYPE daemontools_service_restarts_total counter
daemontools_service_restarts_total{service="crashed"} 4
daemontools_service_restarts_total{service="crashed/log"} 0
daemontools_service_restarts_total{service="needy"} 0
daemontools_service_restarts_total{service="probed"} 0
daemontools_service_restarts_total{service="task"} 0
# HELP daemontools_service_last_exit_code Exit code of ./run's last exit (256 when a signal killed it); none before the first.
# TYPE daemontools_service_last_exit_code gauge
daemontools_service_last_exit_code{service="crashed"} 256
daemontools_service_last_exit_code{service="task"} 0
# HELP daemontools_service_last_exit_signal The signal that killed ./run at its last exit, else 0; none before the first exit.
# TYPE daemontools_service_last_exit_signal gauge
daemontools_service_last_exit_signal{service="crashed"} 9
daemontools_service_last_exit_signal{service="task"} 0
`

// Every page of a scan directory that cannot be read is a 500 saying
// why; what is not GET or HEAD is a 405.
func TestErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	w := serve(missing, "/metrics", tai64.Now())
	if want := "unable to read " + missing + ": file does not exist\n"; w.Code != 500 || w.Body.String() != want {
		t.Errorf("GET /metrics of a missing directory: %d %q, want 500 %q", w.Code, w.Body, want)
	}
	w = httptest.NewRecorder()
	Handler(t.TempDir(), tai64.Now).ServeHTTP(w, httptest.NewRequest("POST", "/healthz", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /healthz: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

// A label value escapes what the text format says to, and nothing more.
func TestEscape(t *testing.T) {
	for name, want := range map[string]string{
		"web":          "web",
		`q"\x`:         `q\"\\x`,
		"new\nline":    `new\nline`,
		"tab\there":    "tab\there",
		"bad\xff\xfeé": "bad\uFFFD\u00e9",
	} {
		if got := escape(name); got != want {
			t.Errorf("escape(%q) = %q, want %q", name, got, want)
		}
	}
}
