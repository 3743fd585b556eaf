package scan

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/strerr"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// A supervise still starting, not yet in its service directory or without
// its control FIFO yet, is not told, and nothing is said: svscan tries
// again at its next look. Once the FIFO is read, the commands reach it.
func TestTellSuperviseStarting(t *testing.T) {
	dir := t.TempDir()
	starting := exec.Command("sleep", "100") // stands for the supervise process
	starting.Dir = dir
	if err := starting.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { starting.Process.Kill(); starting.Wait() })
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	var warned []string
	warn := func(parts ...any) { warned = append(warned, fmt.Sprint(parts...)) }
	pid := starting.Process.Pid
	if (process{pid, fileID{st.Dev, st.Ino + 1}, "svc", warn}).Tell("dx") {
		t.Error("told a supervise not yet in its directory")
	}
	m := process{pid, fileID{st.Dev, st.Ino}, "svc", warn}
	if m.Tell("dx") {
		t.Error("told a supervise without a control FIFO")
	}
	if err := os.Mkdir(filepath.Join(dir, "supervise"), 0o700); err != nil {
		t.Fatal(err)
	}
	control := filepath.Join(dir, "supervise", "control")
	if err := unix.Mkfifo(control, 0o600); err != nil {
		t.Fatal(err)
	}
	if m.Tell("dx") {
		t.Error("told a supervise that does not read its control FIFO yet")
	}
	if len(warned) != 0 {
		t.Errorf("warned %q", warned)
	}
	r, err := os.OpenFile(control, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !m.Tell("dx") {
		t.Errorf("not told once the FIFO is read; warned %q", warned)
	}
	b := make([]byte, 8)
	if n, _ := r.Read(b); string(b[:n]) != "dx" {
		t.Errorf("FIFO got %q, want \"dx\"", b[:n])
	}
}

// A supervise that has run for longer than startGrace and still has no
// control FIFO is said to be out of reach, at each look.
func TestTellSuperviseWithoutFIFO(t *testing.T) {
	dir := t.TempDir()
	stuck := exec.Command("sleep", "100") // stands for the supervise process
	stuck.Dir = dir
	if err := stuck.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stuck.Process.Kill(); stuck.Wait() })
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	var warned []string
	warn := func(parts ...any) { warned = append(warned, fmt.Sprint(parts...)) }
	m := process{stuck.Process.Pid, fileID{st.Dev, st.Ino}, "svc", warn}
	svtest.WaitFor(t, 2*startGrace, "the process older than startGrace", func() bool {
		s, err := procstart.ReadStat(stuck.Process.Pid)
		return err == nil && s.Age() >= startGrace
	})
	if m.Tell("dx") {
		t.Error("told a process without a control FIFO")
	}
	if want := []string{"unable to control svc: no such file or directory"}; !slices.Equal(warned, want) {
		t.Errorf("warned %q, want %q", warned, want)
	}
}

// The deadline of a stop reads timeout-kill as supervise does (one rule,
// internal/settings): milliseconds up to about 24 days. A service's file
// that does not hold them leaves the scanned directory's default, one
// that does not either is said and leaves DefaultKillAfter. A service's 0
// (never KILL, to supervise) leaves the default too.
func TestKillAfterReadsAsSupervise(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, ".svscan"), 0o755))
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testbin.Must(t, err)
	defer unix.Close(fd)
	own := filepath.Join(dir, "timeout-kill")
	for _, c := range []struct {
		own, dflt string // "" for no file
		want      time.Duration
		warning   string
	}{
		{"300\n", "700\n", 300 * time.Millisecond, ""},
		{"2147483647", "", (1<<31 - 1) * time.Millisecond, ""},
		{"2147483648\n", "700\n", 700 * time.Millisecond, ""},
		{"", "4294967295\n", DefaultKillAfter, "unable to read .svscan/timeout-kill: not a number of milliseconds"},
		{"-1", " 0 \n", 0, ""},
		{"0\n", "700\n", 700 * time.Millisecond, ""},
		{"0", "", DefaultKillAfter, ""},
		{"", "", DefaultKillAfter, ""},
	} {
		for file, content := range map[string]string{own: c.own, filepath.Join(dir, KillAfterFile): c.dflt} {
			os.Remove(file)
			if content != "" {
				testbin.Must(t, os.WriteFile(file, []byte(content), 0o644))
			}
		}
		var warning string
		got := killAfter(own, fd, func(parts ...any) { warning = strerr.Join(parts...) })
		if got != c.want || warning != c.warning {
			t.Errorf("timeout-kill %q, default %q: %v, warning %q; want %v, %q", c.own, c.dflt, got, warning, c.want, c.warning)
		}
	}
}
