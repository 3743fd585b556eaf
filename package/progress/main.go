// Command progress reads the output of go test -json and shows the run as
// it goes: a line for each package as it ends (ok or FAIL, its time, its
// slowest test), all the output of a package that failed, as go test
// prints it, and, while nothing ends for a while, which packages still
// run. At the end it lists the slowest tests. It exits 1 if a package
// failed or did not build, or if it saw no package at all.
//
// Usage: go test -json ./... | go run ./package/progress
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// event is a line of go test -json (go doc test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // of build-output and build-fail
	Test       string
	Elapsed    float64
	Output     string
}

// pkg is what is known of a package so far.
type pkg struct {
	started time.Time
	output  strings.Builder
	running string // the test that began last
}

// testTime is one test's time.
type testTime struct {
	pkg, test string
	elapsed   float64
}

// idle is how long the run may be silent before the packages still
// running are shown.
const idle = 30 * time.Second

// slowest is how many tests the summary lists.
const slowest = 12

func main() {
	os.Exit(run(os.Stdin, os.Stdout, time.Now, idle))
}

// progress is the state of the run.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	now      func() time.Time
	began    time.Time
	lastLine time.Time
	pkgs     map[string]*pkg   // those running
	builds   map[string]string // output of builds, by import path
	tests    []testTime
	seen     int
	failed   []string
}

func run(in io.Reader, out io.Writer, now func() time.Time, idle time.Duration) int {
	p := &progress{out: out, now: now, began: now(), lastLine: now(), pkgs: map[string]*pkg{}, builds: map[string]string{}}
	done := make(chan struct{})
	defer close(done)
	go p.heartbeat(idle, done)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			// go test's own words (a setup error): passed on.
			p.line("%s", sc.Text())
			continue
		}
		p.event(e)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "progress:", err)
		return 1
	}
	slices.SortStableFunc(p.tests, func(a, b testTime) int {
		switch {
		case a.elapsed > b.elapsed:
			return -1
		case a.elapsed < b.elapsed:
			return 1
		}
		return 0
	})
	fmt.Fprintf(out, "\nslowest tests:\n")
	for _, t := range p.tests[:min(slowest, len(p.tests))] {
		fmt.Fprintf(out, "%8.1fs  %s %s\n", t.elapsed, short(t.pkg), t.test)
	}
	switch {
	case p.seen == 0:
		fmt.Fprintln(out, "progress: no package was tested")
		return 1
	case len(p.failed) > 0:
		fmt.Fprintf(out, "FAIL: %s\n", strings.Join(p.failed, " "))
		return 1
	}
	return 0
}

func (p *progress) get(name string) *pkg {
	k := p.pkgs[name]
	if k == nil {
		k = &pkg{started: p.now()}
		p.pkgs[name] = k
	}
	return k
}

func (p *progress) event(e event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Action {
	case "build-output":
		p.builds[e.ImportPath] += e.Output
		return
	case "build-fail":
		// The package's fail follows; its build's output is shown now.
		p.line("%s# %s (build failed)", p.builds[e.ImportPath], e.ImportPath)
		delete(p.builds, e.ImportPath)
		return
	}
	k := p.get(e.Package)
	switch {
	case e.Action == "output":
		k.output.WriteString(e.Output)
	case e.Action == "run":
		k.running = e.Test
	case e.Test != "" && (e.Action == "pass" || e.Action == "fail"):
		p.tests = append(p.tests, testTime{e.Package, e.Test, e.Elapsed})
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		p.seen++
		delete(p.pkgs, e.Package)
		switch e.Action {
		case "fail":
			p.failed = append(p.failed, short(e.Package))
			p.line("%sFAIL %s %.1fs", k.output.String(), e.Package, e.Elapsed)
		case "pass":
			p.line("ok   %-36s %6.1fs%s", e.Package, e.Elapsed, p.slowestOf(e.Package))
		}
	}
}

// slowestOf names the package's slowest test, when it has one.
func (p *progress) slowestOf(name string) string {
	var top testTime
	for _, t := range p.tests {
		if t.pkg == name && !strings.Contains(t.test, "/") && t.elapsed > top.elapsed {
			top = t
		}
	}
	if top.test == "" {
		return ""
	}
	return fmt.Sprintf("  (slowest %s %.1fs)", top.test, top.elapsed)
}

// line prints a line, with the time since the run began.
func (p *progress) line(format string, args ...any) {
	p.lastLine = p.now()
	fmt.Fprintf(p.out, "[%4.0fs] "+format+"\n", append([]any{p.lastLine.Sub(p.began).Seconds()}, args...)...)
}

// heartbeat shows the packages still running whenever the run has been
// silent for idle, until done.
func (p *progress) heartbeat(idle time.Duration, done <-chan struct{}) {
	tick := time.NewTicker(idle / 10)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		if p.now().Sub(p.lastLine) >= idle && len(p.pkgs) > 0 {
			var names []string
			for name, k := range p.pkgs {
				names = append(names, fmt.Sprintf("%s (%.0fs, %s)", short(name), p.now().Sub(k.started).Seconds(), k.running))
			}
			slices.Sort(names)
			p.line("running: %s", strings.Join(names, ", "))
		}
		p.mu.Unlock()
	}
}

// short is a package's path inside the module.
func short(name string) string {
	_, rest, ok := strings.Cut(name, "/")
	if !ok {
		return name
	}
	return rest
}
