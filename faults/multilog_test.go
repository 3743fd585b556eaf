package faults

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// logLine is input line n (without its newline): a number, then a payload
// of a length that varies with n, so that a lost, doubled or garbled line
// shows.
func logLine(n int) string {
	return fmt.Sprintf("%08d %s.", n, strings.Repeat("abcdefghij", n%23))
}

// feeder writes numbered lines into the pipe that is multilog's stdin.
type feeder struct {
	r, w *os.File
	next int // number of the next line to write
}

func newFeeder(t testing.TB) *feeder {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return &feeder{r: r, w: w}
}

// write writes the next count lines, blocking while the pipe is full.
func (f *feeder) write(count int) error {
	var b bytes.Buffer
	for range count {
		b.WriteString(logLine(f.next))
		b.WriteByte('\n')
		f.next++
	}
	_, err := f.w.Write(b.Bytes())
	return err
}

// multilog starts multilog with the feeder's pipe as stdin, in dir.
func (f *feeder) multilog(t testing.TB, dir string, script ...string) *proc {
	t.Helper()
	cmd := exec.Command(prog(t, "multilog"), script...)
	cmd.Dir = dir
	cmd.Stdin = f.r
	return start(t, cmd)
}

// logReport says what a log directory holds against the lines written.
type logReport struct {
	lines     int // complete, valid lines read
	next      int // every line below next was found, in order
	dups      int // lines written again after a kill
	rewinds   int // places where lines start again from an earlier one
	fragments int // partial lines cut by a kill, at the end of a .u file
	splits    int // lines cut by a kill whose rest starts the next file
	tails     int // ends of lines written again, starting the next file
	missing   int // lines never found
	problems  []string
}

// readLog reads a multilog directory whose input was logLine(0), 1, ...
// and checks that the lines appear in order, each whole, with nothing
// missing. The damage tolerated is what a kill leaves: a partial line at the
// end of a .u file, then at the start of the next file the rest of that line
// stamped anew; and a chunk written again, which may start inside a line
// (the end of a line already logged, stamped anew, then lines again).
func readLog(dir string, stamped bool) (logReport, error) {
	var r logReport
	files, others, err := svtest.LogFiles(dir)
	if err != nil {
		return r, err
	}
	for _, name := range files {
		if name != "current" && !strings.HasSuffix(name, ".s") && !strings.HasSuffix(name, ".u") {
			r.problems = append(r.problems, "unexpected file "+name)
		}
	}
	for _, name := range others {
		if name != "lock" && name != "state" && name != "newstate" {
			r.problems = append(r.problems, "unexpected file "+name)
		}
	}
	prev := -1
	head := "" // the partial line ending the last file, a .u
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return r, err
		}
		lines := strings.SplitAfter(string(data), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for i, line := range lines {
			n, ok := parseLogLine(line, stamped)
			if !ok {
				if i == len(lines)-1 && strings.HasSuffix(name, ".u") {
					r.fragments++
					head = line
					continue
				}
				if n, ok = joinCut(head, line, stamped); i == 0 && head != "" && ok {
					r.splits++
				} else if i+1 < len(lines) && restOf(line, lines[i+1], r.next, stamped) {
					r.tails++ // where a restarted multilog carried on
					head = ""
					continue
				} else {
					r.problems = append(r.problems, fmt.Sprintf("%s line %d: garbled %.80q", name, i+1, line))
					continue
				}
			}
			head = ""
			r.lines++
			switch {
			case n == r.next:
				if n != prev+1 {
					r.problems = append(r.problems, fmt.Sprintf("%s line %d: %d after %d", name, i+1, n, prev))
				}
				r.next++
			case n < r.next:
				r.dups++
				if n != prev+1 {
					r.rewinds++
				}
			default:
				r.problems = append(r.problems, fmt.Sprintf("%s line %d: lines %d to %d are missing", name, i+1, r.next, n-1))
				r.missing += n - r.next
				r.next = n + 1
			}
			prev = n
		}
		if !strings.HasSuffix(name, ".u") {
			head = ""
		}
	}
	return r, nil
}

// unstamp returns line without its newline and its TAI64N stamp, if it has
// a whole one.
func unstamp(line string, stamped bool) (string, bool) {
	line = strings.TrimSuffix(line, "\n")
	if !stamped {
		return line, true
	}
	if len(line) < 26 || line[0] != '@' || line[25] != ' ' || strings.Trim(line[1:25], "0123456789abcdef") != "" {
		return line, false
	}
	return line[26:], true
}

// lineNumber returns n when s is logLine(n).
func lineNumber(s string) (int, bool) {
	if len(s) < 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:8])
	if err != nil || n < 0 || s != logLine(n) {
		return 0, false
	}
	return n, true
}

// parseLogLine returns the number of a whole, correct line.
func parseLogLine(line string, stamped bool) (int, bool) {
	if !strings.HasSuffix(line, "\n") {
		return 0, false
	}
	s, ok := unstamp(line, stamped)
	if !ok {
		return 0, false
	}
	return lineNumber(s)
}

// joinCut returns the number of the line cut by a kill into head (ending a
// .u file) and tail (stamped anew, starting the next file).
func joinCut(head, tail string, stamped bool) (int, bool) {
	h, ok1 := unstamp(head, stamped)
	t, ok2 := unstamp(tail, stamped)
	if !ok1 || !ok2 || !strings.HasSuffix(tail, "\n") {
		return 0, false
	}
	return lineNumber(h + t)
}

// restOf tells whether tail is the end of the line before next, a line
// already logged (below seen): the start of a chunk written again from
// inside a line.
func restOf(tail, next string, seen int, stamped bool) bool {
	n, ok := parseLogLine(next, stamped)
	t, ok2 := unstamp(tail, stamped)
	return ok && ok2 && n > 0 && n-1 < seen && strings.HasSuffix(tail, "\n") && strings.HasSuffix(logLine(n-1), t)
}

// check fails the test unless exactly lines 0..total-1 were logged, with at
// most kills places where a kill left a partial line or a rewritten chunk.
func checkLog(t testing.TB, dir string, total, kills int) logReport {
	t.Helper()
	r, err := readLog(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	r.missing += max(total-r.next, 0)
	t.Logf("%d kills; %d lines read for %d written: %d missing, %d written again at %d places, %d partial lines, %d lines cut in two, %d line ends written again",
		kills, r.lines, total, r.missing, r.dups, r.rewinds, r.fragments, r.splits, r.tails)
	for i, p := range r.problems {
		if i == 10 {
			t.Errorf("... and %d more", len(r.problems)-10)
			break
		}
		t.Error(p)
	}
	if r.next != total {
		t.Errorf("lines up to %d found, %d written", r.next, total)
	}
	// A kill may leave a partial line at the end of a .u file (a write cut
	// short), whose whole line then comes again; it never cuts a line in two.
	if r.rewinds > kills || r.fragments > kills {
		t.Errorf("%d rewritten chunks and %d partial lines for %d kills", r.rewinds, r.fragments, kills)
	}
	if r.splits+r.tails > 0 {
		t.Errorf("%d lines cut in two and %d line ends written again", r.splits, r.tails)
	}
	if t.Failed() {
		t.FailNow()
	}
	return r
}

// kill -9 of multilog at random moments under heavy input through a pipe,
// each followed by a restart on the same pipe (as supervise does): every
// line is logged, in order, across the kept files.
func TestMultilogKill9(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	root := t.TempDir()
	f := newFeeder(t)
	// heavy input: as fast as multilog takes it
	killUnderInput(t, f, root, rng, pick(10, 50), func() error { return f.write(500) }, "t", "s262144", "n100000", "./log")
}

// killUnderInput feeds multilog through f with write, in a loop, while it
// kills it kills times at random moments (rng) and starts it again on the
// same pipe; then the last multilog reads to the end of the input, and
// every line must be in the log, whole and in order.
func killUnderInput(t *testing.T, f *feeder, root string, rng *rand.Rand, kills int, write func() error, script ...string) {
	t.Helper()
	stop, written := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(written)
		defer f.w.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := write(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range kills {
		m := f.multilog(t, root, script...)
		time.Sleep(time.Duration(10+rng.IntN(290)) * time.Millisecond) // the random moment of the kill
		if m.HasExited() {
			t.Fatalf("multilog exited before the kill: %v\n%s", m.Cmd.ProcessState, m.out)
		}
		m.Kill9(t)
		noPanic(t, "multilog", m.out.String())
	}
	close(stop)
	m := f.multilog(t, root, script...)
	select {
	case <-written:
	case <-time.After(svtest.Scaled(time.Minute)):
		t.Fatalf("the last multilog does not read its input\n%s", m.out)
	}
	if code := m.Wait(t, 60*time.Second); code != 0 {
		t.Fatalf("multilog at end of input: exit %d\n%s", code, m.out)
	}
	noPanic(t, "multilog", m.out.String())
	checkLog(t, filepath.Join(root, "log"), f.next, kills)
}

// readLog itself: it must see every kind of damage it is there to catch.
func TestReadLog(t *testing.T) {
	t.Parallel()
	stamp := "@400000006b03f39324875f2c "
	lines := func(ns ...int) string {
		var b strings.Builder
		for _, n := range ns {
			b.WriteString(stamp + logLine(n) + "\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name                           string
		files                          map[string]string
		next, dups, rewinds, fragments int
		problems                       int
	}{
		{"whole", map[string]string{"@1.s": lines(0, 1), "current": lines(2, 3)}, 4, 0, 0, 0, 0},
		{"kill point", map[string]string{"@1.s": lines(0, 1), "@2.u": lines(2, 3) + stamp + "0000004 ab", "current": lines(2, 3, 4, 5)}, 6, 2, 1, 1, 0},
		{"cut in two", map[string]string{"@1.s": lines(0, 1), "@2.u": lines(2) + stamp + logLine(3)[:12], "current": stamp + logLine(3)[12:] + "\n" + lines(4)}, 5, 0, 0, 1, 0},
		{"end of a line again", map[string]string{"@2.u": lines(0, 1, 2) + stamp + logLine(3)[:12], "current": stamp + logLine(1)[12:] + "\n" + lines(2, 3, 4)}, 5, 1, 1, 1, 0},
		{"cut but not after a .u", map[string]string{"@1.s": lines(0, 1) + stamp + logLine(2)[:12], "current": stamp + logLine(2)[12:] + "\n" + lines(3)}, 4, 0, 0, 0, 3},
		{"cut and lost", map[string]string{"@2.u": lines(0) + stamp + logLine(1)[:12], "current": stamp + logLine(2)[12:] + "\n" + lines(3)}, 4, 0, 0, 1, 2},
		{"carried on inside current", map[string]string{"current": lines(0, 1, 2) + stamp + logLine(1)[12:] + "\n" + lines(2, 3)}, 4, 1, 1, 0, 0},
		{"lost", map[string]string{"@1.s": lines(0, 1), "current": lines(4, 5)}, 6, 0, 0, 0, 1},
		{"swapped", map[string]string{"current": lines(0, 2, 1, 3)}, 4, 1, 1, 0, 2},
		{"garbled", map[string]string{"current": lines(0) + stamp + "00000001 abc" + lines(2)}, 1, 0, 0, 0, 1},
		{"fragment in a .s file", map[string]string{"@1.s": lines(0) + stamp + "000", "current": lines(1)}, 2, 0, 0, 0, 1},
		{"no stamp", map[string]string{"current": lines(0) + logLine(1) + "\n"}, 1, 0, 0, 0, 1},
		{"left behind", map[string]string{"previous": lines(0), "current": lines(0, 1)}, 2, 0, 0, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range c.files {
				testbin.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0644))
			}
			r, err := readLog(dir, true)
			testbin.Must(t, err)
			if r.next != c.next || r.dups != c.dups || r.rewinds != c.rewinds || r.fragments != c.fragments || len(r.problems) != c.problems {
				t.Errorf("got next %d dups %d rewinds %d fragments %d problems %q; want %d %d %d %d and %d problems",
					r.next, r.dups, r.rewinds, r.fragments, r.problems, c.next, c.dups, c.rewinds, c.fragments, c.problems)
			}
		})
	}
}
