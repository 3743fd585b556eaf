package status

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"daemontools/internal/testbin"
)

// Stat's lines, as runsv words them.
func TestStat(t *testing.T) {
	for _, c := range []struct {
		s    Status
		want string
	}{
		{Status{Want: WantUp}, "down\n"},
		{Status{Want: WantDown, Paused: true}, "down\n"},
		{Status{Pid: 7, Want: WantUp}, "run\n"},
		{Status{Pid: 7, Want: WantNone}, "run\n"},
		{Status{Pid: 7, Want: WantDown, Paused: true, StopSent: true}, "run, paused, got TERM, want down\n"},
		{Status{Want: WantDown, Finishing: true}, "finish, want down\n"},
		{Status{Want: WantUp, Finishing: true}, "finish\n"},
	} {
		if got := c.s.Stat(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.s, got, c.want)
		}
	}
}

// WriteRunit replaces each file when told to: pid "PID\n", or empty
// while down; stat the line; a failure names the file and what it was
// renamed to.
func TestWriteRunit(t *testing.T) {
	dir, dirfd := serviceDir(t)
	read := func(file string) string {
		b, err := os.ReadFile(filepath.Join(dir, file))
		testbin.Must(t, err)
		return string(b)
	}
	testbin.Must(t, WriteRunit(dirfd, Status{Pid: 4242, Want: WantUp}, true, true))
	if pid, stat := read(PidFile), read(StatFile); pid != "4242\n" || stat != "run\n" {
		t.Errorf("pid %q, stat %q", pid, stat)
	}
	testbin.Must(t, WriteRunit(dirfd, Status{Want: WantUp}, false, true))
	if pid, stat := read(PidFile), read(StatFile); pid != "4242\n" || stat != "down\n" {
		t.Errorf("pid not to be written: pid %q, stat %q", pid, stat)
	}
	testbin.Must(t, WriteRunit(dirfd, Status{Pid: 7, Want: WantDown}, true, false))
	if pid, stat := read(PidFile), read(StatFile); pid != "7\n" || stat != "down\n" {
		t.Errorf("stat not to be written: pid %q, stat %q", pid, stat)
	}
	testbin.Must(t, WriteRunit(dirfd, Status{Want: WantUp}, true, true))
	if pid := read(PidFile); pid != "" {
		t.Errorf("pid %q while down", pid)
	}
	testbin.Must(t, os.Remove(filepath.Join(dir, StatFile)))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, StatFile), 0o755))
	testbin.Must(t, os.WriteFile(filepath.Join(dir, StatFile, "keep"), nil, 0o644))
	var e *WriteError
	if err := WriteRunit(dirfd, Status{}, false, true); !errors.As(err, &e) || e.Op != "rename" || e.File != StatFile+".new" || e.Target() != "stat" {
		t.Errorf("stat a directory: %v", err)
	}
}
