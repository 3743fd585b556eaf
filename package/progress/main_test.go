package main

import (
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// stopped is a clock that does not move.
func stopped() time.Time { return time.Unix(0, 0) }

func TestRun(t *testing.T) {
	in := `{"Action":"start","Package":"m/a"}
{"Action":"start","Package":"m/b"}
{"Action":"run","Package":"m/a","Test":"TestSlow"}
{"Action":"output","Package":"m/a","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"pass","Package":"m/a","Test":"TestSlow","Elapsed":3.5}
{"Action":"run","Package":"m/b","Test":"TestBad"}
{"Action":"output","Package":"m/b","Test":"TestBad","Output":"    b_test.go:9: wrong\n"}
{"Action":"fail","Package":"m/b","Test":"TestBad","Elapsed":0.25}
{"Action":"output","Package":"m/a","Output":"PASS\n"}
{"Action":"pass","Package":"m/a","Elapsed":4}
{"Action":"output","Package":"m/b","Output":"FAIL\n"}
{"Action":"fail","Package":"m/b","Elapsed":1}
{"Action":"skip","Package":"m/c","Elapsed":0}
{"ImportPath":"m/d [m/d.test]","Action":"build-output","Output":"d.go:1: syntax error\n"}
{"ImportPath":"m/d [m/d.test]","Action":"build-fail"}
{"Action":"start","Package":"m/d"}
{"Action":"output","Package":"m/d","Output":"FAIL\tm/d [build failed]\n"}
{"Action":"fail","Package":"m/d","Elapsed":0}
go: some words of go test's own
`
	var out strings.Builder
	code := run(strings.NewReader(in), &out, stopped, time.Hour)
	want := `[   0s] ok   m/a                                     4.0s  (slowest TestSlow 3.5s)
[   0s]     b_test.go:9: wrong
FAIL
FAIL m/b 1.0s
[   0s] d.go:1: syntax error
# m/d [m/d.test] (build failed)
[   0s] FAIL	m/d [build failed]
FAIL m/d 0.0s
[   0s] go: some words of go test's own

slowest tests:
     3.5s  a TestSlow
     0.2s  b TestBad
FAIL: b d
`
	if code != 1 || out.String() != want {
		t.Errorf("exit %d, output:\n%s\nwant exit 1, output:\n%s", code, out.String(), want)
	}
}

func TestRunNothing(t *testing.T) {
	var out strings.Builder
	if code := run(strings.NewReader(""), &out, stopped, time.Hour); code != 1 || !strings.HasSuffix(out.String(), "progress: no package was tested\n") {
		t.Errorf("exit %d, output:\n%s", code, out.String())
	}
}

// TestHeartbeat: while no package ends, those running are shown.
func TestHeartbeat(t *testing.T) {
	r, w := io.Pipe()
	out := &lockedBuilder{}
	done := make(chan int)
	go func() { done <- run(r, out, time.Now, 100*time.Millisecond) }()
	io.WriteString(w, `{"Action":"start","Package":"m/a"}
{"Action":"run","Package":"m/a","Test":"TestLong"}
`)
	running := regexp.MustCompile(`(?m)^\[ *[0-9]+s\] running: a \([0-9]+s, TestLong\)$`)
	svtest.WaitFor(t, 5*time.Second, "the running package shown", func() bool { return running.MatchString(out.String()) })
	io.WriteString(w, `{"Action":"pass","Package":"m/a","Test":"TestLong","Elapsed":0.3}
{"Action":"pass","Package":"m/a","Elapsed":0.3}
`)
	w.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, output:\n%s", code, out.String())
	}
}

// lockedBuilder is a strings.Builder for two goroutines.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
