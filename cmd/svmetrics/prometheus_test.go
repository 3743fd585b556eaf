package main

import (
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A real Prometheus server (Debian's) scrapes svmetrics every 100 ms and
// answers queries of what it scraped through its HTTP API: the up metric
// of a named service, 1, then 0 once the service is stopped. (Its first
// scrape comes about 5 s after it starts: it applies new targets at that
// interval.)
func TestPrometheusScrapes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testbin.PublicDir(t), "service")
	svtest.NewService(t, dir+"/web", "exec sleep 1000")
	svtest.NewService(t, dir+"/web/log", "exec cat >/dev/null")
	startSvscan(t, dir)
	target := strings.TrimPrefix(startSvmetrics(t, dir), "http://")

	work := t.TempDir()
	config := filepath.Join(work, "prometheus.yml")
	testbin.Must(t, os.WriteFile(config, []byte(`global:
  scrape_interval: 100ms
  scrape_timeout: 100ms
scrape_configs:
  - job_name: svmetrics
    static_configs:
      - targets: ['`+target+`']
`), 0o644))
	api := "127.0.0.1:" + freePort(t)
	prometheus := exec.Command("prometheus", "--config.file="+config, "--storage.tsdb.path="+filepath.Join(work, "data"),
		"--web.listen-address="+api, "--log.level=error")
	log := filepath.Join(work, "log")
	prometheus.Stdout, prometheus.Stderr = svtest.Create(t, log), svtest.Create(t, log+".err")
	g := svtest.Start(t, prometheus)

	// query returns the one sample of promql's instant vector, and false
	// while there is none.
	type sample struct {
		Metric map[string]string
		Value  [2]any
	}
	query := func(promql string) (sample, bool) {
		if g.HasExited() {
			b, _ := os.ReadFile(log + ".err")
			t.Fatalf("prometheus exited: %s", b)
		}
		var answer struct {
			Status string
			Data   struct{ Result []sample }
		}
		resp, err := fetch("http://" + api + "/api/v1/query?query=" + url.QueryEscape(promql))
		if err != nil || resp.code == 503 {
			return sample{}, false // not listening, or not ready, yet
		}
		if err := json.Unmarshal([]byte(resp.body), &answer); err != nil || answer.Status != "success" {
			t.Fatalf("query %s: %v %+v", promql, err, resp)
		}
		if len(answer.Data.Result) != 1 {
			return sample{}, false
		}
		return answer.Data.Result[0], true
	}
	// wait waits until promql's value is value, and checks the labels
	// Prometheus gives it.
	wait := func(promql, value string, labels map[string]string) {
		t.Helper()
		var got sample
		var ok bool
		if !svtest.Poll(30*time.Second, func() bool { got, ok = query(promql); return ok && got.Value[1] == value }) {
			t.Fatalf("query %s: %+v (found %v), want the value %q", promql, got, ok, value)
		}
		if !maps.Equal(got.Metric, labels) {
			t.Errorf("query %s: labels %v, want %v", promql, got.Metric, labels)
		}
	}
	labels := func(name, service string) map[string]string {
		l := map[string]string{"__name__": name, "instance": target, "job": "svmetrics"}
		if service != "" {
			l["service"] = service
		}
		return l
	}
	wait(`up{job="svmetrics"}`, "1", labels("up", ""))
	wait(`daemontools_service_up{service="web"}`, "1", labels("daemontools_service_up", "web"))
	svtest.Svc(t, testbin.Path(t, "svc"), "-d", dir+"/web")
	wait(`daemontools_service_up{service="web"}`, "0", labels("daemontools_service_up", "web"))
	wait(`daemontools_service_up{service="web/log"}`, "1", labels("daemontools_service_up", "web/log"))
}
