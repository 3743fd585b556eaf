package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/scan"
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
var containerLine = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z )?(\w+): (bye )?([0-9]+)$`)

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
	name, n := m[2], m[4]
	seq, _ := strconv.Atoi(n)
	switch {
	case (m[1] == "") != (name == "plain"):
		c.wrong = append(c.wrong, fmt.Sprintf("%s: %q, stamped only through a logger", name, line))
	case c.bye[name]:
		c.wrong = append(c.wrong, fmt.Sprintf("%s: %q after its bye", name, line))
	case seq != c.next[name]:
		c.wrong = append(c.wrong, fmt.Sprintf("%s: %q where %d was due", name, line, c.next[name]))
	case m[3] != "":
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
// (log/run: multilog T p 1), through the logger svscan makes for one
// without log/ (an empty log-script: multilog T 1 pNAME), or straight;
// TERM, 50 times in each mode: every line each service wrote, its last
// words included, is on the output, in order.
func TestPid1StopLosesNoLine(t *testing.T) {
	const stops = 50 // in each mode
	forModes(t, func(t *testing.T, m mode) {
		dir := filepath.Join(testbin.PublicDir(t), "service")
		names := []string{"alpha", "beta", "plain"}
		makeService(t, filepath.Join(dir, "alpha"), chattyRun, "exec multilog T p 1")
		makeService(t, filepath.Join(dir, "beta"), chattyRun, "")
		writeFile(t, filepath.Join(dir, "beta", "log-script"), "", 0o644)
		makeService(t, filepath.Join(dir, "plain"), "P='plain: '\n"+chattyRun, "")
		// Never KILL, services or loggers: under load a logger may take
		// longer than the default 4 s to write out what its pipe holds.
		writeFile(t, filepath.Join(dir, scan.KillAfterFile), "60000\n", 0o644)
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
			for _, name := range append(names, "alpha/log") {
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

// TestMadeLogger: a service without log/ but with a log-script gets a
// logger from svscan, multilog named after it with the file's actions,
// or with those of the scanned directory's .svscan/log-script; one that
// is killed is started again at the next scan, every line kept in the
// pipe meanwhile (one written when it was killed may come twice); a stop
// ends it after its service's last line.
func TestMadeLogger(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		dir := filepath.Join(testbin.PublicDir(t), "service")
		ticker := `n=0; trap 'echo "bye $n"; exit 0' TERM; while :; do echo "$n"; n=$((n+1)); sleep 0.02; done`
		makeService(t, filepath.Join(dir, "web"), ticker, "")
		writeFile(t, filepath.Join(dir, "web", "log-script"), "T\n1\n", 0o644)
		makeService(t, filepath.Join(dir, "api"), ticker, "")
		writeFile(t, filepath.Join(dir, ".svscan", "log-script"), "j\n", 0o644)
		stdout := filepath.Join(t.TempDir(), "stdout")
		cmd := exec.Command(testbin.Path(t, "svscan"), append(slices.Clone(m.flags), dir)...)
		cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin", scan.IntervalEnv + "=100ms"}
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = svtest.Create(t, stdout), &stderr
		g := svtest.Start(t, cmd)
		web := regexp.MustCompile(`(?m)^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z web: (bye )?([0-9]+)$`)
		api := regexp.MustCompile(`(?m)^{"time":"[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z","service":"api","line":"(bye )?([0-9]+)"}$`)
		// lines gives the numbers each service's lines hold, and its bye.
		lines := func(re *regexp.Regexp) (seen map[int]bool, bye int) {
			b, _ := os.ReadFile(stdout)
			seen, bye = map[int]bool{}, -1
			for _, m := range re.FindAllSubmatch(b, -1) {
				n, _ := strconv.Atoi(string(m[2]))
				if len(m[1]) > 0 {
					bye = n
				} else {
					seen[n] = true
				}
			}
			return seen, bye
		}
		logger := func() int {
			for _, p := range svtest.Procs(g.Pid()) {
				if slices.Equal(p.Args, []string{"multilog", "T", "1", "pweb"}) {
					return p.Pid
				}
			}
			return 0
		}
		svtest.WaitFor(t, 10*time.Second, "both services' lines", func() bool {
			w, _ := lines(web)
			a, _ := lines(api)
			return len(w) > 3 && len(a) > 3 && logger() != 0
		})
		first := logger()
		testbin.Must(t, syscall.Kill(first, syscall.SIGKILL))
		w, _ := lines(web)
		svtest.WaitFor(t, 10*time.Second, "web's lines after its logger's kill", func() bool {
			now, _ := lines(web)
			return len(now) > len(w)+5 && logger() != first
		})
		testbin.Must(t, syscall.Kill(g.Pid(), syscall.SIGTERM))
		if code := g.Wait(t, 10*time.Second); code != 0 {
			t.Errorf("svscan exited %d", code)
		}
		for name, re := range map[string]*regexp.Regexp{"web": web, "api": api} {
			seen, bye := lines(re)
			if bye < 0 {
				t.Errorf("%s: no last words", name)
			}
			for n := range bye {
				if !seen[n] {
					t.Errorf("%s: line %d of %d lost", name, n, bye)
					break
				}
			}
		}
		if stderr.Len() != 0 {
			t.Errorf("stderr %q", stderr.String())
		}
	})
}
