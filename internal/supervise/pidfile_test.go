package supervise

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/procstart"
	"daemontools/internal/testbin"
)

// TestPidfileRejects reads pidfiles that name no daemon of ./run, and
// checks the reason each gives. The pids named are ones no test starts:
// init, and pid_max, which no process ever has. (A zombie, a pid reused by
// a process started before ./run, and a daemon taken are cmd/supervise's
// TestPidfileZombie, TestPidfileStale and TestPidfileDoubleFork.)
func TestPidfileRejects(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, os.WriteFile(dir+"/run", []byte("#!/bin/sh\n"), 0o755))
	var stderr bytes.Buffer
	s, err := Open(Options{Dir: dir, Env: os.Environ(), Stdio: [3]int{0, 1, 2}, Stderr: &stderr})
	testbin.Must(t, err)
	defer s.Close()
	s.runStart = procstart.Now()
	s.state = awaitingDaemon // ./run has exited 0: its daemon is looked for
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	testbin.Must(t, err)
	unused := strings.TrimSpace(string(b))

	testbin.Must(t, os.WriteFile(dir+"/huge", bytes.Repeat([]byte("1"), 65), 0o644))
	testbin.Must(t, os.Symlink("/etc/hostname", dir+"/outside"))
	testbin.Must(t, os.Mkdir(dir+"/sub", 0o755))
	testbin.Must(t, os.Symlink("../huge", dir+"/sub/inside"))
	testbin.Must(t, syscall.Mkfifo(dir+"/fifo", 0o644))
	for _, c := range []struct{ name, content, why string }{
		{"missing", "", "unable to open DIR/missing: file does not exist"},
		{"empty", "", `DIR/empty holds no pid: ""`},
		{"garbage", "12abc\n", `DIR/garbage holds no pid: "12abc"`},
		{"signed", "+12", `DIR/signed holds no pid: "+12"`},
		{"zero", "0\n", `DIR/zero holds no pid: "0"`},
		{"too big a pid", "99999999\n", `DIR/too big a pid holds no pid: "99999999"`},
		{"huge", "", "DIR/huge is too big for a pid: 65 bytes"},
		{"sub/inside", "", "DIR/sub/inside is too big for a pid: 65 bytes"},
		{"outside", "", "DIR/outside leads out of DIR"},
		{"../outside", "", "DIR/../outside leads out of DIR"},
		{"/etc/hostname", "", "DIR//etc/hostname leads out of DIR"},
		{"sub", "", "DIR/sub is not a regular file"},
		{"fifo", "", "DIR/fifo is not a regular file"},
		{"dead", unused + "\n", "DIR/dead names pid " + unused + ", which does not exist"},
		{"init", " 1 \n", "DIR/init names pid 1, which is not a descendant of DIR/run"},
	} {
		if c.content != "" || c.name == "empty" {
			testbin.Must(t, os.WriteFile(dir+"/"+c.name, []byte(c.content), 0o644))
		}
		s.await.path = c.name
		d, err := (*system)(s).daemon()
		if want := strings.ReplaceAll(c.why, "DIR", dir); err == nil || err.Error() != want {
			t.Errorf("%s: %+v, %v; want %s", c.name, d, err, want)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}
