package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/status"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// service makes dir/name with a supervise/ directory holding record as its
// status file (none if nil) and, if running, an ok FIFO this test reads, so
// that svstat sees a supervise running.
func service(t *testing.T, dir, name string, record []byte, running, down bool) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(d, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	if down {
		testbin.Must(t, os.WriteFile(filepath.Join(d, "down"), nil, 0o644))
	}
	if record != nil {
		testbin.Must(t, os.WriteFile(filepath.Join(d, "supervise/status"), record, 0o644))
	}
	ok := filepath.Join(d, "supervise/ok")
	if err := syscall.Mkfifo(ok, 0o600); err != nil {
		t.Fatal(err)
	}
	if running {
		fd, err := syscall.Open(ok, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
	}
	return d
}

func record(s status.Status) []byte { return s.Append(nil) }

func TestLines(t *testing.T) {
	root := t.TempDir()
	now := tai64.Now()
	ago := func(sec uint64) tai64.Label { return tai64.Label{Sec: now.Sec - sec, Nano: 5} }
	upRecord := record(status.Status{Since: ago(100), Pid: 1234, Want: 'u'})
	tests := []struct {
		name string
		dir  string
		want string // %d stands for the seconds: 100 at the time of the records
	}{
		{"up", service(t, root, "up", upRecord, true, false), "up (pid 1234) %d seconds"},
		{"up normally down", service(t, root, "updown", upRecord, true, true), "up (pid 1234) %d seconds, normally down"},
		{"paused want down", service(t, root, "paused", record(status.Status{Since: ago(100), Pid: 77, Paused: true, Want: 'd'}), true, false),
			"up (pid 77) %d seconds, paused, want down"},
		{"once", service(t, root, "once", record(status.Status{Since: ago(100), Pid: 77}), true, false), "up (pid 77) %d seconds"},
		{"down", service(t, root, "down", record(status.Status{Since: ago(100), Want: 'd'}), true, false), "down %d seconds, normally up"},
		{"down want up", service(t, root, "downwantup", record(status.Status{Since: ago(100), Want: 'u', Paused: true}), true, true), "down %d seconds, want up"},
		{"down normally down", service(t, root, "downdown", record(status.Status{Since: ago(100), Want: 'd'}), true, true), "down %d seconds"},
		{"future label", service(t, root, "future", record(status.Status{Since: tai64.Label{Sec: now.Sec + 1000}, Want: 'd'}), true, true), "down 0 seconds"},
		{"longer record", service(t, root, "longer", append(upRecord, "later fields"...), true, false), "up (pid 1234) %d seconds"},
		{"garbage", service(t, root, "garbage", []byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x00\x00\x00\x00\xff\xff\xff\xff\x07x"), true, false),
			"up (pid 4294967295) 0 seconds, paused"},
		{"short", service(t, root, "short", upRecord[:17], true, false), "unable to read supervise/status: bad format"},
		{"empty", service(t, root, "empty", []byte{}, true, false), "unable to read supervise/status: bad format"},
		{"no status", service(t, root, "nostatus", nil, true, false), "unable to open supervise/status: file does not exist"},
		{"not running", service(t, root, "stopped", upRecord, false, false), "supervise not running"},
		{"no supervise", filepath.Join(root, "plain"), "unable to open supervise/ok: file does not exist"},
		{"missing", filepath.Join(root, "missing"), "unable to chdir: file does not exist"},
		{"file", filepath.Join(root, "up/supervise/status"), "unable to chdir: not a directory"},
	}
	testbin.Must(t, os.Mkdir(filepath.Join(root, "plain"), 0o755))
	// A status that is a directory opens but cannot be read. daemontools
	// misses the read error and prints the previous record or garbage,
	// so it is compared with ours only.
	unreadable := service(t, root, "unreadable", nil, true, false)
	testbin.Must(t, os.Mkdir(filepath.Join(unreadable, "supervise/status"), 0o755))

	ours := append(tests, struct{ name, dir, want string }{"unreadable", unreadable, "unable to read supervise/status: is a directory"})
	for _, prog := range []string{testbin.Path(t, "svstat"), testbin.Reference(t, "svstat")} {
		tests := tests
		if prog == testbin.Path(t, "svstat") {
			tests = ours
		}
		args := []string{}
		for _, tc := range tests {
			args = append(args, tc.dir)
		}
		start := tai64.Now()
		cmd := exec.Command(prog, args...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", prog, err)
		}
		end := tai64.Now()
		got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(got) != len(tests) {
			t.Fatalf("%s printed %d lines, want %d:\n%s", prog, len(got), len(tests), out)
		}
		for i, tc := range tests {
			// The seconds count from the records' labels, 100 when made.
			// daemontools reads time(), the kernel's coarse clock, which
			// can still say the second before for a tick after ours moved.
			from := start.Sec - now.Sec + 100
			if prog != testbin.Path(t, "svstat") {
				from--
			}
			ok := false
			for sec := from; sec <= end.Sec-now.Sec+100; sec++ {
				want := tc.dir + ": " + strings.ReplaceAll(tc.want, "%d", strconv.FormatUint(sec, 10))
				ok = ok || got[i] == want
			}
			if !ok {
				t.Errorf("%s, %s: got %q, want %q", prog, tc.name, got[i], tc.dir+": "+tc.want)
			}
		}
	}
}

func TestNoArguments(t *testing.T) {
	out, err := exec.Command(testbin.Path(t, "svstat")).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("svstat: %v %q", err, out)
	}
}

// Output that cannot be written is lost silently, with exit 0, as with
// daemontools: svstat always exits 0 once it is under way.
func TestFullOutputLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for _, prog := range []string{testbin.Path(t, "svstat"), testbin.Reference(t, "svstat")} {
		cmd := exec.Command(prog, t.TempDir(), missing)
		cmd.Stdout = full
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		complaint, _ := io.ReadAll(stderr)
		if err := cmd.Wait(); err != nil || len(complaint) != 0 {
			t.Errorf("%s >/dev/full: %v, stderr %q", prog, err, complaint)
		}
	}
}
