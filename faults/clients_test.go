package faults

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/testbin"
)

// A broken service directory, and how to make it.
type brokenDir struct {
	name    string
	make    func(t *testing.T, dir string)
	running bool // hold supervise/ok and control open, as a live supervise does
	nobody  bool // run the clients as nobody, not root
	// What our svstat prints where the reference's output makes no sense
	// (empty: same as the reference).
	svstat string
}

// label returns a TAI64N label for ago before now.
func label(ago time.Duration) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b, 1<<62+10+uint64(time.Now().Add(-ago).Unix()))
	return b
}

// record returns a status record: label, pid, paused, want, then extra.
func record(lab []byte, pid uint32, paused, want byte, extra string) []byte {
	b := append([]byte(nil), lab...)
	b = binary.LittleEndian.AppendUint32(b, pid)
	return append(append(b, paused, want), extra...)
}

// superviseDir makes DIR/supervise with ok and control FIFOs and, unless
// status is nil, a status file.
func superviseDir(status []byte, dirMode, fifoMode, statusMode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		sup := filepath.Join(dir, "supervise")
		testbin.Must(t, os.MkdirAll(sup, dirMode))
		testbin.Must(t, os.Chmod(sup, dirMode))
		for _, f := range []string{"ok", "control"} {
			testbin.Must(t, syscall.Mkfifo(filepath.Join(sup, f), uint32(fifoMode)))
			testbin.Must(t, os.Chmod(filepath.Join(sup, f), fifoMode))
		}
		if status != nil {
			testbin.Must(t, os.WriteFile(filepath.Join(sup, "status"), status, statusMode))
			testbin.Must(t, os.Chmod(filepath.Join(sup, "status"), statusMode))
		}
	}
}

var brokenDirs = []brokenDir{
	{name: "missing", make: func(*testing.T, string) {}},
	{name: "file", make: func(t *testing.T, d string) { testbin.Must(t, os.WriteFile(d, nil, 0644)) }},
	{name: "loop", make: func(t *testing.T, d string) { testbin.Must(t, os.Symlink(filepath.Base(d), d)) }},
	{name: "never-supervised", make: func(t *testing.T, d string) { testbin.Must(t, os.Mkdir(d, 0755)) }},
	{name: "ok-regular-file", make: func(t *testing.T, d string) {
		testbin.Must(t, os.MkdirAll(filepath.Join(d, "supervise"), 0700))
		testbin.Must(t, os.WriteFile(filepath.Join(d, "supervise", "ok"), nil, 0600))
	}},
	{name: "not-running", make: superviseDir(record(label(time.Minute), 0, 0, 'd', ""), 0700, 0600, 0644)},
	{name: "status-missing", running: true, make: superviseDir(nil, 0700, 0600, 0644)},
	{name: "status-empty", running: true, make: superviseDir([]byte{}, 0700, 0600, 0644)},
	{name: "status-short", running: true, make: superviseDir(label(time.Minute)[:10], 0700, 0600, 0644)},
	{name: "status-17", running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', "")[:17], 0700, 0600, 0644)},
	{name: "status-overlong", running: true, make: superviseDir(record(label(100*time.Second), 1234, 0, 'u', string(bytes.Repeat([]byte("junk"), 30))), 0700, 0600, 0644)},
	{name: "status-corrupt", running: true, make: superviseDir(record(make([]byte, 12), 0xffffffff, 7, 'x', ""), 0700, 0600, 0644)},
	{name: "status-future", running: true, make: superviseDir(record(label(-time.Hour), 99, 1, 'd', ""), 0700, 0600, 0644)},
	{name: "status-down-want-up", running: true, make: superviseDir(record(label(100*time.Second), 0, 0, 'u', ""), 0700, 0600, 0644)},
	{name: "status-is-dir", running: true, make: func(t *testing.T, d string) {
		superviseDir(nil, 0700, 0600, 0644)(t, d)
		testbin.Must(t, os.Mkdir(filepath.Join(d, "supervise", "status"), 0755))
	}, svstat: "status-is-dir: unable to read supervise/status: is a directory\n"},
	{name: "unreadable-dir", nobody: true, make: func(t *testing.T, d string) { testbin.Must(t, os.Mkdir(d, 0700)) }},
	{name: "fifos-of-root", nobody: true, running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', ""), 0700, 0600, 0644)},
	{name: "fifos-of-root-open-dir", nobody: true, running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', ""), 0755, 0600, 0644)},
	{name: "status-of-root", nobody: true, running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', ""), 0755, 0622, 0600)},
}

// svstat, svok and svc on broken service directories print what Debian's
// daemontools 0.76 prints, with its exit codes, and never crash.
func TestClientsOnBrokenDirs(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	// nobody must reach the directories under test.
	testbin.Must(t, os.Chmod(filepath.Dir(root), 0755))
	testbin.Must(t, os.Chmod(root, 0755))
	nobody := nobodyCredential(t)
	var names []string
	for _, c := range brokenDirs {
		dir := filepath.Join(root, c.name)
		c.make(t, dir)
		names = append(names, c.name)
		if c.running {
			holdFIFOs(t, dir)
		}
	}
	for _, c := range brokenDirs {
		var cred *syscall.Credential
		if c.nobody {
			cred = nobody
		}
		for _, args := range [][]string{{"svstat", c.name}, {"svok", c.name}, {"svc", "-u", c.name}} {
			t.Run(c.name+"/"+args[0], func(t *testing.T) {
				ours := runClient(t, root, cred, prog(t, args[0]), args[1:]...)
				ref := runClient(t, root, cred, testbin.Reference(t, args[0]), args[1:]...)
				if args[0] == "svstat" && c.svstat != "" {
					ref.stdout = c.svstat
				}
				ours.compare(t, ref)
			})
		}
	}
	for _, args := range [][]string{
		append([]string{"svstat"}, names...),
		{"svstat"}, {"svok"}, {"svok", "missing", "file"}, {"svc"}, {"svc", "-u"},
		{"svc", "-z", "missing"}, {"svc", "-uz", "never-supervised"},
		{"svc", "-u", "missing", "not-running", "file", "status-missing"},
	} {
		t.Run(args[0]+"-args", func(t *testing.T) {
			ours := runClient(t, root, nil, prog(t, args[0]), args[1:]...)
			ref := runClient(t, root, nil, testbin.Reference(t, args[0]), args[1:]...)
			if args[0] == "svstat" && len(args) > 1 {
				// The reference prints nonsense for a status that is a
				// directory (see brokenDirs).
				ref.stdout = regexp.MustCompile(`(?m)^status-is-dir: .*\n`).ReplaceAllString(ref.stdout, "status-is-dir: unable to read supervise/status: is a directory\n")
			}
			ours.compare(t, ref)
		})
	}
}

// holdFIFOs opens DIR/supervise/ok and control for reading and writing, as
// a running supervise does, until the test ends.
func holdFIFOs(t *testing.T, dir string) {
	for _, name := range []string{"ok", "control"} {
		f, err := os.OpenFile(filepath.Join(dir, "supervise", name), os.O_RDWR, 0)
		testbin.Must(t, err)
		t.Cleanup(func() { f.Close() })
	}
}

func nobodyCredential(t testing.TB) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

// clientRun is what one run of a client did.
type clientRun struct {
	stdout, stderr string
	code           int
}

func runClient(t testing.TB, dir string, cred *syscall.Credential, path string, args ...string) clientRun {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := clientRun{stdout.String(), stderr.String(), exitCode(err)}
	if r.code < 0 {
		t.Fatalf("%s: %v", path, err)
	}
	noPanic(t, path, r.stdout+r.stderr)
	return r
}

// seconds matches svstat's age, which may tick between two runs.
var seconds = regexp.MustCompile(`(\d+) seconds`)

func (r clientRun) compare(t testing.TB, ref clientRun) {
	t.Helper()
	if r.code != ref.code || r.stderr != ref.stderr || !sameButSeconds(r.stdout, ref.stdout) {
		t.Errorf("ours: exit %d\nstdout %q\nstderr %q\nreference: exit %d\nstdout %q\nstderr %q",
			r.code, r.stdout, r.stderr, ref.code, ref.stdout, ref.stderr)
	}
}

// sameButSeconds compares svstat outputs, letting each age differ by 1, or
// by the rounding of a float64 for huge ages (the reference computes the age
// through a double: 2^62 seconds come out a multiple of 1024).
func sameButSeconds(a, b string) bool {
	na, nb := seconds.FindAllStringSubmatch(a, -1), seconds.FindAllStringSubmatch(b, -1)
	if len(na) != len(nb) || seconds.ReplaceAllString(a, "N seconds") != seconds.ReplaceAllString(b, "N seconds") {
		return false
	}
	for i := range na {
		x, _ := strconv.ParseUint(na[i][1], 10, 64)
		y, _ := strconv.ParseUint(nb[i][1], 10, 64)
		slack := max(1, y>>52)
		if x > y+slack || y > x+slack {
			return false
		}
	}
	return true
}
