package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
)

const nodeExporter = "/usr/bin/prometheus-node-exporter"

// scrapeRunit runs Debian's node_exporter with its runit collector alone on
// the tree dir and returns its node_service_ lines, the time of each last
// change (a Unix time) checked against the service's status record and
// written T.
func scrapeRunit(t testing.TB, dir string) string {
	t.Helper()
	if _, err := os.Stat(nodeExporter); err != nil {
		t.Fatalf("node_exporter is missing (apt-get install prometheus-node-exporter): %v", err)
	}
	var body string
	svtest.WaitForNil(t, 10*time.Second, "node_exporter's metrics", func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(nodeExporter, "--collector.disable-defaults", "--collector.runit",
			"--collector.runit.servicedir="+dir, "--web.listen-address="+addr)
		g := svtest.Start(t, cmd)
		defer g.Cmd.Process.Kill()
		deadline := time.Now().Add(svtest.Scaled(3 * time.Second))
		for {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err == nil {
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				return err
			}
			if g.HasExited() || time.Now().After(deadline) {
				return err // the port was taken in between, say: again
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "node_service_") {
			continue
		}
		if strings.HasPrefix(line, "node_service_state_last_change_timestamp_seconds{") {
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			name := line[strings.Index(line, `service="`)+9:]
			name = name[:strings.IndexByte(name, '"')]
			s, _ := svtest.ReadStatus(t, filepath.Join(dir, name))
			if err != nil || int64(v) != int64(s.Since.Sec-tai64.Offset) {
				t.Errorf("%s: the status record says %d", line, s.Since.Sec-tai64.Offset)
			}
			line = line[:i+1] + "T"
		}
		fmt.Fprintln(&out, line)
	}
	return out.String()
}

// Prometheus' node_exporter (its runit collector) sees our services as
// runsv's: state, desired state, normal state and the time of the last
// change of a running, a stopped and a normally-down service.
func TestRunitNodeExporter(t *testing.T) {
	t.Parallel()
	said := sideBySide(t, func(t testing.TB, dir string) {
		makeService(t, filepath.Join(dir, "web"), "exec sleep 1000", "exec cat >/dev/null")
		makeService(t, filepath.Join(dir, "stopped"), "exec sleep 1000", "")
		makeService(t, filepath.Join(dir, "idle"), "exec sleep 1000", "")
		writeFile(t, filepath.Join(dir, "idle", "down"), "", 0o644)
	}, func(t testing.TB, dir string) string {
		tr := &transcript{t: t, dir: dir}
		tr.svUntil("run: DIR/web: (pid N) Ns; run: log: (pid N) Ns\n", "status", dir+"/web")
		tr.svUntil("down: DIR/idle: Ns\n", "status", dir+"/idle")
		tr.svUntil("run: DIR/stopped: (pid N) Ns\n", "status", dir+"/stopped")
		tr.sv("-w", "5", "down", dir+"/stopped")
		return tr.String() + scrapeRunit(t, dir)
	})
	// go-runit looks for DIR/NAME/supervise/down, which never exists:
	// every service is normally up to it, under runsv as under ours.
	want := `$ sv status DIR/web
run: DIR/web: (pid N) Ns; run: log: (pid N) Ns
$ sv status DIR/idle
down: DIR/idle: Ns
$ sv status DIR/stopped
run: DIR/stopped: (pid N) Ns
$ sv -w 5 down DIR/stopped
ok: down: DIR/stopped: Ns, normally up
# HELP node_service_desired_state Desired state of runit service.
# TYPE node_service_desired_state gauge
node_service_desired_state{service="idle",supervisor="runit"} 0
node_service_desired_state{service="stopped",supervisor="runit"} 0
node_service_desired_state{service="web",supervisor="runit"} 1
# HELP node_service_normal_state Normal state of runit service.
# TYPE node_service_normal_state gauge
node_service_normal_state{service="idle",supervisor="runit"} 1
node_service_normal_state{service="stopped",supervisor="runit"} 1
node_service_normal_state{service="web",supervisor="runit"} 1
# HELP node_service_state State of runit service.
# TYPE node_service_state gauge
node_service_state{service="idle",supervisor="runit"} 0
node_service_state{service="stopped",supervisor="runit"} 0
node_service_state{service="web",supervisor="runit"} 1
# HELP node_service_state_last_change_timestamp_seconds Unix timestamp of the last runit service state change.
# TYPE node_service_state_last_change_timestamp_seconds gauge
node_service_state_last_change_timestamp_seconds{service="idle",supervisor="runit"} T
node_service_state_last_change_timestamp_seconds{service="stopped",supervisor="runit"} T
node_service_state_last_change_timestamp_seconds{service="web",supervisor="runit"} T
`
	if said != want {
		t.Errorf("under runsvdir, sv and node_exporter say\n%s\nwant\n%s", said, want)
	}
}
