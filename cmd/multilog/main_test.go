package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// testEnv shortens multilog's 5-second retry pause in tests.
var testEnv = append(os.Environ(), "MULTILOG_TEST_PAUSE=50ms")

// runML runs prog with args in dir on input and returns stderr and the exit code.
func runML(t *testing.T, prog, dir, input string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir, cmd.Env = dir, testEnv
	cmd.Stdin = strings.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if e, ok := err.(*exec.ExitError); ok {
		code = e.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stderr.String(), code
}

var label = regexp.MustCompile(`@[0-9a-f]{24}`)

// layout describes every file under dir: name (labels masked), mode, and
// contents (labels masked), in @-file age order.
func layout(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %q", label.ReplaceAll(b, []byte("@L")))
		}
		out = append(out, label.ReplaceAllString(line, "@L"))
		return nil
	})
	sort.Strings(out) // labels sort by age, so masked names keep their order
	return strings.Join(out, "\n")
}

// compare runs ours and the reference on the same input and script and
// requires the same stderr, exit code and file layout.
func compare(t *testing.T, input string, args ...string) string {
	t.Helper()
	var got [2]string
	for i, prog := range []string{testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")} {
		dir := t.TempDir()
		stderr, code := runML(t, prog, dir, input, args...)
		got[i] = fmt.Sprintf("exit %d\nstderr %q\n%s", code, label.ReplaceAllString(stderr, "@L"), layout(t, dir))
	}
	if got[0] != got[1] {
		t.Errorf("multilog %q:\nours:\n%s\nreference:\n%s", args, got[0], got[1])
	}
	return got[0]
}

func TestActionsLikeReference(t *testing.T) {
	lines1000 := ""
	for i := range 30 {
		lines1000 += fmt.Sprintf("%0999d\n", i)
	}
	long := strings.Repeat("x", 10000) + "\nshort\n"
	mixed := "short\n" + strings.Repeat("a", 300) + "\nfoo bar\nbaz\nbin\x00ary\xff\x01\n\npartial"
	for _, tc := range []struct {
		input string
		args  []string
	}{
		{mixed, []string{"./main"}},
		{mixed, []string{"e"}},
		{mixed, []string{"=status", "e", "-*", "+f*", "./sel", "+*", "-*a*", "./other"}},
		{mixed, []string{"-*", "+*r", "e", "=st"}},
		{mixed, []string{"-b*", "s5000", "n4", "./a", "n2", "./b"}},
		{lines1000, []string{"s4096", "n3", "./rot"}},
		{lines1000, []string{"s1", "n1", "./clamped"}},
		{lines1000, []string{"s4096", "n5", "./one", "s8000", "n20", "./two"}},
		{long, []string{"s4096", "n10", "./long"}},
		{lines1000, []string{"s4096", "n4", "!tr 0 z", "./proc"}},
		{lines1000, []string{"s4096", "n4", "!cat; echo more >&5; cat <&4 >&5", "./state"}},
		{"", []string{"./empty"}},
		{"x\n", []string{"zz", "./unknown"}},
		{"x\n", []string{"/nonexistent/dir"}},
		{"x\n", []string{"=/nonexistent/file"}},
	} {
		compare(t, tc.input, tc.args...)
	}
}

func TestTimestampLikeReference(t *testing.T) {
	// t puts "@" + 24 hex + " " before every line; patterns see it.
	compare(t, "a\nb\n", "t", "-*", "+@* b", "./ts")
	compare(t, "a\nb\n", "t", "e", "./ts2")
}

// A second multilog on a locked directory exits 111 before reading input.
func TestSecondMultilogLocked(t *testing.T) {
	dir := t.TempDir()
	for _, prog := range []string{testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")} {
		first := exec.Command(prog, "./d")
		first.Dir = dir
		w, _ := first.StdinPipe()
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "d/current")); return err == nil })
		time.Sleep(50 * time.Millisecond)
		stderr, code := runML(t, prog, dir, "lost?\n", "./d")
		if code != 111 || stderr != "multilog: fatal: unable to lock directory ./d: temporary failure\n" {
			t.Errorf("%s: exit %d %q", prog, code, stderr)
		}
		w.Close()
		first.Wait()
		os.RemoveAll(filepath.Join(dir, "d"))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func readFile(p string) string { b, _ := os.ReadFile(p); return string(b) }

// A failing processor is retried after the pause; the log is kept.
func TestProcessorRetry(t *testing.T) {
	dir := t.TempDir()
	in := strings.Repeat(strings.Repeat("p", 999)+"\n", 4)
	stderr, code := runML(t, testbin.Path(t, "multilog"), dir, in, "s4096",
		"!if test -e ok; then cat; else touch ok; exit 1; fi", "./d")
	if code != 0 || !strings.Contains(stderr, "multilog: warning: processor failed in ./d, pausing\n") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	got := layout(t, filepath.Join(dir, "d"))
	want := fmt.Sprintf("@L.s -rwxr--r-- %q\ncurrent -rwxr--r-- %q\nlock -rw------- \"\"\nok -rw-r--r-- \"\"\nstate -rw-r--r-- \"\"",
		in[:3000], in[3000:])
	if got != want {
		t.Fatalf("layout\n%s\nwant\n%s", got, want)
	}
}

// Leftovers of a crash are completed at start: current without x bit
// becomes .u, previous is processed, processed alone is installed.
func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	os.Mkdir(d, 0o700)
	os.WriteFile(filepath.Join(d, "current"), []byte("crashed\n"), 0o644)
	os.WriteFile(filepath.Join(d, "previous"), []byte("prev\n"), 0o744)
	os.WriteFile(filepath.Join(d, "processed"), []byte("half"), 0o644)
	_, code := runML(t, testbin.Path(t, "multilog"), dir, "new\n", "!tr a-z A-Z", "./d")
	if code != 0 {
		t.Fatal(code)
	}
	got := layout(t, d)
	want := "@L.s -rwxr--r-- \"PREV\\n\"\n@L.u -rw-r--r-- \"crashed\\n\"\ncurrent -rwxr--r-- \"new\\n\"\nlock -rw------- \"\"\nstate -rw-r--r-- \"\""
	if got != want {
		t.Fatalf("layout\n%s\nwant\n%s", got, want)
	}
	os.WriteFile(filepath.Join(d, "processed"), []byte("DONE\n"), 0o744)
	os.WriteFile(filepath.Join(d, "newstate"), []byte("st"), 0o644)
	runML(t, testbin.Path(t, "multilog"), dir, "", "./d")
	if !strings.Contains(layout(t, d), `@L.s -rwxr--r-- "DONE\n"`) || readFile(filepath.Join(d, "state")) != "st" {
		t.Fatalf("processed not installed:\n%s", layout(t, d))
	}
}

// startPiped starts ours reading from a pipe we write to.
func startPiped(t *testing.T, dir string, args ...string) (*exec.Cmd, *os.File, *syncBuffer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testbin.Path(t, "multilog"), args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, testEnv, r
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	return cmd, w, stderr
}

// syncBuffer is a bytes.Buffer the test reads while the command writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TERM finishes the line in hand, exits 0 and leaves the rest in the pipe.
func TestTermFinishesLine(t *testing.T) {
	dir := t.TempDir()
	r, w, _ := os.Pipe()
	cmd := exec.Command(testbin.Path(t, "multilog"), "./d")
	cmd.Dir, cmd.Stdin = dir, r
	cmd.Start()
	w.WriteString("one\npart")
	cur := filepath.Join(dir, "d/current")
	waitFor(t, func() bool { return readFile(cur) == "one\npart" })
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond)
	w.WriteString("ial\nrest\n")
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rest, _ := io.ReadAll(r)
	if readFile(cur) != "one\npartial\n" || string(rest) != "rest\n" {
		t.Fatalf("current %q, left in pipe %q", readFile(cur), rest)
	}
}

// ALRM rotates a non-empty current at once.
func TestAlarmRotates(t *testing.T) {
	dir := t.TempDir()
	cmd, w, _ := startPiped(t, dir, "./d")
	w.WriteString("a\n")
	cur := filepath.Join(dir, "d/current")
	waitFor(t, func() bool { return readFile(cur) == "a\n" })
	cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, func() bool { return strings.Contains(layout(t, filepath.Join(dir, "d")), `@L.s -rwxr--r-- "a\n"`) })
	w.WriteString("b\n")
	w.Close()
	cmd.Wait()
	if readFile(cur) != "b\n" {
		t.Fatalf("current %q", readFile(cur))
	}
}

// kill -9 at random moments under a steady writer through a pipe: after the
// restarts every line is there, in order (a chunk may appear twice).
func TestKillNineLosesNothing(t *testing.T) {
	t.Run("plain", func(t *testing.T) { killNine(t, "t", "s100000", "n1000", "./d") })
	t.Run("patterns", func(t *testing.T) { killNine(t, "t", "-*", "+* line *", "s100000", "n1000", "./d") })
}

func killNine(t *testing.T, args ...string) {
	dir := t.TempDir()
	r, w, _ := os.Pipe()
	const total = 200000
	go func() {
		for i := range total {
			fmt.Fprintf(w, "line %07d %s\n", i, strings.Repeat("x", 60))
		}
		w.Close()
	}()
	for kill := 0; ; kill++ {
		cmd := exec.Command(testbin.Path(t, "multilog"), args...)
		cmd.Dir, cmd.Stdin = dir, r
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if kill < 8 {
			time.Sleep(time.Duration(20+kill*13) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			continue
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		break
	}
	r.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "d/@*"))
	sort.Strings(files)
	files = append(files, filepath.Join(dir, "d/current"))
	next := 0
	for _, f := range files {
		for _, line := range strings.Split(strings.TrimSuffix(readFile(f), "\n"), "\n") {
			if len(line) < 26 {
				continue
			}
			fields := strings.Fields(line[26:])
			if len(fields) != 3 {
				continue // a line split by a kill
			}
			n, _ := strconv.Atoi(fields[1])
			if n > next {
				t.Fatalf("line %d missing (found %d) in %s", next, n, f)
			}
			if n == next {
				next++
			}
		}
	}
	if next != total {
		t.Fatalf("only %d of %d lines", next, total)
	}
}

// On a full disk multilog warns, pauses and retries; once there is room
// every line is there exactly once.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatalf("mount tmpfs (tests run as root): %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	filler := filepath.Join(dir, "filler")
	f, _ := os.Create(filler)
	f.Write(make([]byte, 256*1024)) // fills the tmpfs; the error is expected
	f.Close()
	os.Mkdir(filepath.Join(dir, "d"), 0o700)
	cmd, w, stderr := startPiped(t, dir, "s4096", "n1000", "./d")
	var want strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	go func() { w.WriteString(want.String()); w.Close() }()
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "out of disk space") })
	os.Remove(filler)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "d/@*"))
	sort.Strings(files)
	var got strings.Builder
	for _, f := range append(files, filepath.Join(dir, "d/current")) {
		got.WriteString(readFile(f))
	}
	if got.String() != want.String() {
		t.Fatalf("got %d bytes, want %d", got.Len(), want.Len())
	}
	if !strings.HasPrefix(stderr.String(), "multilog: warning: unable to ") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// A line far longer than any buffer streams through, split only at SIZE.
func TestLongLine(t *testing.T) {
	dir := t.TempDir()
	cmd, w, _ := startPiped(t, dir, "t", "s16777215", "-nothing", "e", "./d")
	long := strings.Repeat("0123456789abcdef", 1<<20) // 16 MB, no newline until the end
	go func() { w.WriteString(long + "\nnext\n"); w.Close() }()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "d/@*.s"))
	if len(files) != 1 {
		t.Fatalf("%d old files", len(files))
	}
	all := readFile(files[0]) + readFile(filepath.Join(dir, "d/current"))
	if len(all) != 26+len(long)+1+26+5 || all[26:26+len(long)] != long || all[len(all)-5:] != "next\n" {
		t.Fatalf("got %d bytes", len(all))
	}
}
