package health

import (
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
)

// drive runs p as a supervisor's driver would (poll on Fd until Timeout,
// then Step) until a Step's outcome is one of want, and returns it with
// how long it took.
func drive(t *testing.T, p *Prober, ready bool, want ...Outcome) (Outcome, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(svtest.Scaled(10 * time.Second))
	for time.Now().Before(deadline) {
		now := time.Now()
		wait := p.Timeout(now)
		if wait < 0 {
			t.Fatal("nothing due")
		}
		fds := []unix.PollFd{{Fd: int32(p.Fd()), Events: unix.POLLIN}}
		unix.Poll(fds, int(wait.Milliseconds())+1)
		o := p.Step(time.Now(), ready)
		for _, w := range want {
			if o == w {
				return o, time.Since(start)
			}
		}
	}
	t.Fatalf("no outcome in %v; health %v, failures %d, line %q", want, p.Health(), p.Failures(), p.Line())
	return 0, 0
}

// runFor drives p for d, as drive does, and returns the outcomes other
// than Quiet.
func runFor(p *Prober, d time.Duration, ready bool) []Outcome {
	var outcomes []Outcome
	for end := time.Now().Add(d); time.Now().Before(end); {
		wait := min(p.Timeout(time.Now()), time.Until(end))
		fds := []unix.PollFd{{Fd: int32(p.Fd()), Events: unix.POLLIN}}
		unix.Poll(fds, int(max(wait, 0).Milliseconds())+1)
		if o := p.Step(time.Now(), ready); o != Quiet {
			outcomes = append(outcomes, o)
		}
	}
	return outcomes
}

func config(kind Kind, target Target) Config {
	return Config{Kind: kind, Target: target, Interval: 50 * time.Millisecond, Timeout: 300 * time.Millisecond, Failures: 3}
}

// A TCP probe passes while the port answers, and fails Failures times in
// a row once it does not, one interval apart.
func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target, err := ParseTCP(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	defer p.Close()
	p.Start(time.Now(), config(TCP, target))
	drive(t, p, true, Changed)
	if p.Health() != status.HealthHealthy || p.Line() != "connected" {
		t.Fatalf("health %v, line %q", p.Health(), p.Line())
	}
	l.Close()
	o, took := drive(t, p, true, Unhealthy)
	if o != Unhealthy || p.Failures() != 3 || p.Line() != "connection refused" || p.Health() != status.HealthUnhealthy {
		t.Fatalf("outcome %v, failures %d, line %q", o, p.Failures(), p.Line())
	}
	if took < 100*time.Millisecond {
		t.Errorf("3 failures in %v, less than 2 intervals", took)
	}
	if p.Timeout(time.Now()) != -1 || p.Step(time.Now(), true) != Quiet {
		t.Error("still probing after Unhealthy")
	}
}

// An HTTP probe passes on 2xx and 3xx, fails on 500, with the status line.
func TestHTTP(t *testing.T) {
	code := 200
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ping" || r.URL.RawQuery != "a=1" {
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(code)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	target, err := ParseHTTP("http://" + l.Addr().String() + "/ping?a=1")
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	defer p.Close()
	p.Start(time.Now(), config(HTTP, target))
	drive(t, p, true, Changed)
	if p.Health() != status.HealthHealthy || p.Line() != "HTTP/1.0 200 OK" {
		t.Fatalf("health %v, line %q", p.Health(), p.Line())
	}
	code = 302
	runFor(p, 300*time.Millisecond, true)
	if p.Health() != status.HealthHealthy || p.Line() != "HTTP/1.0 302 Found" {
		t.Fatalf("302: health %v, line %q", p.Health(), p.Line())
	}
	code = 500
	drive(t, p, true, Unhealthy)
	if p.Line() != "HTTP/1.0 500 Internal Server Error" {
		t.Fatalf("line %q", p.Line())
	}
}

// ./health runs in its directory with its environment; exit 0 passes, and
// its first line is kept; one that hangs is killed, process group and
// all, at the timeout, and counts as a failure; failures in the grace do
// not count.
func TestExec(t *testing.T) {
	dir := t.TempDir()
	script := func(body string) {
		os.Remove(filepath.Join(dir, ExecFile))
		svtest.WriteFile(t, filepath.Join(dir, ExecFile), []byte("#!/bin/sh\n"+body), 0o755)
	}
	script("echo \"fine in $PWD $X\"; echo second line\n")
	cfg := config(Exec, Target{})
	cfg.Dir, cfg.Env = dir, []string{"X=y", "PATH=/usr/bin:/bin"}
	p := New()
	defer p.Close()
	p.Start(time.Now(), cfg)
	drive(t, p, true, Changed)
	if want := "fine in " + dir + " y"; p.Health() != status.HealthHealthy || p.Line() != want {
		t.Fatalf("health %v, line %q, want %q", p.Health(), p.Line(), want)
	}
	pidFile := filepath.Join(dir, "pids")
	script("echo $$ >>pids; sleep 100 & echo $! >>pids; wait\n")
	o, _ := drive(t, p, true, Changed, Unhealthy)
	if o != Changed || p.Line() != "timed out after 300 ms" || p.Failures() != 1 {
		t.Fatalf("outcome %v, line %q, failures %d", o, p.Line(), p.Failures())
	}
	b, _ := os.ReadFile(pidFile)
	for _, f := range strings.Fields(string(b))[:2] {
		pid, _ := strconv.Atoi(f)
		svtest.WaitFor(t, 5*time.Second, "pid "+f+" gone", func() bool { return !svtest.Alive(pid) })
	}
	script("exit 3\n")
	drive(t, p, true, Changed)
	if p.Line() != "exit 3" || p.Failures() != 2 {
		t.Fatalf("line %q, failures %d", p.Line(), p.Failures())
	}
	// A new start: the grace (until ready) ignores failures.
	p.Start(time.Now(), Config{Kind: Exec, Dir: dir, Interval: 20 * time.Millisecond, Timeout: time.Second, Failures: 1, UntilReady: true})
	runFor(p, 200*time.Millisecond, false)
	if p.Health() != status.HealthUnknown || p.Failures() != 0 || p.Line() != "exit 3" {
		t.Fatalf("in the grace: health %v, failures %d, line %q", p.Health(), p.Failures(), p.Line())
	}
	drive(t, p, true, Unhealthy)
}

// Probes come one at a time: a probe that outlasts the interval delays
// the next rather than running beside it.
func TestOneAtATime(t *testing.T) {
	dir := t.TempDir()
	svtest.WriteFile(t, filepath.Join(dir, ExecFile), []byte("#!/bin/sh\necho x >>runs\nif mkdir lock; then sleep 0.2; rmdir lock; else echo overlap >>runs; fi\n"), 0o755)
	p := New()
	defer p.Close()
	p.Start(time.Now(), Config{Kind: Exec, Dir: dir, Interval: 10 * time.Millisecond, Timeout: time.Second, Failures: 3})
	var b []byte
	for deadline := time.Now().Add(svtest.Scaled(10 * time.Second)); strings.Count(string(b), "x") < 3 && time.Now().Before(deadline); {
		runFor(p, 200*time.Millisecond, true)
		b, _ = os.ReadFile(filepath.Join(dir, "runs"))
	}
	if strings.Contains(string(b), "overlap") || strings.Count(string(b), "x") < 3 {
		t.Fatalf("runs: %q", b)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct{ kind, v, err string }{
		{"tcp", "127.0.0.1:80", ""},
		{"tcp", "localhost:8080", ""},
		{"tcp", "[::1]:80", ""},
		{"tcp", "example.com:80", "host is not an IP address or localhost"},
		{"tcp", "127.0.0.1", "no port number"},
		{"tcp", "127.0.0.1:0", "no port number"},
		{"tcp", "127.0.0.1:+80", "no port number"},
		{"http", "http://127.0.0.1/x", ""},
		{"http", "http://[::1]:8080", ""},
		{"http", "https://127.0.0.1/", "not an http:// URL"},
		{"http", "http://127.0.0.1/a b", "bad path"},
		{"unix", "sock", ""},
		{"unix", "", "no path"},
		{"unix", "/" + strings.Repeat("x", 120), "path too long for a socket"},
	} {
		var err error
		switch c.kind {
		case "tcp":
			_, err = ParseTCP(c.v)
		case "http":
			_, err = ParseHTTP(c.v)
		case "unix":
			_, err = ParseUnix(c.v, "/srv")
		}
		if got := ""; err != nil && err.Error() != c.err || err == nil && c.err != "" {
			if err != nil {
				got = err.Error()
			}
			t.Errorf("%s %q: %q, want %q", c.kind, c.v, got, c.err)
		}
	}
	tg, _ := ParseHTTP("http://127.0.0.1:81?q")
	if want := "GET /?q HTTP/1.0\r\nHost: 127.0.0.1:81\r\n"; !strings.HasPrefix(string(tg.request), want) {
		t.Errorf("request %q", tg.request)
	}
}

// The addresses health-tcp and health-http take are those net/netip
// takes (without zones), to the same bytes.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1",
		"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:1.2.3.4", "1::2:3", "fe80::1%eth0",
		"1:2:3:4:5:6:7:8:9", ":1", "1:", "1:::2", "12345::", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "a:B:c::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := netip.ParseAddr(s)
		ok := err == nil && want.Zone() == ""
		if v4, got := parse4(s); got {
			if !ok || !want.Is4() || want.As4() != v4 {
				t.Errorf("parse4(%q) = %v, net/netip: %v %v", s, v4, want, err)
			}
			return
		}
		v6, got := parse6(s)
		if got != (ok && !want.Is4()) || got && want.As16() != v6 {
			t.Errorf("parse6(%q) = %v %v, net/netip: %v %v", s, v6, got, want, err)
		}
	})
}

// health-unix connects to a unix stream socket, its path relative to the
// service directory.
func TestUnix(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	target, err := ParseUnix("sock", dir)
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	defer p.Close()
	p.Start(time.Now(), config(Unix, target))
	drive(t, p, true, Changed)
	if p.Health() != status.HealthHealthy || p.Line() != "connected" {
		t.Fatalf("health %v, line %q", p.Health(), p.Line())
	}
	l.Close()
	drive(t, p, true, Changed)
	if p.Health() != status.HealthUnhealthy || p.Failures() != 1 {
		t.Fatalf("health %v, failures %d, line %q", p.Health(), p.Failures(), p.Line())
	}
}
