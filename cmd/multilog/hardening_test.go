package main

// Bad input and odd files (issue 12): each case hung or looped before.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// exitWithin is how long a multilog that should finish may take (scaled).
const exitWithin = 10 * time.Second

// launch starts cmd (a multilog in dir, reading stdin) in a session of its
// own, killed when the test ends, its stderr going to a file.
func launch(t *testing.T, cmd *exec.Cmd, dir string, stdin *os.File) (*svtest.Group, *os.File) {
	t.Helper()
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	testbin.Must(t, err)
	cmd.Dir, cmd.Stdin, cmd.Stderr = dir, stdin, stderr
	return svtest.Start(t, cmd), stderr
}

// exit waits for g's exit and returns its code and what it wrote to stderr.
func exit(t *testing.T, g *svtest.Group, stderr *os.File) (int, string) {
	t.Helper()
	code := g.Wait(t, exitWithin)
	out, err := os.ReadFile(stderr.Name())
	testbin.Must(t, err)
	return code, string(out)
}

// logged is what log directory dir holds, its files in order.
func logged(t *testing.T, dir string) string {
	t.Helper()
	_, b := logFiles(t, dir)
	return string(b)
}

// spliceInPieces moves data into w with splice(2) from a file, piece bytes
// per call: each call makes a pipe buffer of its own, as a zero-copy relay
// from a socket does.
func spliceInPieces(w *os.File, data []byte, piece int) error {
	f, err := os.CreateTemp("", "pieces-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	var off int64
	for off < int64(len(data)) {
		n := min(piece, len(data)-int(off))
		if _, err := unix.Splice(int(f.Fd()), &off, int(w.Fd()), nil, n, 0); err != nil {
			return err
		}
	}
	return nil
}

// spliceUnblocked splices data into w in pieces of 2 bytes, and fails
// the test if the writer is still blocked after exitWithin: multilog
// does not make room for a line in many pieces.
func spliceUnblocked(t *testing.T, w *os.File, data string) {
	t.Helper()
	spliced := make(chan error, 1)
	go func() { spliced <- spliceInPieces(w, []byte(data), 2) }()
	select {
	case err := <-spliced:
		testbin.Must(t, err)
	case <-time.After(svtest.Scaled(exitWithin)):
		t.Fatal("the writer is still blocked: multilog does not make room for a line in many pieces")
	}
}

// A partial line in 30 pipe buffers, more than a pipe has by default: both
// lines are logged, as by the reference.
func TestFragmentedLineLikeReference(t *testing.T) {
	t.Parallel()
	partial := strings.Repeat("ab", 30)
	for _, prog := range []string{testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")} {
		logsBothLines(t, exec.Command(prog, "./d"), t.TempDir(), partial, 2)
	}
}

// logsBothLines runs cmd, a multilog of ./d in dir, on a pipe into which
// partial is spliced in pieces, then a newline and a second line; it fails
// the test unless both lines are logged and cmd exits 0 quietly.
func logsBothLines(t *testing.T, cmd *exec.Cmd, dir, partial string, piece int) {
	t.Helper()
	r, w, err := os.Pipe()
	testbin.Must(t, err)
	m, stderr := launch(t, cmd, dir, r)
	r.Close()
	spliced := make(chan error, 1)
	go func() {
		err := spliceInPieces(w, []byte(partial), piece)
		if err == nil {
			_, err = w.Write([]byte("\nnext line\n"))
		}
		w.Close()
		spliced <- err
	}()
	code, out := exit(t, m, stderr)
	testbin.Must(t, <-spliced)
	if got := logged(t, filepath.Join(dir, "d")); code != 0 || out != "" || got != partial+"\nnext line\n" {
		t.Errorf("%s: exit %d %q, logged %q", cmd.Path, code, out, got)
	}
}

// A multilog killed while it holds such a line loses none of it: the line
// stays in the pipe for the next one.
func TestFragmentedLineSurvivesKill9(t *testing.T) {
	t.Parallel()
	ours := testbin.Path(t, "multilog")
	partial := "x" + strings.Repeat("yz", 60)
	dir := t.TempDir()
	r, w, err := os.Pipe()
	testbin.Must(t, err)
	defer r.Close()
	first, _ := launch(t, exec.Command(ours, "t", "./d"), dir, r)
	spliceUnblocked(t, w, partial)
	first.Kill9(t)
	second, stderr := launch(t, exec.Command(ours, "t", "./d"), dir, r)
	_, err = w.Write([]byte("\nnext line\n"))
	testbin.Must(t, err)
	w.Close()
	if code, out := exit(t, second, stderr); code != 0 || out != "" {
		t.Fatalf("exit %d %q", code, out)
	}
	lines := strings.Split(logged(t, filepath.Join(dir, "d")), "\n")
	var unstamped []string
	for _, l := range lines {
		if len(l) > 26 && l[0] == '@' && l[25] == ' ' {
			l = l[26:]
		}
		unstamped = append(unstamped, l)
	}
	if want := []string{partial, "next line", ""}; strings.Join(unstamped, "|") != strings.Join(want, "|") {
		t.Errorf("logged %q, want %q", lines, want)
	}
}

// The processor is /bin/sh -c, whatever PATH says (or without one).
func TestProcessorWithoutPathLikeReference(t *testing.T) {
	t.Parallel()
	input := numbered(1000, 5) // about 20 KB: several rotations
	var got [2]string
	for i, prog := range []string{testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")} {
		dir := t.TempDir()
		in, err := os.CreateTemp(dir, "input")
		testbin.Must(t, err)
		_, err = in.Write(input)
		testbin.Must(t, err)
		_, err = in.Seek(0, 0)
		testbin.Must(t, err)
		cmd := exec.Command(prog, "!cat", "s4096", "./p")
		cmd.Env = []string{pauseEnv} // no PATH
		m, stderr := launch(t, cmd, dir, in)
		code, out := exit(t, m, stderr)
		in.Close()
		u, _ := filepath.Glob(filepath.Join(dir, "p", "@*.u"))
		if code != 0 || out != "" || len(u) != 0 || logged(t, filepath.Join(dir, "p")) != string(input) {
			t.Errorf("%s: exit %d %.200q, .u files %q", prog, code, out, u)
		}
		got[i] = strconv.Itoa(len(logged(t, filepath.Join(dir, "p"))))
	}
	if got[0] != got[1] {
		t.Errorf("logged %s bytes, reference %s", got[0], got[1])
	}
}

// FIFOs where multilog expects files fail at once, as in the reference;
// opening them for writing would wait for a reader forever.
func TestFIFOsLikeReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, fifo string
		args       []string
		want       string
	}{
		{"lock", "d/lock", []string{"./d"}, "multilog: fatal: unable to lock directory ./d: device not configured\n"},
		{"status file", "st", []string{"=st", "./d"}, "multilog: fatal: unable to create st: device not configured\n"},
		{"complete current", "d/current", []string{"./d"}, "multilog: fatal: unable to append to ./d/current: device not configured\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, prog := range []string{testbin.Path(t, "multilog"), testbin.Reference(t, "multilog")} {
				dir := t.TempDir()
				testbin.Must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
				testbin.Must(t, unix.Mkfifo(filepath.Join(dir, tc.fifo), 0o744))
				testbin.Must(t, os.Chmod(filepath.Join(dir, tc.fifo), 0o744)) // past the umask: a current marked complete
				in, err := os.Open(os.DevNull)
				testbin.Must(t, err)
				defer in.Close()
				m, stderr := launch(t, exec.Command(prog, tc.args...), dir, in)
				if code, out := exit(t, m, stderr); code != 111 || out != tc.want {
					t.Errorf("%s: exit %d %q, want 111 %q", prog, code, out, tc.want)
				}
			}
		})
	}
}

// ctxtSwitches is how often every thread of pid has given up or lost the
// CPU.
func ctxtSwitches(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	testbin.Must(t, err)
	total := 0
	for _, task := range tasks {
		status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/status")
		if err != nil {
			continue // the thread ended
		}
		for _, line := range strings.Split(string(status), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				testbin.Must(t, err)
				total += n
			}
		}
	}
	return total
}

// waitAsleep waits until every thread of pid sleeps and none has run
// for window. (A thread that waits for a core on a busy machine does not
// run either, but it is not asleep: it runs once it gets one.)
func waitAsleep(t *testing.T, pid int, window time.Duration) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, "multilog to sleep on its partial line", func() bool {
		before := ctxtSwitches(t, pid)
		return svtest.Holds(window, func() bool { return sleeping(t, pid) && ctxtSwitches(t, pid) == before })
	})
}

// sleeping tells whether every thread of pid is asleep (state S in its
// stat).
func sleeping(t *testing.T, pid int) bool {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	testbin.Must(t, err)
	for _, task := range tasks {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended
		}
		if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] != 'S' {
			return false
		}
	}
	return true
}

// accounts multilog runs as in the tests of its sleep: root, and nobody
// on a pipe that root made (setuidgid under svscan), for whom SIGIO from
// the pipe must come as well.
var accounts = []struct {
	name string
	uid  int
}{{"root", 0}, {"nobody", 65534}}

// multilogAs is a multilog of args run as uid in a fresh directory, which
// it returns, holding the log directory ./d for uid.
func multilogAs(t *testing.T, uid int, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(testbin.Path(t, "multilog"), args...)
	dir := testbin.PublicDir(t)
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	testbin.Must(t, os.Chown(filepath.Join(dir, "d"), uid, uid))
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	return cmd, dir
}

// A partial line that waits for its end ("Password: ") does not wake
// multilog: it sleeps until input comes or a signal, and leaves the
// pipe's flags as it found them.
func TestPartialLineSleeps(t *testing.T) {
	t.Parallel()
	for _, account := range accounts {
		t.Run(account.name, func(t *testing.T) {
			cmd, dir := multilogAs(t, account.uid, "./d")
			r, w, err := os.Pipe()
			testbin.Must(t, err)
			defer r.Close()
			defer w.Close()
			m, stderr := launch(t, cmd, dir, r)
			_, err = w.Write([]byte("Password: "))
			testbin.Must(t, err)
			waitAsleep(t, m.Pid(), 100*time.Millisecond)
			// Looking for the rest of the line now and then, however
			// seldom (it was at most once a second), shows here.
			before := ctxtSwitches(t, m.Pid())
			if !svtest.Holds(1500*time.Millisecond, func() bool { return ctxtSwitches(t, m.Pid()) == before }) {
				t.Fatalf("multilog ran %d times holding a partial line while no input came", ctxtSwitches(t, m.Pid())-before)
			}
			_, err = w.Write([]byte("secret\n"))
			testbin.Must(t, err)
			svtest.WaitFor(t, 5*time.Second, "the completed line", func() bool {
				return logged(t, filepath.Join(dir, "d")) == "Password: secret\n"
			})
			testbin.Must(t, m.Cmd.Process.Signal(syscall.SIGTERM))
			if code, out := exit(t, m, stderr); code != 0 || out != "" {
				t.Errorf("exit %d %q", code, out)
			}
			flags, err := unix.FcntlInt(r.Fd(), unix.F_GETFL, 0)
			testbin.Must(t, err)
			if flags&unix.O_ASYNC != 0 {
				t.Errorf("multilog left O_ASYNC set on its input")
			}
		})
	}
}

// pipeSize is the size of the pipe f is an end of.
func pipeSize(t *testing.T, f *os.File) int {
	t.Helper()
	size, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
	testbin.Must(t, err)
	return size
}

// onPipe starts `multilog ./d` in a fresh directory, which it returns,
// reading a new pipe, whose write end and size as made it returns too.
func onPipe(t *testing.T) (m *svtest.Group, stderr, w *os.File, size int, dir string) {
	t.Helper()
	dir = t.TempDir()
	r, w, err := os.Pipe()
	testbin.Must(t, err)
	t.Cleanup(func() { w.Close() })
	size = pipeSize(t, w)
	m, stderr = launch(t, exec.Command(testbin.Path(t, "multilog"), "./d"), dir, r)
	r.Close()
	return m, stderr, w, size, dir
}

// Once the line is written, the pipe goes back to its size.
func TestFragmentedLinePipeShrinksBack(t *testing.T) {
	t.Parallel()
	m, stderr, w, size, dir := onPipe(t)
	partial := strings.Repeat("ab", 40)
	spliceUnblocked(t, w, partial)
	if got := pipeSize(t, w); got <= size {
		t.Errorf("pipe of %d bytes holds a line in 40 pieces, was %d", got, size)
	}
	_, err := w.Write([]byte("\n"))
	testbin.Must(t, err)
	svtest.WaitFor(t, 5*time.Second, "the line", func() bool { return logged(t, filepath.Join(dir, "d")) == partial+"\n" })
	svtest.WaitFor(t, 5*time.Second, "the pipe to shrink back", func() bool { return pipeSize(t, w) == size })
	w.Close()
	if code, out := exit(t, m, stderr); code != 0 || out != "" {
		t.Errorf("exit %d %q", code, out)
	}
}

// A writer that keeps the pipe full gets a bigger one, which goes back to
// its size once empty.
func TestBusyPipeGrowsAndShrinksBack(t *testing.T) {
	t.Parallel()
	m, stderr, w, size, dir := onPipe(t)
	waitAsleep(t, m.Pid(), 100*time.Millisecond)
	// Stopped, multilog finds the pipe full when it looks again: every
	// buffer full, the last line without its end, so that the pipe is
	// not empty once the rest is written.
	full := numbered(size/10, 6)[:size]
	testbin.Must(t, m.Cmd.Process.Signal(syscall.SIGSTOP))
	_, err := w.Write(full)
	testbin.Must(t, err)
	testbin.Must(t, m.Cmd.Process.Signal(syscall.SIGCONT))
	svtest.WaitFor(t, 5*time.Second, "the pipe to grow", func() bool { return pipeSize(t, w) > size })
	_, err = w.Write([]byte("\n"))
	testbin.Must(t, err)
	svtest.WaitFor(t, 5*time.Second, "the lines", func() bool { return logged(t, filepath.Join(dir, "d")) == string(full)+"\n" })
	svtest.WaitFor(t, 5*time.Second, "the pipe to shrink back", func() bool { return pipeSize(t, w) == size })
	w.Close()
	if code, out := exit(t, m, stderr); code != 0 || out != "" {
		t.Errorf("exit %d %q", code, out)
	}
}

// An account that may not enlarge the pipe enough (past pipe-max-size)
// still gets the line logged: its start is then kept in memory, as by the
// reference.
func TestFragmentedLineBeyondPipeLimit(t *testing.T) {
	t.Parallel()
	maxSize, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	testbin.Must(t, err)
	pieces, err := strconv.Atoi(strings.TrimSpace(string(maxSize)))
	testbin.Must(t, err)
	pieces = pieces/os.Getpagesize() + 10 // one byte each: more than the biggest pipe has buffers
	if pieces >= 1000 {
		t.Fatalf("pipe-max-size %s: a line of %d pieces would be decided at 1000 bytes", maxSize, pieces)
	}
	cmd, dir := multilogAs(t, 65534, "./d")
	logsBothLines(t, cmd, dir, strings.Repeat("p", pieces), 1)
}

// A write bigger than the room left beside a partial line blocks its
// writer without waking the reader's epoll (Linux wakes it only at the end
// of a write into a pipe that was not empty): multilog, asleep on the
// partial line, still finds it.
func TestBigWriteAfterPartialLine(t *testing.T) {
	t.Parallel()
	for _, account := range accounts {
		t.Run(account.name, func(t *testing.T) {
			cmd, dir := multilogAs(t, account.uid, "s16777215", "./d")
			// A blocking writer, as most are (os.Pipe's writes do not
			// block: each write(2) ends when the pipe is full, waking the
			// reader).
			var p [2]int
			testbin.Must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
			r, w := os.NewFile(uintptr(p[0]), "r"), p[1]
			m, stderr := launch(t, cmd, dir, r)
			r.Close()
			_, err := unix.Write(w, []byte("start of a line"))
			testbin.Must(t, err)
			waitAsleep(t, m.Pid(), 100*time.Millisecond)
			big := append([]byte(", then the rest\n"), numbered(5000, 6)...) // 150 KB: more than the pipe holds
			written := make(chan error, 1)
			go func() {
				// One write(2), continued where a signal to the thread
				// (the runtime's preemption) cut it short.
				var err error
				for rest := big; len(rest) > 0 && (err == nil || err == unix.EINTR); {
					var n int
					n, err = unix.Write(w, rest)
					rest = rest[max(n, 0):]
				}
				unix.Close(w)
				written <- err
			}()
			if code, out := exit(t, m, stderr); code != 0 || out != "" {
				t.Errorf("exit %d %q", code, out)
			}
			testbin.Must(t, <-written)
			if got := logged(t, filepath.Join(dir, "d")); got != "start of a line"+string(big) {
				t.Errorf("logged %d bytes, want %d", len(got), len("start of a line")+len(big))
			}
		})
	}
}
