package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// chattyRun writes numbered lines, in bursts as fast as the shell can; on
// TERM, 300 more, then "bye N", N being how many it wrote.
const chattyRun = `n=0 stop=
burst() { i=0; while [ $i -lt $1 ]; do echo "$P$n"; n=$((n+1)); i=$((i+1)); done; }
trap stop=1 TERM
while [ -z "$stop" ]; do burst 100; sleep 0.01; done
burst 300
echo "${P}bye $n"`

// containerLine is a line on a container's output: a service's line with
// its name and time (multilog T p 1), or the bare line of a service that
// writes there itself, which names itself.
var containerLine = regexp.MustCompile(`^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z )?(\w+): (bye )?([0-9]+)$`)

// outputCount reads a container's output to its end and counts the lines
// of each service: every line must be there, in order, and each service's
// last line its bye.
type outputCount struct {
	mu    sync.Mutex
	next  map[string]int
	bye   map[string]bool
	wrong []string
	done  chan struct{}
}

func countOutput(r *os.File) *outputCount {
	c := &outputCount{next: map[string]int{}, bye: map[string]bool{}, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.add(sc.Text())
		}
	}()
	return c
}

func (c *outputCount) add(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := containerLine.FindStringSubmatch(line)
	if m == nil {
		c.wrong = append(c.wrong, fmt.Sprintf("not a service's line: %q", line))
		return
	}
	name, n := m[1], m[3]
	seq, _ := strconv.Atoi(n)
	switch {
	case c.bye[name]:
		c.wrong = append(c.wrong, fmt.Sprintf("%s: %q after its bye", name, line))
	case seq != c.next[name]:
		c.wrong = append(c.wrong, fmt.Sprintf("%s: %q where %d was due", name, line, c.next[name]))
	case m[2] != "":
		c.bye[name] = true
	default:
		c.next[name]++
	}
}

func (c *outputCount) seen(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next[name]
}

// TestPid1StopLosesNoLine: svscan as a container's PID 1, three chatty
// services whose lines go to its output through a logger of their own
// (multilog T p 1) or straight; TERM, 50 times in each mode: every line each service
// wrote, its last words included, is on the output, in order.
func TestPid1StopLosesNoLine(t *testing.T) {
	const stops = 50 // in each mode
	forModes(t, func(t *testing.T, m mode) {
		dir := filepath.Join(testbin.PublicDir(t), "service")
		names := []string{"alpha", "beta", "plain"}
		for _, name := range names[:2] {
			makeService(t, filepath.Join(dir, name), chattyRun, "exec multilog T p 1")
			writeFile(t, filepath.Join(dir, name, "timeout-kill"), "60000\n", 0o644)
		}
		makeService(t, filepath.Join(dir, "plain"), "P='plain: '\n"+chattyRun, "")
		writeFile(t, filepath.Join(dir, "plain", "timeout-kill"), "60000\n", 0o644)
		total := 0
		for stop := range stops {
			r, w, err := os.Pipe()
			testbin.Must(t, err)
			out := countOutput(r)
			p := m.startPid1Output(t, w, dir)
			w.Close()
			for _, name := range names {
				svtest.WaitFor(t, 10*time.Second, name+" logging", func() bool { return out.seen(name) >= 1000 })
			}
			p.signal(t, syscall.SIGTERM)
			if code := p.Wait(t, 20*time.Second); code != 0 {
				t.Fatalf("stop %d: svscan exited %d", stop, code)
			}
			select {
			case <-out.done:
			case <-time.After(svtest.Scaled(10 * time.Second)):
				t.Fatalf("stop %d: the output is still open", stop)
			}
			for _, w := range out.wrong {
				t.Errorf("stop %d: %s", stop, w)
			}
			for _, name := range names {
				if !out.bye[name] {
					t.Errorf("stop %d: %s's last words missing after line %d", stop, name, out.next[name])
				}
				total += out.next[name]
			}
			if b, _ := os.ReadFile(p.stderr); len(b) != 0 {
				t.Errorf("stop %d: stderr %q", stop, b)
			}
			if t.Failed() {
				return
			}
			for _, name := range append(names, "alpha/log", "beta/log") {
				os.RemoveAll(filepath.Join(dir, name, "supervise"))
			}
		}
		t.Logf("%d lines over %d stops, none lost", total, stops)
	})
}

// startPid1Output is startPid1 with stdout as svscan's standard output.
func (m mode) startPid1Output(t *testing.T, stdout *os.File, dir string) *pid1 {
	t.Helper()
	return startPid1Output(t, stdout, append(slices.Clone(m.flags), dir)...)
}
