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
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/testbin"
)

// A broken service directory, how to make it, and what the clients do
// with it, ages in svstat's output as "N seconds".
type brokenDir struct {
	name    string
	make    func(t *testing.T, dir string)
	running bool // hold supervise/ok and control open, as a live supervise does
	nobody  bool // run the clients as nobody, not root

	svstat  string // svstat prints this and exits 0
	svok    int    // svok exits with this code...
	svokErr string // ...saying this
	svc     string // svc -u says this and exits 0
	// The reference's svstat prints a made-up status here: only ours is
	// held to svstat.
	refSvstatWrong bool
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
	{name: "missing", make: func(*testing.T, string) {},
		svstat: "missing: unable to chdir: file does not exist\n",
		svok:   111, svokErr: "svok: fatal: unable to chdir to missing: file does not exist\n",
		svc: "svc: warning: unable to chdir to missing: file does not exist\n",
	},
	{name: "file", make: func(t *testing.T, d string) { testbin.Must(t, os.WriteFile(d, nil, 0644)) },
		svstat: "file: unable to chdir: not a directory\n",
		svok:   111, svokErr: "svok: fatal: unable to chdir to file: not a directory\n",
		svc: "svc: warning: unable to chdir to file: not a directory\n",
	},
	{name: "loop", make: func(t *testing.T, d string) { testbin.Must(t, os.Symlink(filepath.Base(d), d)) },
		svstat: "loop: unable to chdir: symbolic link loop\n",
		svok:   111, svokErr: "svok: fatal: unable to chdir to loop: symbolic link loop\n",
		svc: "svc: warning: unable to chdir to loop: symbolic link loop\n",
	},
	{name: "never-supervised", make: func(t *testing.T, d string) { testbin.Must(t, os.Mkdir(d, 0755)) },
		svstat: "never-supervised: unable to open supervise/ok: file does not exist\n",
		svok:   100, svokErr: "",
		svc: "svc: warning: unable to control never-supervised: file does not exist\n",
	},
	{name: "ok-regular-file", make: func(t *testing.T, d string) {
		testbin.Must(t, os.MkdirAll(filepath.Join(d, "supervise"), 0700))
		testbin.Must(t, os.WriteFile(filepath.Join(d, "supervise", "ok"), nil, 0600))
	},
		svstat: "ok-regular-file: unable to open supervise/status: file does not exist\n",
		svok:   0, svokErr: "",
		svc: "svc: warning: unable to control ok-regular-file: file does not exist\n",
	},
	{name: "not-running", make: superviseDir(record(label(time.Minute), 0, 0, 'd', ""), 0700, 0600, 0644),
		svstat: "not-running: supervise not running\n",
		svok:   100, svokErr: "",
		svc: "svc: warning: unable to control not-running: supervise not running\n",
	},
	{name: "status-missing", running: true, make: superviseDir(nil, 0700, 0600, 0644),
		svstat: "status-missing: unable to open supervise/status: file does not exist\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-empty", running: true, make: superviseDir([]byte{}, 0700, 0600, 0644),
		svstat: "status-empty: unable to read supervise/status: bad format\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-short", running: true, make: superviseDir(label(time.Minute)[:10], 0700, 0600, 0644),
		svstat: "status-short: unable to read supervise/status: bad format\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-17", running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', "")[:17], 0700, 0600, 0644),
		svstat: "status-17: unable to read supervise/status: bad format\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-overlong", running: true, make: superviseDir(record(label(100*time.Second), 1234, 0, 'u', string(bytes.Repeat([]byte("junk"), 30))), 0700, 0600, 0644),
		svstat: "status-overlong: up (pid 1234) N seconds\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-corrupt", running: true, make: superviseDir(record(make([]byte, 12), 0xffffffff, 7, 'x', ""), 0700, 0600, 0644),
		svstat: "status-corrupt: up (pid 4294967295) N seconds, paused\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-future", running: true, make: superviseDir(record(label(-time.Hour), 99, 1, 'd', ""), 0700, 0600, 0644),
		svstat: "status-future: up (pid 99) N seconds, paused, want down\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-down-want-up", running: true, make: superviseDir(record(label(100*time.Second), 0, 0, 'u', ""), 0700, 0600, 0644),
		svstat: "status-down-want-up: down N seconds, normally up, want up\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "status-is-dir", running: true, make: func(t *testing.T, d string) {
		superviseDir(nil, 0700, 0600, 0644)(t, d)
		testbin.Must(t, os.Mkdir(filepath.Join(d, "supervise", "status"), 0755))
	}, refSvstatWrong: true,
		svstat: "status-is-dir: unable to read supervise/status: is a directory\n",
		svok:   0, svokErr: "",
		svc: "",
	},
	{name: "unreadable-dir", nobody: true, make: func(t *testing.T, d string) { testbin.Must(t, os.Mkdir(d, 0700)) },
		svstat: "unreadable-dir: unable to chdir: access denied\n",
		svok:   111, svokErr: "svok: fatal: unable to chdir to unreadable-dir: access denied\n",
		svc: "svc: warning: unable to chdir to unreadable-dir: access denied\n",
	},
	{name: "fifos-of-root", nobody: true, running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', ""), 0700, 0600, 0644),
		svstat: "fifos-of-root: unable to chdir: access denied\n",
		svok:   111, svokErr: "svok: fatal: unable to chdir to fifos-of-root: access denied\n",
		svc: "svc: warning: unable to chdir to fifos-of-root: access denied\n",
	},
	{name: "fifos-of-root-open-dir", nobody: true, running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', ""), 0755, 0600, 0644),
		svstat: "fifos-of-root-open-dir: unable to open supervise/ok: access denied\n",
		svok:   111, svokErr: "svok: fatal: unable to open fifos-of-root-open-dir/supervise/ok: access denied\n",
		svc: "svc: warning: unable to control fifos-of-root-open-dir: access denied\n",
	},
	{name: "status-of-root", nobody: true, running: true, make: superviseDir(record(label(time.Minute), 42, 0, 'u', ""), 0755, 0622, 0600),
		svstat: "status-of-root: unable to open supervise/status: access denied\n",
		svok:   0, svokErr: "",
		svc: "",
	},
}

// svstat, svok and svc on broken service directories print what Debian's
// daemontools 0.76 prints, with its exit codes, and never crash.
func TestClientsOnBrokenDirs(t *testing.T) {
	t.Parallel()
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
		for _, client := range []struct {
			args []string
			want clientRun
		}{
			{[]string{"svstat", c.name}, clientRun{stdout: c.svstat}},
			{[]string{"svok", c.name}, clientRun{stderr: c.svokErr, code: c.svok}},
			{[]string{"svc", "-u", c.name}, clientRun{stderr: c.svc}},
		} {
			args := client.args
			t.Run(c.name+"/"+args[0], func(t *testing.T) {
				checkClient(t, root, cred, args, client.want, args[0] == "svstat" && c.refSvstatWrong)
			})
		}
	}
	for _, tc := range []struct {
		args []string
		want clientRun
	}{
		{append([]string{"svstat"}, names...), clientRun{stdout: allBrokenDirsAsRoot}},
		{[]string{"svstat"}, clientRun{}},
		{[]string{"svok"}, clientRun{stderr: "svok: usage: svok dir\n", code: 100}},
		{[]string{"svok", "missing", "file"}, clientRun{stderr: "svok: fatal: unable to chdir to missing: file does not exist\n", code: 111}},
		{[]string{"svc"}, clientRun{}},
		{[]string{"svc", "-u"}, clientRun{}},
		{[]string{"svc", "-z", "missing"}, clientRun{stderr: svcUsage, code: 100}},
		{[]string{"svc", "-uz", "never-supervised"}, clientRun{stderr: svcUsage, code: 100}},
		{[]string{"svc", "-u", "missing", "not-running", "file", "status-missing"}, clientRun{stderr: "svc: warning: unable to chdir to missing: file does not exist\n" +
			"svc: warning: unable to control not-running: supervise not running\n" +
			"svc: warning: unable to chdir to file: not a directory\n"}},
	} {
		t.Run(tc.args[0]+"-args", func(t *testing.T) {
			// The reference prints nonsense for a status that is a
			// directory (see brokenDirs).
			checkClient(t, root, nil, tc.args, tc.want, tc.args[0] == "svstat" && len(tc.args) > 1)
		})
	}
}

const svcUsage = "svc: illegal option -- z\nsvc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n"

// svcExtensionUsage is the line our svc adds to daemontools' usage line,
// naming its own letters.
const svcExtensionUsage = "svc options also: q quit, 1 usr1, 2 usr2, w winch\n"

// allBrokenDirsAsRoot is what svstat says of every broken directory at once,
// run as root.
const allBrokenDirsAsRoot = `missing: unable to chdir: file does not exist
file: unable to chdir: not a directory
loop: unable to chdir: symbolic link loop
never-supervised: unable to open supervise/ok: file does not exist
ok-regular-file: unable to open supervise/status: file does not exist
not-running: supervise not running
status-missing: unable to open supervise/status: file does not exist
status-empty: unable to read supervise/status: bad format
status-short: unable to read supervise/status: bad format
status-17: unable to read supervise/status: bad format
status-overlong: up (pid 1234) N seconds
status-corrupt: up (pid 4294967295) N seconds, paused
status-future: up (pid 99) N seconds, paused, want down
status-down-want-up: down N seconds, normally up, want up
status-is-dir: unable to read supervise/status: is a directory
unreadable-dir: unable to open supervise/ok: file does not exist
fifos-of-root: up (pid 42) N seconds
fifos-of-root-open-dir: up (pid 42) N seconds
status-of-root: up (pid 42) N seconds
`

// checkClient runs our client and the reference's with args in dir as cred
// (nil: root) and fails the test unless each does what want says, ages
// aside, and their ages agree; unless refWrong, when only ours is held to
// want.
func checkClient(t *testing.T, dir string, cred *syscall.Credential, args []string, want clientRun, refWrong bool) {
	t.Helper()
	begin := time.Now()
	ours := runClient(t, dir, cred, prog(t, args[0]), args[1:]...)
	if args[0] == "svc" {
		// After daemontools' usage line ours names its own letters
		// (cmd/svc TestExtensionLetters); the rest is the reference's.
		ours.stderr = strings.Replace(ours.stderr, svcExtensionUsage, "", 1)
	}
	ours.expect(t, "ours", want)
	if refWrong {
		return
	}
	ref := runClient(t, dir, cred, testbin.Reference(t, args[0]), args[1:]...)
	ref.expect(t, "reference", want)
	// An age may tick once, and more when load slows the runs down.
	if slack := 1 + uint64(time.Since(begin)/time.Second); !sameButSeconds(ours.stdout, ref.stdout, slack) {
		t.Errorf("ages differ by more than %d s:\nours %q\nreference %q", slack, ours.stdout, ref.stdout)
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

// seconds matches svstat's age, which the clock moves on.
var seconds = regexp.MustCompile(`(\d+) seconds`)

func (r clientRun) expect(t testing.TB, who string, want clientRun) {
	t.Helper()
	if r.code != want.code || r.stderr != want.stderr || seconds.ReplaceAllString(r.stdout, "N seconds") != want.stdout {
		t.Errorf("%s: exit %d\nstdout %q\nstderr %q\nwant: exit %d\nstdout %q\nstderr %q",
			who, r.code, r.stdout, r.stderr, want.code, want.stdout, want.stderr)
	}
}

// sameButSeconds compares svstat outputs, letting each age differ by slack,
// or by the rounding of a float64 for huge ages (the reference computes the
// age through a double: 2^62 seconds come out a multiple of 1024).
func sameButSeconds(a, b string, slack uint64) bool {
	na, nb := seconds.FindAllStringSubmatch(a, -1), seconds.FindAllStringSubmatch(b, -1)
	if len(na) != len(nb) || seconds.ReplaceAllString(a, "N seconds") != seconds.ReplaceAllString(b, "N seconds") {
		return false
	}
	for i := range na {
		x, _ := strconv.ParseUint(na[i][1], 10, 64)
		y, _ := strconv.ParseUint(nb[i][1], 10, 64)
		slack := max(slack, y>>52)
		if x > y+slack || y > x+slack {
			return false
		}
	}
	return true
}
