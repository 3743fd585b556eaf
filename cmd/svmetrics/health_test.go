package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// /healthz turns 503 within one probe interval of a service's probe
// failing, and 200 again within one of its passing, in both modes; the
// metrics say healthy and the failures in a row.
func TestHealthzFollowsProbes(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{nil, {"-1"}} {
		t.Run(strings.Join(append([]string{"svscan"}, mode...), " "), func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			testbin.Must(t, err)
			addr := ln.Addr().String()
			go func() {
				for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
					c.Close()
				}
			}()
			dir := filepath.Join(t.TempDir(), "service")
			svc := filepath.Join(dir, "probed")
			svtest.NewService(t, svc, "exec sleep 1000")
			const interval = 300 * time.Millisecond
			for name, v := range map[string]string{"health-tcp": addr, "health-interval": "300", "health-failures": "1000", "health-grace": "0"} {
				testbin.Must(t, os.WriteFile(filepath.Join(svc, name), []byte(v+"\n"), 0o644))
			}
			startSvscan(t, dir, mode...)
			url := startSvmetrics(t, dir)
			waitPage(t, url+"/healthz", page{200, textType, "ok\n"})
			ln.Close()
			closed := time.Now()
			waitPage(t, url+"/healthz", page{503, textType, "probed: unhealthy (probe: connection refused)\n"})
			if took := time.Since(closed); took > svtest.Scaled(interval+200*time.Millisecond) {
				t.Errorf("503 %v after the port closed, more than an interval of %v", took, interval)
			}
			metrics := get(t, url+"/metrics").body
			for _, want := range []string{"\ndaemontools_service_healthy{service=\"probed\"} 0\n", "\ndaemontools_service_health_failures{service=\"probed\"} "} {
				if !strings.Contains(metrics, want) {
					t.Errorf("GET /metrics: no %q in\n%s", want, metrics)
				}
			}
			ln, err = net.Listen("tcp", addr)
			testbin.Must(t, err)
			defer ln.Close()
			go func() {
				for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
					c.Close()
				}
			}()
			opened := time.Now()
			waitPage(t, url+"/healthz", page{200, textType, "ok\n"})
			if took := time.Since(opened); took > svtest.Scaled(interval+200*time.Millisecond) {
				t.Errorf("200 %v after the port opened again, more than an interval of %v", took, interval)
			}
		})
	}
}
