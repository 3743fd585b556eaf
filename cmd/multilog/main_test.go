package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// pause is the test-only retry interval (multilog.PauseEnv).
const pauseEnv = "MULTILOG_TEST_PAUSE=50ms"

type result struct {
	stderr string
	code   int
}

// runLog runs prog with args in dir, input on a pipe, and waits.
func runLog(t *testing.T, prog, dir string, input []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), pauseEnv)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stderr.String(), code}
}

// logFiles lists a log directory: name (with @ files as "@.s"/"@.u" in
// order), mode and, for @ files, the contents concatenated in order.
func logFiles(t *testing.T, dir string) (layout []string, logged []byte) {
	t.Helper()
	files, others, err := svtest.LogFiles(dir)
	testbin.Must(t, err)
	for _, name := range append(files, others...) {
		info, err := os.Lstat(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue // renamed by a rotation under way
		}
		testbin.Must(t, err)
		if strings.HasPrefix(name, "@") {
			if len(name) != 27 || (name[26] != 's' && name[26] != 'u') {
				t.Errorf("bad log file name %q", name)
			}
			name = "@." + name[26:]
		}
		entry := fmt.Sprintf("%s %v", name, info.Mode())
		if len(layout) == 0 || layout[len(layout)-1] != entry { // @ files vary in number
			layout = append(layout, entry)
		}
	}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		logged = append(logged, b...)
	}
	return layout, logged
}

func numbered(n, width int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%0*d line of a log\n", width, i)
	}
	return b.Bytes()
}

func TestActionsAndLayoutLikeReference(t *testing.T) {
	t.Parallel()
	ours, ref := testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")
	var input bytes.Buffer
	input.Write(numbered(3000, 5))
	input.WriteString(strings.Repeat("a", 1200) + "b\n" + strings.Repeat("long", 400) + "\nbinary \x00\x01\xff bytes\n\nstar*b\nno newline at end")
	args := []string{"e", "-*7*", "-a*b", "=st", "./all", "+*b*", "s4096", "n100", "./sel", "-*", "+*9 line*", "e", "/ABS/nines"}
	type outcome struct {
		res     result
		layouts [][]string
		logs    [][]byte
		status  []byte
	}
	run := func(prog string) outcome {
		dir := t.TempDir()
		a := slices.Clone(args)
		a[len(a)-1] = dir + "/nines"
		res := runLog(t, prog, dir, input.Bytes(), a...)
		var o outcome
		o.res = res
		for _, d := range []string{"all", "sel", "nines"} {
			l, b := logFiles(t, filepath.Join(dir, d))
			o.layouts = append(o.layouts, l)
			o.logs = append(o.logs, b)
		}
		o.status, _ = os.ReadFile(filepath.Join(dir, "st"))
		return o
	}
	got, want := run(ours), run(ref)
	if got.res != want.res {
		t.Errorf("stderr/code: got %q %d, reference %q %d", got.res.stderr, got.res.code, want.res.stderr, want.res.code)
	}
	for i := range got.logs {
		if !bytes.Equal(got.logs[i], want.logs[i]) {
			t.Errorf("directory %d: logged %d bytes, reference %d", i, len(got.logs[i]), len(want.logs[i]))
		}
		if !slices.Equal(got.layouts[i], want.layouts[i]) {
			t.Errorf("directory %d layout:\n%q\nreference:\n%q", i, got.layouts[i], want.layouts[i])
		}
	}
	if !bytes.Equal(got.status, want.status) {
		t.Errorf("= file: got %q, reference %q", got.status, want.status)
	}
}

func TestStampFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runLog(t, testbin.Path(t, "multilog"), dir, []byte("a\nb"), "t", "./d")
	b, _ := os.ReadFile(filepath.Join(dir, "d/current"))
	lines := strings.Split(string(b), "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("current = %q", b)
	}
	for i, want := range []string{"a", "b"} {
		l := lines[i]
		if len(l) != 27 || l[0] != '@' || l[25] != ' ' || l[26:] != want {
			t.Errorf("line %d = %q", i, l)
		}
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	prog := testbin.Path(t, "multilog")
	for _, tc := range []struct {
		name  string
		input []byte
		args  []string
		check func(t *testing.T, sizes []int, files [][]byte)
	}{
		{"lines", numbered(2000, 6), []string{"s4096", "n100", "./d"}, func(t *testing.T, sizes []int, files [][]byte) {
			for i, f := range files[:len(files)-1] {
				if len(f) < 4096-2000 || len(f) > 4096 || f[len(f)-1] != '\n' {
					t.Errorf("file %d: %d bytes, ends %q", i, len(f), f[len(f)-1:])
				}
				// The first newline within 2000 bytes of SIZE ends the file.
				if j := bytes.IndexByte(f[4096-2000-1:], '\n'); j != len(f)-(4096-2000-1)-1 {
					t.Errorf("file %d: %d bytes: newline at %d went by", i, len(f), 4096-2000-1+j)
				}
			}
		}},
		{"endless line", bytes.Repeat([]byte("x"), 10000), []string{"s4096", "./d"}, func(t *testing.T, sizes []int, files [][]byte) {
			if !slices.Equal(sizes, []int{4096, 4096, 1809}) {
				t.Errorf("sizes %v", sizes)
			}
		}},
		{"oldest deleted", numbered(2000, 6), []string{"s4096", "n3", "./d"}, func(t *testing.T, sizes []int, files [][]byte) {
			if len(files) != 3 {
				t.Errorf("%d files, want 2 old and current", len(files))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if r := runLog(t, prog, dir, tc.input, tc.args...); r.code != 0 || r.stderr != "" {
				t.Fatal(r)
			}
			_, logged := logFiles(t, filepath.Join(dir, "d"))
			want := tc.input
			if !bytes.HasSuffix(want, []byte("\n")) {
				want = append(want, '\n')
			}
			if !bytes.HasSuffix(want, logged) {
				t.Errorf("logged is not the end of the input")
			}
			olds, _ := filepath.Glob(filepath.Join(dir, "d/@*.s"))
			var sizes []int
			var files [][]byte
			for _, n := range append(olds, filepath.Join(dir, "d/current")) {
				b, err := os.ReadFile(n)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(b))
				files = append(files, b)
			}
			tc.check(t, sizes, files)
		})
	}
}

func TestProcessor(t *testing.T) {
	t.Parallel()
	prog := testbin.Path(t, "multilog")
	dir := t.TempDir()
	// Fails on its first run, then upper-cases, counting runs in the state.
	proc := `!if [ ! -e ../failed ]; then : >../failed; echo oops >&2; exit 1; fi; tr a-z A-Z; read n <&4; echo $((n+1)) >&5; ls -l /proc/self/fd >../fds`
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "d.state"), nil, 0o644))
	r := runLog(t, prog, dir, numbered(150, 4), "s4096", proc, "./d")
	if r.code != 0 {
		t.Fatal(r)
	}
	if want := "oops\nmultilog: warning: processor failed in ./d, pausing\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	olds, _ := filepath.Glob(filepath.Join(dir, "d/@*.s"))
	if len(olds) != 1 {
		t.Fatalf("old files %v", olds)
	}
	b, _ := os.ReadFile(olds[0])
	if !bytes.Equal(b, bytes.ToUpper(numbered(150, 4)[:len(b)])) {
		t.Errorf("processed %q", b)
	}
	if st, _ := os.ReadFile(filepath.Join(dir, "d/state")); string(st) != "1\n" {
		t.Errorf("state %q", st)
	}
	// ls inherits fds 0, 4 and 5 and opens 3 itself: nothing else leaks.
	fds, err := os.ReadFile(filepath.Join(dir, "fds"))
	testbin.Must(t, err)
	listed := 0
	for _, l := range strings.Split(string(fds), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 11 {
			continue
		}
		fd, target := f[8], f[10]
		listed++
		want := map[string]string{"0": "/d/previous", "1": "/fds", "2": "", "3": "", "4": "/d/state", "5": "/d/newstate"}
		suffix, ok := want[fd]
		if mine, err := os.Readlink("/proc/self/fd/" + fd); !ok && err == nil && mine == target {
			continue // the test itself inherited it
		}
		if !ok || !strings.HasSuffix(target, suffix) {
			t.Errorf("processor has fd %s on %s", fd, target)
		}
	}
	if listed < 5 {
		t.Errorf("the processor's ls listed %d descriptors:\n%s", listed, fds)
	}
	layout, _ := logFiles(t, filepath.Join(dir, "d"))
	want := []string{"@.s -rwxr--r--", "current -rwxr--r--", "lock -rw-------", "state -rw-r--r--"}
	if !slices.Equal(layout, want) {
		t.Errorf("layout %q, want %q", layout, want)
	}
}

func TestRecovery(t *testing.T) {
	t.Parallel()
	prog := testbin.Path(t, "multilog")
	for _, tc := range []struct {
		name   string
		files  map[string]string
		modes  map[string]os.FileMode
		args   []string
		logged string
		state  string
	}{
		{"current cut short", map[string]string{"current": "old\n"}, map[string]os.FileMode{"current": 0o644}, nil, "old\nnew\n", ""},
		{"current complete", map[string]string{"current": "old\n"}, map[string]os.FileMode{"current": 0o744}, nil, "old\nnew\n", ""},
		{"previous left", map[string]string{"previous": "prev\n", "current": "cur\n", "processed": "par", "newstate": "x"},
			map[string]os.FileMode{"current": 0o744}, []string{"!tr a-z A-Z; echo done >&5"}, "PREV\ncur\nnew\n", "done\n"},
		{"processed left", map[string]string{"processed": "proc\n", "newstate": "ns\n", "state": "st\n"}, nil, nil, "proc\nnew\n", "ns\n"},
		{"newstate alone", map[string]string{"newstate": "ns\n", "state": "st\n"}, nil, nil, "new\n", "st\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d := filepath.Join(dir, "d")
			testbin.Must(t, os.Mkdir(d, 0o755))
			for n, c := range tc.files {
				mode := tc.modes[n]
				if mode == 0 {
					mode = 0o644
				}
				testbin.Must(t, os.WriteFile(filepath.Join(d, n), []byte(c), 0o600))
				testbin.Must(t, os.Chmod(filepath.Join(d, n), mode))
			}
			if r := runLog(t, prog, dir, []byte("new\n"), append(tc.args, "./d")...); r.code != 0 || r.stderr != "" {
				t.Fatal(r)
			}
			layout, logged := logFiles(t, d)
			if string(logged) != tc.logged {
				t.Errorf("logged %q, want %q (layout %q)", logged, tc.logged, layout)
			}
			for _, l := range layout {
				if strings.HasPrefix(l, "previous") || strings.HasPrefix(l, "processed") || strings.HasPrefix(l, "newstate") {
					t.Errorf("left behind: %s", l)
				}
			}
			if st, _ := os.ReadFile(filepath.Join(d, "state")); string(st) != tc.state {
				t.Errorf("state %q, want %q", st, tc.state)
			}
		})
	}
}

func TestLockedDirectory(t *testing.T) {
	t.Parallel()
	ours, ref := testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")
	for _, prog := range []string{ours, ref} {
		dir := t.TempDir()
		first := startLog(t, prog, dir, "./d")
		waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "d/current")); return err == nil })
		// The second one must give up without reading its input, which
		// never ends.
		pr, pw, err := os.Pipe()
		testbin.Must(t, err)
		cmd := exec.Command(prog, "./d")
		cmd.Dir, cmd.Stdin = dir, pr
		out, err := cmd.CombinedOutput()
		pr.Close()
		pw.Close()
		if cmd.ProcessState.ExitCode() != 111 || string(out) != "multilog: fatal: unable to lock directory ./d: temporary failure\n" {
			t.Errorf("%s: %v %q", prog, err, out)
		}
		first.stop(t)
	}
}

// logger is a multilog running on a pipe the test writes to.
type logger struct {
	cmd *exec.Cmd
	w   *os.File
	r   *os.File // the test keeps the read end too, as svscan does
	err bytes.Buffer
}

func startLog(t *testing.T, prog, dir string, args ...string) *logger {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	l := &logger{w: w, r: r}
	l.start(t, prog, dir, args...)
	t.Cleanup(func() { l.cmd.Process.Kill(); l.cmd.Wait(); r.Close(); w.Close() })
	return l
}

func (l *logger) start(t *testing.T, prog, dir string, args ...string) {
	t.Helper()
	l.cmd = exec.Command(prog, args...)
	l.cmd.Dir, l.cmd.Stdin, l.cmd.Stderr = dir, l.r, &l.err
	l.cmd.Env = append(os.Environ(), pauseEnv)
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// stop closes the input and waits for a clean exit.
func (l *logger) stop(t *testing.T) {
	t.Helper()
	l.w.Close()
	if err := l.cmd.Wait(); err != nil {
		t.Errorf("multilog: %v, stderr %q", err, l.err.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	svtest.WaitFor(t, 10*time.Second, "multilog", cond)
}

func fileIs(path, want string) func() bool {
	return func() bool { b, _ := os.ReadFile(path); return string(b) == want }
}

func TestTermFinishesLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := startLog(t, testbin.Path(t, "multilog"), dir, "-x*", "./d")
	cur := filepath.Join(dir, "d/current")
	l.w.WriteString("one\npart")
	waitFor(t, fileIs(cur, "one\n"))
	l.cmd.Process.Signal(syscall.SIGTERM)
	// It must wait for the end of the line: nothing shows that it has
	// taken the signal in, so watch it for a while.
	if !svtest.Holds(svtest.Scaled(100*time.Millisecond), func() bool { return svtest.Alive(l.cmd.Process.Pid) }) {
		t.Fatal("exited before the line ended")
	}
	l.w.WriteString("ial\nleft unread\n")
	if err := l.cmd.Wait(); err != nil {
		t.Fatal(err, l.err.String())
	}
	if b, _ := os.ReadFile(cur); string(b) != "one\npartial\n" {
		t.Errorf("current %q", b)
	}
	l.w.Close()
	rest, _ := io.ReadAll(l.r)
	if string(rest) != "left unread\n" {
		t.Errorf("left in the pipe: %q", rest)
	}
	if fi, _ := os.Stat(cur); fi.Mode() != 0o744 {
		t.Errorf("current mode %v", fi.Mode())
	}
}

func TestAlarmRotates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := startLog(t, testbin.Path(t, "multilog"), dir, "./d")
	cur := filepath.Join(dir, "d/current")
	l.w.WriteString("one\n")
	waitFor(t, fileIs(cur, "one\n"))
	l.cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, func() bool { m, _ := filepath.Glob(filepath.Join(dir, "d/@*.s")); return len(m) == 1 })
	l.w.WriteString("two\n")
	waitFor(t, fileIs(cur, "two\n"))
	l.cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, func() bool { m, _ := filepath.Glob(filepath.Join(dir, "d/@*.s")); return len(m) == 2 })
	waitFor(t, func() bool { fi, err := os.Stat(cur); return err == nil && fi.Size() == 0 })
	// current is empty: nothing to rotate. TERM, sent after ALRM and
	// numbered above it, reaches multilog's signal loop after it (the
	// kernel and the Go runtime both hand out the lowest pending first),
	// so multilog acts on the ALRM before it exits, unlike at the end of
	// input, which could win the race.
	l.cmd.Process.Signal(syscall.SIGALRM)
	l.cmd.Process.Signal(syscall.SIGTERM)
	if err := l.cmd.Wait(); err != nil {
		t.Fatal(err, l.err.String())
	}
	olds, _ := filepath.Glob(filepath.Join(dir, "d/@*.s"))
	if len(olds) != 2 {
		t.Fatalf("old files %v", olds)
	}
	for i, want := range []string{"one\n", "two\n"} {
		if b, _ := os.ReadFile(olds[i]); string(b) != want {
			t.Errorf("rotated %q, want %q", b, want)
		}
	}
}

// TestKillLosesNothing kills multilog at random moments under a steady
// writer and restarts it: every line must be there, whole, in order, even
// when the writer sends some lines in two pieces.
func TestKillLosesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plain", []string{"t", "s8192", "n1000", "./d"}},
		{"pattern", []string{"t", "-*nothing*", "s65536", "!cat", "n1000", "./d"}},
	} {
		t.Run(tc.name, func(t *testing.T) { killTest(t, tc.args) })
	}
}

func killTest(t *testing.T, args []string) {
	rng := svtest.NewRand(t, "TEST_SEED")
	prog := testbin.Path(t, "multilog")
	dir := t.TempDir()
	l := startLog(t, prog, dir, args...)
	const lines = 40000
	done := make(chan error, 1)
	go func() {
		for i := range lines {
			line := fmt.Sprintf("%06d steady writer\n", i)
			if i%50 == 7 {
				if _, err := io.WriteString(l.w, line[:9]); err != nil {
					done <- err
					return
				}
				time.Sleep(100 * time.Microsecond)
				line = line[9:]
			}
			if _, err := io.WriteString(l.w, line); err != nil {
				done <- err
				return
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		done <- nil
	}()
	for range 8 {
		time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond) // the random moment of the kill
		l.cmd.Process.Kill()
		l.cmd.Wait()
		l.start(t, prog, dir, args...)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l.stop(t)
	files, _, err := svtest.LogFiles(filepath.Join(dir, "d"))
	testbin.Must(t, err)
	var logged []byte
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, "d", name))
		testbin.Must(t, err)
		if strings.HasSuffix(name, ".u") {
			// A write the kill cut short may end a .u file with part of
			// a line; the next multilog wrote the whole line again.
			b = b[:bytes.LastIndexByte(b, '\n')+1]
		}
		logged = append(logged, b...)
	}
	next := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(logged), "\n"), "\n") {
		if len(line) != 26+20 || line[0] != '@' || !strings.HasSuffix(line, " steady writer") {
			t.Fatalf("bad line %q", line)
		}
		n, err := strconv.Atoi(line[26:32])
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		switch {
		case n == next:
			next++
		case n > next:
			t.Fatalf("line %d lost (found %d)", next, n)
		} // n < next: a chunk written again after a kill
	}
	if next != lines {
		t.Fatalf("only %d of %d lines", next, lines)
	}
}

func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	testbin.Must(t, os.Mkdir(mnt, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	l := startLog(t, testbin.Path(t, "multilog"), dir, "s4096", "n100", "./mnt/d")
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(mnt, "d/current")); return err == nil })
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v, want ENOSPC", err)
	}
	input := numbered(2000, 5)
	go l.w.Write(input)
	warning := "multilog: warning: unable to write to ./mnt/d/current, pausing: out of disk space\n"
	waitFor(t, func() bool { return strings.Contains(l.err.String(), warning) })
	testbin.Must(t, os.Remove(filler))
	waitFor(t, func() bool { _, logged := logFiles(t, filepath.Join(mnt, "d")); return len(logged) == len(input) })
	l.stop(t)
	if _, logged := logFiles(t, filepath.Join(mnt, "d")); !bytes.Equal(logged, input) {
		t.Errorf("logged %d bytes, not the input", len(logged))
	}
	for _, line := range strings.SplitAfter(l.err.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "multilog: warning: unable to ") {
			t.Errorf("stderr line %q", line)
		}
	}
}

// TestWritebackFails gives multilog an ext4 filesystem on a loop device
// whose backing file lives on a tmpfs too small for it: write(2) succeeds,
// but the writeback fails and the kernel reports it once, to the next
// sync. multilog must write again what the disk lost, pause while it
// keeps failing, and once the tmpfs grows, every byte must be on the
// disk: read back after mounting the filesystem again.
func TestWritebackFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	testbin.Must(t, os.Mkdir(backing, 0o755))
	testbin.Must(t, os.Mkdir(mnt, 0o755))
	sh := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	sh("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", backing)
	t.Cleanup(func() { exec.Command("umount", "-l", backing).Run() })
	image := filepath.Join(backing, "image")
	sh("truncate", "-s", "16M", image)
	dev := sh("losetup", "-f", "--show", image)
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	sh("mkfs.ext4", "-q", "-N", "32", "-m", "0", dev)
	sh("mount", dev, mnt)
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

	l := startLog(t, testbin.Path(t, "multilog"), dir, "s16777215", "./mnt/d")
	input := numbered(200000, 6) // 4.2 MB: more than the tmpfs can take
	wrote := make(chan error, 1)
	go func() { _, err := l.w.Write(input); wrote <- err }()
	warning := "multilog: warning: unable to write ./mnt/d/current to disk, pausing: "
	waitFor(t, func() bool { return strings.Contains(l.err.String(), warning) })
	sh("mount", "-o", "remount,size=64m", backing)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	l.stop(t)
	sh("umount", mnt)
	sh("mount", dev, mnt)
	logged, err := os.ReadFile(filepath.Join(mnt, "d/current"))
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDifference(logged, input); i >= 0 {
		t.Errorf("current on disk: %d bytes, differs from the input at byte %d", len(logged), i)
	}
	for _, line := range strings.SplitAfter(l.err.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, warning) {
			t.Errorf("stderr line %q", line)
		}
	}
}

// firstDifference returns where a and b first differ, -1 if nowhere.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestRenameFails blocks the rotation's rename of current to previous
// with a directory named previous: multilog warns, pauses and retries
// until the directory goes, and every line arrives once, in order.
func TestRenameFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := startLog(t, testbin.Path(t, "multilog"), dir, "s4096", "n100", "./d")
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "d/current")); return err == nil })
	blocker := filepath.Join(dir, "d/previous")
	if err := os.MkdirAll(filepath.Join(blocker, "in the way"), 0o755); err != nil {
		t.Fatal(err)
	}
	input := numbered(2000, 5)
	go l.w.Write(input)
	warning := "multilog: warning: unable to rename current to previous in directory ./d, pausing: is a directory\n"
	waitFor(t, func() bool { return strings.Contains(l.err.String(), warning) })
	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, logged := logFiles(t, filepath.Join(dir, "d")); return len(logged) == len(input) })
	l.stop(t)
	if _, logged := logFiles(t, filepath.Join(dir, "d")); !bytes.Equal(logged, input) {
		t.Errorf("logged %d bytes, not the input", len(logged))
	}
	for _, line := range strings.SplitAfter(l.err.String(), "\n") {
		if line != "" && line != warning {
			t.Errorf("stderr line %q", line)
		}
	}
}

// peakKB returns the peak resident memory of process pid in kB.
func peakKB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	testbin.Must(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "kB")))
			testbin.Must(t, err)
			return kb
		}
	}
	t.Fatalf("/proc/%d/status: no VmHWM", pid)
	return 0
}

// TestEndlessLine sends a long line without a newline through a pipe:
// it is cut at SIZE, ends with a newline, and memory stays small.
func TestEndlessLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const size = 40 << 20
	cmd := exec.Command(testbin.Path(t, "multilog"), "t", "-x*", "e", "s16777215", "./d")
	cmd.Dir = dir
	r, w, err := os.Pipe()
	testbin.Must(t, err)
	defer w.Close()
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	r.Close()
	testbin.Must(t, err)
	block := bytes.Repeat([]byte("y\x00\xff"), 1<<16)
	for n := 0; n < size; n += len(block) {
		w.Write(block[:min(len(block), size-n)])
	}
	// Its peak so far, once it has read everything: not the rusage's
	// maxrss, which counts this process's memory too (Go starts a child
	// with vfork, and the kernel charges the memory left at its exec).
	svtest.WaitFor(t, 10*time.Second, "multilog to read all its input", func() bool {
		n, err := unix.IoctlGetInt(int(w.Fd()), unix.TIOCINQ) // FIONREAD
		return err == nil && n == 0
	})
	if peak := peakKB(t, cmd.Process.Pid); peak > 32<<10 {
		t.Errorf("peak memory %d kB", peak)
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err, stderr.String())
	}
	olds, _ := filepath.Glob(filepath.Join(dir, "d/@*.s"))
	total := 0
	for _, n := range append(olds, filepath.Join(dir, "d/current")) {
		fi, err := os.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if n != filepath.Join(dir, "d/current") && fi.Size() != 16777215 {
			t.Errorf("%s: %d bytes", n, fi.Size())
		}
		total += int(fi.Size())
	}
	if total != 26+size+1 {
		t.Errorf("logged %d bytes, want %d", total, 26+size+1)
	}
	if e := stderr.String(); len(e) != 204 || !strings.HasSuffix(e, "...\n") {
		t.Errorf("e printed %q", e)
	}
}

func TestFatalLikeReference(t *testing.T) {
	t.Parallel()
	ours, ref := testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")
	dir := t.TempDir()
	testbin.Must(t, os.Chmod(filepath.Dir(dir), 0o755)) // nobody must get this far
	testbin.Must(t, os.Chmod(dir, 0o755))
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "afile"), nil, 0o644))
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "secret"), nil, 0o600))
	testbin.Must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	// nobody's own directory, read-only by its mode alone.
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "ro"), 0o555))
	testbin.Must(t, os.Chown(filepath.Join(dir, "ro"), 65534, 65534))
	// A copy nobody can run.
	copied := filepath.Join(dir, "multilog")
	svtest.CopyProgram(t, ours, copied)
	ours = copied
	for _, tc := range []struct {
		name   string
		args   []string
		nobody bool
		want   string
	}{
		{"not a directory", []string{"./afile"}, false, "unable to open directory ./afile: not a directory"},
		{"no parent", []string{"./missing/d"}, false, "unable to open directory ./missing/d: file does not exist"},
		// Opened before it is known to be a file: the open says why not.
		{"unreadable file", []string{"./secret"}, true, "unable to open directory ./secret: access denied"},
		{"FIFO", []string{"./fifo"}, false, "unable to open directory ./fifo: not a directory"},
		// multilog's mkdir fails unreported; the open says why not.
		{"read-only parent", []string{"./ro/d"}, true, "unable to open directory ./ro/d: file does not exist"},
		{"= file not writable", []string{"=ro/st"}, true, "unable to create ro/st: access denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for i, prog := range []string{ours, ref} {
				cmd := exec.Command(prog, tc.args...)
				cmd.Dir, cmd.Stdin = dir, strings.NewReader("x\n")
				if tc.nobody {
					cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				}
				out, err := cmd.CombinedOutput()
				if cmd.ProcessState == nil {
					t.Fatalf("%s: %v", prog, err) // it did not start
				}
				got[i] = fmt.Sprintf("%d %s", cmd.ProcessState.ExitCode(), out)
			}
			if want := "111 multilog: fatal: " + tc.want + "\n"; got[0] != want || got[1] != want {
				t.Errorf("got %q, reference %q, want %q", got[0], got[1], want)
			}
		})
	}
}

// TestFileInput reads input that is not a pipe, with plain reads.
func TestFileInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := append(numbered(5000, 6), "no newline"...)
	path := filepath.Join(dir, "input")
	testbin.Must(t, os.WriteFile(path, input, 0o644))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(testbin.Path(t, "multilog"), "s16384", "n1000", "./d")
	cmd.Dir, cmd.Stdin = dir, f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	if _, logged := logFiles(t, filepath.Join(dir, "d")); string(logged) != string(input)+"\n" {
		t.Errorf("logged %d bytes, want %d", len(logged), len(input)+1)
	}
}
