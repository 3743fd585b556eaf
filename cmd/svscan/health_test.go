package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// healthOf is what svstat -j says of dir's health and restarts.
type healthOf struct {
	Pid            int     `json:"pid"`
	Restarts       int     `json:"restarts"`
	Health         *string `json:"health"`
	HealthFailures *int    `json:"health_failures"`
	HealthProbe    *string `json:"health_probe"`
	ExitUnhealthy  *bool   `json:"exit_unhealthy"`
	ExitProbe      *string `json:"exit_probe"`
}

func (h healthOf) health() string {
	if h.Health == nil {
		return "null"
	}
	return *h.Health
}

func readHealth(t *testing.T, dir string) healthOf {
	t.Helper()
	out, err := exec.Command(testbin.Path(t, "svstat"), "-j", dir).Output()
	testbin.Must(t, err)
	var h healthOf
	testbin.Must(t, json.Unmarshal(out, &h))
	return h
}

// waitHealth polls svstat -j until cond holds of dir, and returns it.
func waitHealth(t *testing.T, dir, what string, cond func(healthOf) bool) healthOf {
	t.Helper()
	var h healthOf
	if !svtest.Poll(10*time.Second, func() bool { h = readHealth(t, dir); return h.Pid != 0 && cond(h) }) {
		t.Fatalf("%s: %s never held; svstat -j: %+v", dir, what, h)
	}
	return h
}

// listener is a TCP port of the test's that answers until closed.
type listener struct {
	addr string
	ln   net.Listener
}

func listen(t *testing.T) *listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testbin.Must(t, err)
	l := &listener{addr: ln.Addr().String(), ln: ln}
	go l.accept(ln)
	t.Cleanup(func() { l.close() })
	return l
}

func (l *listener) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func (l *listener) close() {
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
}

// probedService makes a service "s" in a new scan directory, running
// sleep, with the health files given (name, content).
func probedService(t *testing.T, files ...string) (scan, svc string) {
	scan = t.TempDir()
	svc = filepath.Join(scan, "s")
	makeService(t, svc, "exec sleep 1000", "")
	for i := 0; i < len(files); i += 2 {
		mode := os.FileMode(0o644)
		if files[i] == "health" {
			mode = 0o755
		}
		writeFile(t, filepath.Join(svc, files[i]), files[i+1], mode)
	}
	return scan, svc
}

// A service whose TCP port stops answering (a python3 server that closes
// its listening socket once the file "close" exists, and keeps running)
// is stopped and started again after health-failures probes, one
// interval apart, and the record says why; svwait -H waits for it to be
// healthy, which it is again after the restart (./run removes "close").
// The server says it is ready once it listens, so that failures before
// then do not count (the default grace of a service with readiness):
// under load python3 may take longer than three probes to listen.
func TestHealthTCP(t *testing.T) { forModes(t, healthTCP) }

func healthTCP(t *testing.T, m mode) {
	l := listen(t)
	l.close() // a free port, for the service
	const interval = 300 * time.Millisecond
	scan, svc := probedService(t, "health-tcp", l.addr+"\n", "health-interval", "300\n", "health-failures", "3\n",
		"notification-fd", "3\n")
	_, port, _ := strings.Cut(l.addr, ":")
	writeFile(t, filepath.Join(svc, "run"), `#!/bin/sh
rm -f close
exec python3 -c '
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
os.write(3, b"\n")
while not os.path.exists("close"):
    time.sleep(0.01)
s.close()
while True:
    time.sleep(1)
' `+port+"\n", 0o755)
	s := m.start(t, scan)
	if code := svwaitRun(t, "-H", "-t", strconv.Itoa(int(svtest.Scaled(10*time.Second).Milliseconds())), svc); code != 0 {
		t.Fatalf("svwait -H: exit %d; svstat -j: %+v", code, readHealth(t, svc))
	}
	before := readHealth(t, svc)
	if before.health() != "healthy" || *before.HealthProbe != "connected" || *before.HealthFailures != 0 {
		t.Fatalf("before: %+v", before)
	}
	writeFile(t, filepath.Join(svc, "close"), "", 0o644)
	closed := time.Now()
	after := waitHealth(t, svc, "a restart", func(h healthOf) bool { return h.Pid != before.Pid })
	// The third failure comes two to three intervals after the close;
	// the stop (TERM) and the start follow at once. The record says when
	// the new process started: the test may look later.
	rec, _ := svtest.ReadStatus(t, svc)
	if took := rec.Since.Time().Sub(closed); rec.Pid != after.Pid || took < 2*interval-50*time.Millisecond || took > svtest.Scaled(4*interval) {
		t.Errorf("restarted %v after the port closed (pid %d), want 3 intervals of %v (± one)", took, rec.Pid, interval)
	}
	if after.Restarts != before.Restarts+1 || after.ExitUnhealthy == nil || !*after.ExitUnhealthy || *after.ExitProbe != "connection refused" {
		t.Errorf("after: %+v", after)
	}
	out, _ := exec.Command(testbin.Path(t, "svstat"), "-l", svc).Output()
	if want := ", last stopped: unhealthy (probe: connection refused), killed by SIGTERM"; !strings.Contains(string(out), want) {
		t.Errorf("svstat -l: %q, want %q in it", out, want)
	}
	healthy := waitHealth(t, svc, "healthy again", func(h healthOf) bool { return h.health() == "healthy" })
	if healthy.Pid != after.Pid {
		t.Errorf("restarted again: %+v", healthy)
	}
	if b, _ := os.ReadFile(s.stderrPath); !strings.Contains(string(b), "supervise: warning: s: unhealthy (probe: connection refused): stopping it\n") {
		t.Errorf("stderr: %q", b)
	}
}

// An HTTP probe of a real server: 200 keeps the service, 500 restarts it.
func TestHealthHTTP(t *testing.T) { forModes(t, healthHTTP) }

func healthHTTP(t *testing.T, m mode) {
	var code atomic.Int32
	code.Store(200)
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(code.Load()))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testbin.Must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	scan, svc := probedService(t, "health-http", "http://"+ln.Addr().String()+"/healthz\n",
		"health-interval", "50\n", "health-failures", "2\n", "health-grace", "0\n")
	m.start(t, scan)
	first := waitHealth(t, svc, "healthy", func(h healthOf) bool { return h.health() == "healthy" })
	if *first.HealthProbe != "HTTP/1.0 200 OK" {
		t.Errorf("probe line %q", *first.HealthProbe)
	}
	// Twenty probes answered 200: no restart.
	svtest.WaitFor(t, 10*time.Second, "20 probes", func() bool { return hits.Load() >= 21 })
	if h := readHealth(t, svc); h.Pid != first.Pid || h.Restarts != 0 || h.health() != "healthy" {
		t.Fatalf("after 20 probes of 200: %+v", h)
	}
	code.Store(500)
	after := waitHealth(t, svc, "a restart", func(h healthOf) bool { return h.Pid != first.Pid && h.Pid != 0 })
	// The new ./run is probed with 500 too: on a busy machine it may have
	// been restarted again before the record is read.
	if after.Restarts < 1 || after.ExitProbe == nil || *after.ExitProbe != "HTTP/1.0 500 Internal Server Error" {
		t.Errorf("after: %+v", after)
	}
	code.Store(200)
}

// ./health that hangs is killed, its children too, at health-timeout, and
// counts as a failure; enough of them restart the service.
func TestHealthExecHangs(t *testing.T) { forModes(t, healthExecHangs) }

func healthExecHangs(t *testing.T, m mode) {
	scan, svc := probedService(t, "health", "#!/bin/sh\necho $$ >>probes\nsleep 1000 &\necho $! >>probes\nwait\n",
		"health-interval", "100\n", "health-timeout", "500\n", "health-failures", "2\n", "health-grace", "0\n")
	m.start(t, scan)
	first := waitHealth(t, svc, "a timed-out probe", func(h healthOf) bool { return h.HealthFailures != nil && *h.HealthFailures == 1 })
	if first.health() != "unhealthy" || *first.HealthProbe != "timed out after 500 ms" {
		t.Errorf("first: %+v", first)
	}
	after := waitHealth(t, svc, "a restart", func(h healthOf) bool { return h.Pid != first.Pid && h.Pid != 0 })
	if *after.ExitProbe != "timed out after 500 ms" {
		t.Errorf("after: %+v", after)
	}
	b, _ := os.ReadFile(filepath.Join(svc, "probes"))
	pids := strings.Fields(string(b))
	if len(pids) < 4 { // each probe has 500 ms to note its pids, however busy the machine
		t.Fatalf("probes: %q", b)
	}
	// The first two probes and their sleeps are killed and reaped.
	for _, f := range pids[:4] {
		svtest.WaitFor(t, 5*time.Second, "probe process "+f+" to be reaped", func() bool {
			return !svtest.Exists("/proc/" + f)
		})
	}
}

// A healthy service is never restarted: 100 probes, 20 ms apart.
func TestHealthyNeverRestarted(t *testing.T) { forModes(t, healthyNeverRestarted) }

func healthyNeverRestarted(t *testing.T, m mode) {
	scan, svc := probedService(t, "health", "#!/bin/sh\necho x >>probes\n", "health-interval", "20\n")
	m.start(t, scan)
	first := waitHealth(t, svc, "healthy", func(h healthOf) bool { return h.health() == "healthy" })
	svtest.WaitFor(t, 20*time.Second, "100 probes", func() bool {
		b, _ := os.ReadFile(filepath.Join(svc, "probes"))
		return strings.Count(string(b), "x") >= 101
	})
	if h := readHealth(t, svc); h.Pid != first.Pid || h.Restarts != 0 || h.health() != "healthy" || *h.HealthProbe != "exit 0" {
		t.Fatalf("after 100 probes: %+v, first %+v", h, first)
	}
}

// Failures within health-grace of the start do not count; after it, they
// do.
func TestHealthGrace(t *testing.T) { forModes(t, healthGrace) }

func healthGrace(t *testing.T, m mode) {
	l := listen(t)
	l.close()
	const grace = 3 * time.Second
	scan, svc := probedService(t, "health-tcp", l.addr+"\n", "health-interval", "50\n", "health-failures", "1\n",
		"health-grace", "3000\n")
	// Before the start of ./run, so that the grace surely lasts until
	// started+grace, however late the test sees it up.
	started := time.Now()
	m.start(t, scan)
	first := waitHealth(t, svc, "up", func(h healthOf) bool { return true })
	refused := func(h healthOf) bool { return h.HealthProbe != nil && *h.HealthProbe == "connection refused" }
	seen := false // a failed probe
	held := svtest.Holds(time.Until(started.Add(grace-time.Second)), func() bool {
		h := readHealth(t, svc)
		seen = seen || h.Pid == first.Pid && refused(h)
		return h.Pid == first.Pid && h.health() == "unknown" && *h.HealthFailures == 0
	})
	if !held {
		t.Fatalf("within the grace: %+v", readHealth(t, svc))
	}
	if !seen { // the first probe came late: a busy machine
		waitHealth(t, svc, "a failed probe in the grace", func(h healthOf) bool { return h.Pid == first.Pid && refused(h) })
	}
	waitHealth(t, svc, "a restart", func(h healthOf) bool { return h.Pid != first.Pid && h.Pid != 0 })
	if took := time.Since(started); took < grace-300*time.Millisecond {
		t.Errorf("restarted %v after the start, within the grace of %v", took, grace)
	}
}

// svc -p stops the probes (a stopped process answers nothing), svc -c
// starts them again, grace and all.
func TestHealthPaused(t *testing.T) { forModes(t, healthPaused) }

func healthPaused(t *testing.T, m mode) {
	l := listen(t)
	l.close()
	scan, dir := probedService(t, "health-tcp", l.addr+"\n", "health-interval", "50\n", "health-failures", "2\n",
		"health-grace", "1000\n")
	m.start(t, scan)
	waitHealth(t, dir, "up", func(h healthOf) bool { return true })
	svtest.OurSvc(t, "-p", dir)
	// The process paused: on a busy machine svc -p may come after the
	// grace, and then after a restart.
	first := svtest.WaitStatus(t, dir, "paused", func(s status.Status) bool { return s.Paused })
	if !svtest.Holds(1500*time.Millisecond, func() bool { h := readHealth(t, dir); return h.Pid == first.Pid }) {
		t.Fatalf("restarted while paused: %+v", readHealth(t, dir))
	}
	// Before svc -c: the supervisor may act on it before svc returns.
	resumed := time.Now()
	svtest.OurSvc(t, "-c", dir)
	waitHealth(t, dir, "a restart", func(h healthOf) bool { return h.Pid != first.Pid && h.Pid != 0 })
	if took := time.Since(resumed); took < 900*time.Millisecond {
		t.Errorf("restarted %v after svc -c, within the grace", took)
	}
}
