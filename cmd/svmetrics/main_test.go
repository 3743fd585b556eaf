package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { svtest.Main(m) }

func TestUsageAndFatal(t *testing.T) {
	t.Parallel()
	dir := testbin.PublicDir(t)
	missing := testbin.Missing(t)
	file := filepath.Join(dir, "file")
	testbin.Must(t, os.WriteFile(file, nil, 0o644))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	testbin.Must(t, err)
	defer taken.Close()
	usage := testbin.Usage("svmetrics: usage: svmetrics [-l host:port] dir")
	for _, c := range []struct {
		args []string
		want testbin.Result
	}{
		{nil, usage},
		{[]string{dir, dir}, usage},
		{[]string{"-l"}, testbin.Result{Stderr: "svmetrics: option requires an argument -- l\n" + usage.Stderr, Code: 100}},
		{[]string{"-z", dir}, testbin.Result{Stderr: "svmetrics: illegal option -- z\n" + usage.Stderr, Code: 100}},
		{[]string{"-l", "127.0.0.1", dir}, usage},
		{[]string{"-l", "127.0.0.1:http", dir}, usage},
		{[]string{"-l", "127.0.0.1:65536", dir}, usage},
		{[]string{missing}, testbin.Fatal("svmetrics: fatal: unable to open " + missing + ": file does not exist")},
		{[]string{file}, testbin.Fatal("svmetrics: fatal: unable to open " + file + ": not a directory")},
		{[]string{"-l", taken.Addr().String(), dir}, testbin.Fatal("svmetrics: fatal: unable to bind " + taken.Addr().String() + ": address already used")},
		{[]string{"-l", "192.0.2.1:80", dir}, testbin.Fatal("svmetrics: fatal: unable to bind 192.0.2.1:80: address not available")},
		// Not a name (two dots in a row): refused without asking DNS.
		{[]string{"-l", "a..b:80", dir}, testbin.Fatal("svmetrics: fatal: unable to bind a..b:80: host not found")},
	} {
		cmd := exec.Command(testbin.Path(t, "svmetrics"), c.args...)
		if got := testbin.RunWithin(t, cmd, svtest.Scaled(testbin.Hang)); got != c.want {
			t.Errorf("svmetrics %q:\ngot:  %+v\nwant: %+v", c.args, got, c.want)
		}
	}
}

// freePort is a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testbin.Must(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startSvmetrics runs svmetrics on the scan directory dir and returns its
// URL once it answers.
func startSvmetrics(t *testing.T, dir string) string {
	t.Helper()
	address := "127.0.0.1:" + freePort(t)
	cmd := exec.Command(testbin.Path(t, "svmetrics"), "-l", address, dir)
	stderr := filepath.Join(t.TempDir(), "stderr")
	cmd.Stderr = svtest.Create(t, stderr)
	g := svtest.Start(t, cmd)
	url := "http://" + address
	svtest.WaitFor(t, 5*time.Second, "svmetrics to answer", func() bool {
		if g.HasExited() {
			b, _ := os.ReadFile(stderr)
			t.Fatalf("svmetrics exited: %s", b)
		}
		_, err := fetch(url + "/healthz")
		return err == nil
	})
	t.Cleanup(func() {
		if b, _ := os.ReadFile(stderr); len(b) != 0 {
			t.Errorf("svmetrics wrote to stderr: %s", b)
		}
	})
	return url
}

// startSvscan runs svscan with flags on dir, with our programs first in
// $PATH.
func startSvscan(t *testing.T, dir string, flags ...string) {
	t.Helper()
	cmd := exec.Command(testbin.Path(t, "svscan"), append(flags, dir)...)
	cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
	cmd.Stderr = svtest.Create(t, filepath.Join(t.TempDir(), "stderr"))
	svtest.Start(t, cmd)
}

// page is an answer of svmetrics.
type page struct {
	code        int
	contentType string
	body        string
}

func get(t *testing.T, url string) page {
	t.Helper()
	p, err := fetch(url)
	testbin.Must(t, err)
	return p
}

func fetch(url string) (page, error) {
	resp, err := http.Get(url)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header.Get("Content-Type"), string(body)}, err
}

// waitPage waits until url answers want, or answers at all.
func waitPage(t *testing.T, url string, want page) {
	t.Helper()
	var got page
	var err error
	if !svtest.Poll(10*time.Second, func() bool { got, err = fetch(url); return got == want }) {
		t.Fatalf("GET %s: %+v (%v), want %+v", url, got, err, want)
	}
}

var (
	secondsRE = regexp.MustCompile(`(?m)^(daemontools_service_seconds\{.*\}) \d+$`)
	jsonSecRE = regexp.MustCompile(`"(seconds|ready_seconds)":\d+`)
)

const (
	textType    = "text/plain; charset=utf-8"
	metricsType = "text/plain; version=0.0.4; charset=utf-8"
)

// svmetrics beside a real svscan, in both modes, with a service and its
// logger, a normally-down service started once and paused, one with
// readiness, and one whose name needs escaping: /healthz follows each
// change, /metrics says exactly what the records say (and promtool
// accepts it), /status is svstat -j's objects.
func TestServesScanDirectory(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{nil, {"-1"}} {
		t.Run(strings.Join(append([]string{"svscan"}, mode...), " "), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(testbin.PublicDir(t), "service")
			weird := `q"\x`
			svtest.NewService(t, dir+"/a", "exec sleep 1000")
			svtest.NewService(t, dir+"/a/log", "exec cat >/dev/null")
			svtest.NewService(t, dir+"/b", "exec sleep 1000")
			svtest.NewService(t, dir+"/n", "read line <gate\necho >&3\nexec sleep 1000")
			svtest.NewService(t, dir+"/"+weird, "exec sleep 1000")
			svtest.NewService(t, dir+"/.hidden", "exec sleep 1000")
			testbin.Must(t, os.WriteFile(dir+"/b/down", nil, 0o644))
			testbin.Must(t, os.WriteFile(dir+"/"+weird+"/down", nil, 0o644))
			testbin.Must(t, os.WriteFile(dir+"/n/notification-fd", []byte("3\n"), 0o644))
			testbin.Must(t, syscall.Mkfifo(dir+"/n/gate", 0o600))
			testbin.Must(t, os.WriteFile(dir+"/README", nil, 0o644))
			startSvscan(t, dir, mode...)
			url := startSvmetrics(t, dir)
			svc := testbin.Path(t, "svc")

			waitPage(t, url+"/healthz", page{503, textType, "n: not ready\n"})
			gate, err := os.OpenFile(dir+"/n/gate", os.O_WRONLY, 0)
			testbin.Must(t, err)
			gate.WriteString("\n")
			gate.Close()
			waitPage(t, url+"/healthz", page{200, textType, "ok\n"})
			svtest.Svc(t, svc, "-d", dir+"/a")
			waitPage(t, url+"/healthz", page{503, textType, "a: down\n"})
			svtest.Svc(t, svc, "-u", dir+"/a")
			waitPage(t, url+"/healthz", page{200, textType, "ok\n"})
			svtest.Svc(t, svc, "-o", dir+"/b")
			svtest.Svc(t, svc, "-p", dir+"/b")
			svtest.WaitFor(t, 10*time.Second, "b up and paused", func() bool {
				return strings.Contains(get(t, url+"/metrics").body, `daemontools_service_paused{service="b"} 1`)
			})

			got := get(t, url+"/metrics")
			if got.code != 200 || got.contentType != metricsType {
				t.Errorf("GET /metrics: %d %q", got.code, got.contentType)
			}
			if body := secondsRE.ReplaceAllString(got.body, "$1 N"); body != wantMetrics {
				t.Errorf("GET /metrics:\n%s\nwant:\n%s", body, wantMetrics)
			}
			check := exec.Command("promtool", "check", "metrics")
			check.Stdin = strings.NewReader(got.body)
			if out, err := check.CombinedOutput(); err != nil || len(out) != 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}

			// /status is svstat -j's objects, named as /metrics names them.
			names := []string{"a", "a/log", "b", "n", weird}
			svstat := exec.Command(testbin.Path(t, "svstat"), "-j")
			for _, name := range names {
				svstat.Args = append(svstat.Args, dir+"/"+name)
			}
			out, err := svstat.Output()
			testbin.Must(t, err)
			objects := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(objects) != len(names) {
				t.Fatalf("svstat -j: %d objects:\n%s", len(objects), out)
			}
			for i, name := range names {
				objects[i] = strings.Replace(objects[i], strconv.Quote(dir+"/"+name), strconv.Quote(name), 1)
			}
			want := page{200, "application/json", "[\n" + strings.Join(objects, ",\n") + "\n]\n"}
			got = get(t, url+"/status")
			got.body = jsonSecRE.ReplaceAllString(got.body, `"$1":N`)
			want.body = jsonSecRE.ReplaceAllString(want.body, `"$1":N`)
			if got != want {
				t.Errorf("GET /status:\n%+v\nwant:\n%+v", got, want)
			}
		})
	}
}

// What /metrics says at the end of TestServesScanDirectory, seconds left
// out.
const wantMetrics = `# HELP daemontools_service_supervised 1 while a supervisor (supervise, or svscan -1) runs for the service.
# TYPE daemontools_service_supervised gauge
daemontools_service_supervised{service="a"} 1
daemontools_service_supervised{service="a/log"} 1
daemontools_service_supervised{service="b"} 1
daemontools_service_supervised{service="n"} 1
daemontools_service_supervised{service="q\"\\x"} 1
# HELP daemontools_service_normally_up 1 when the service directory has no file down.
# TYPE daemontools_service_normally_up gauge
daemontools_service_normally_up{service="a"} 1
daemontools_service_normally_up{service="a/log"} 1
daemontools_service_normally_up{service="b"} 0
daemontools_service_normally_up{service="n"} 1
daemontools_service_normally_up{service="q\"\\x"} 0
# HELP daemontools_service_up 1 while ./run, or the daemon it started, runs.
# TYPE daemontools_service_up gauge
daemontools_service_up{service="a"} 1
daemontools_service_up{service="a/log"} 1
daemontools_service_up{service="b"} 1
daemontools_service_up{service="n"} 1
daemontools_service_up{service="q\"\\x"} 0
# HELP daemontools_service_ready 1 while the service is up and has said it is ready (up is enough without notification-fd or notify-socket).
# TYPE daemontools_service_ready gauge
daemontools_service_ready{service="a"} 1
daemontools_service_ready{service="a/log"} 1
daemontools_service_ready{service="b"} 1
daemontools_service_ready{service="n"} 1
daemontools_service_ready{service="q\"\\x"} 0
# HELP daemontools_service_healthy 1 while the service is up and its latest health probe passed (up is enough without a probe).
# TYPE daemontools_service_healthy gauge
daemontools_service_healthy{service="a"} 1
daemontools_service_healthy{service="a/log"} 1
daemontools_service_healthy{service="b"} 1
daemontools_service_healthy{service="n"} 1
daemontools_service_healthy{service="q\"\\x"} 0
# HELP daemontools_service_health_failures Health probes failed in a row since the latest start, past the grace; none without a probe.
# TYPE daemontools_service_health_failures gauge
# HELP daemontools_service_paused 1 while the service is stopped by svc -p.
# TYPE daemontools_service_paused gauge
daemontools_service_paused{service="a"} 0
daemontools_service_paused{service="a/log"} 0
daemontools_service_paused{service="b"} 1
daemontools_service_paused{service="n"} 0
daemontools_service_paused{service="q\"\\x"} 0
# HELP daemontools_service_seconds Seconds since the service last went up or down, as svstat counts them.
# TYPE daemontools_service_seconds gauge
daemontools_service_seconds{service="a"} N
daemontools_service_seconds{service="a/log"} N
daemontools_service_seconds{service="b"} N
daemontools_service_seconds{service="n"} N
daemontools_service_seconds{service="q\"\\x"} N
# HELP daemontools_service_want What the service is wanted to do: up, down, or none (after svc -o).
# TYPE daemontools_service_want gauge
daemontools_service_want{service="a",want="up"} 1
daemontools_service_want{service="a",want="down"} 0
daemontools_service_want{service="a",want="none"} 0
daemontools_service_want{service="a/log",want="up"} 1
daemontools_service_want{service="a/log",want="down"} 0
daemontools_service_want{service="a/log",want="none"} 0
daemontools_service_want{service="b",want="up"} 0
daemontools_service_want{service="b",want="down"} 0
daemontools_service_want{service="b",want="none"} 1
daemontools_service_want{service="n",want="up"} 1
daemontools_service_want{service="n",want="down"} 0
daemontools_service_want{service="n",want="none"} 0
daemontools_service_want{service="q\"\\x",want="up"} 0
daemontools_service_want{service="q\"\\x",want="down"} 1
daemontools_service_want{service="q\"\\x",want="none"} 0
# HELP daemontools_service_state The service's state, as svstat -j names it.
# TYPE daemontools_service_state gauge
daemontools_service_state{service="a",state="stopped"} 0
daemontools_service_state{service="a",state="starting"} 0
daemontools_service_state{service="a",state="started"} 0
daemontools_service_state{service="a",state="running"} 1
daemontools_service_state{service="a",state="stopping"} 0
daemontools_service_state{service="a",state="failed"} 0
daemontools_service_state{service="a",state="finishing"} 0
daemontools_service_state{service="a",state="waiting"} 0
daemontools_service_state{service="a",state="done"} 0
daemontools_service_state{service="a/log",state="stopped"} 0
daemontools_service_state{service="a/log",state="starting"} 0
daemontools_service_state{service="a/log",state="started"} 0
daemontools_service_state{service="a/log",state="running"} 1
daemontools_service_state{service="a/log",state="stopping"} 0
daemontools_service_state{service="a/log",state="failed"} 0
daemontools_service_state{service="a/log",state="finishing"} 0
daemontools_service_state{service="a/log",state="waiting"} 0
daemontools_service_state{service="a/log",state="done"} 0
daemontools_service_state{service="b",state="stopped"} 0
daemontools_service_state{service="b",state="starting"} 0
daemontools_service_state{service="b",state="started"} 0
daemontools_service_state{service="b",state="running"} 1
daemontools_service_state{service="b",state="stopping"} 0
daemontools_service_state{service="b",state="failed"} 0
daemontools_service_state{service="b",state="finishing"} 0
daemontools_service_state{service="b",state="waiting"} 0
daemontools_service_state{service="b",state="done"} 0
daemontools_service_state{service="n",state="stopped"} 0
daemontools_service_state{service="n",state="starting"} 0
daemontools_service_state{service="n",state="started"} 0
daemontools_service_state{service="n",state="running"} 1
daemontools_service_state{service="n",state="stopping"} 0
daemontools_service_state{service="n",state="failed"} 0
daemontools_service_state{service="n",state="finishing"} 0
daemontools_service_state{service="n",state="waiting"} 0
daemontools_service_state{service="n",state="done"} 0
daemontools_service_state{service="q\"\\x",state="stopped"} 1
daemontools_service_state{service="q\"\\x",state="starting"} 0
daemontools_service_state{service="q\"\\x",state="started"} 0
daemontools_service_state{service="q\"\\x",state="running"} 0
daemontools_service_state{service="q\"\\x",state="stopping"} 0
daemontools_service_state{service="q\"\\x",state="failed"} 0
daemontools_service_state{service="q\"\\x",state="finishing"} 0
daemontools_service_state{service="q\"\\x",state="waiting"} 0
daemontools_service_state{service="q\"\\x",state="done"} 0
# HELP daemontools_service_restarts_total Starts of ./run since the supervisor began, less one.
# TYPE daemontools_service_restarts_total counter
daemontools_service_restarts_total{service="a"} 1
daemontools_service_restarts_total{service="a/log"} 0
daemontools_service_restarts_total{service="b"} 0
daemontools_service_restarts_total{service="n"} 0
daemontools_service_restarts_total{service="q\"\\x"} 0
# HELP daemontools_service_last_exit_code Exit code of ./run's last exit (256 when a signal killed it); none before the first.
# TYPE daemontools_service_last_exit_code gauge
daemontools_service_last_exit_code{service="a"} 256
# HELP daemontools_service_last_exit_signal The signal that killed ./run at its last exit, else 0; none before the first exit.
# TYPE daemontools_service_last_exit_signal gauge
daemontools_service_last_exit_signal{service="a"} 15
`

// svmetrics as it is meant to run, a service of the scan directory it
// serves, in both modes: it reports itself up, and svc -d stops it.
func TestRunsAsService(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{nil, {"-1"}} {
		t.Run(strings.Join(append([]string{"svscan"}, mode...), " "), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(testbin.PublicDir(t), "service")
			address := "127.0.0.1:" + freePort(t)
			svtest.NewService(t, dir+"/metrics", "exec svmetrics -l "+address+" "+dir)
			startSvscan(t, dir, mode...)
			url := "http://" + address
			waitPage(t, url+"/healthz", page{200, textType, "ok\n"})
			if body := get(t, url+"/metrics").body; !strings.Contains(body, "\ndaemontools_service_up{service=\"metrics\"} 1\n") {
				t.Errorf("GET /metrics: not up itself:\n%s", body)
			}
			svtest.Svc(t, testbin.Path(t, "svc"), "-d", dir+"/metrics")
			svtest.WaitFor(t, 10*time.Second, "svmetrics to stop answering", func() bool {
				_, err := fetch(url + "/healthz")
				return err != nil
			})
		})
	}
}
