package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { svtest.Main(m) }

func read(pid int, what string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, what))
	return string(b)
}

// svscanboot stops the supervise a previous boot left behind, then becomes
// svscan DIR with a clean environment, its errors scrolling through the
// command line of readproctitle.
func TestBoot(t *testing.T) {
	missing := testbin.Missing(t)
	dir := filepath.Join(t.TempDir(), "service")
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0755); err != nil {
		t.Fatal(err)
	}
	svtest.WriteFile(t, filepath.Join(dir, "a/run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755)
	if err := os.Symlink(missing, filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"

	leftover := exec.Command(testbin.Path(t, "supervise"), filepath.Join(dir, "a"))
	leftover.Env = []string{path}
	old := svtest.Start(t, leftover)
	svtest.WaitFor(t, 5*time.Second, "the leftover supervise", func() bool { return svtest.Exists(filepath.Join(dir, "a/supervise/status")) })
	// A name starting with a dot is no service, for svscan as for the
	// shell's DIR/*: its supervise is left alone.
	hiddenDir := filepath.Join(dir, ".hidden")
	if err := os.MkdirAll(hiddenDir, 0755); err != nil {
		t.Fatal(err)
	}
	svtest.WriteFile(t, filepath.Join(hiddenDir, "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755)
	hiddenCmd := exec.Command(testbin.Path(t, "supervise"), hiddenDir)
	hiddenCmd.Env = []string{path}
	hidden := svtest.Start(t, hiddenCmd)
	svtest.WaitFor(t, 5*time.Second, "the hidden supervise", func() bool { return svtest.Exists(filepath.Join(hiddenDir, "supervise/status")) })

	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	cmd := exec.Command(testbin.Path(t, "svscanboot"), dir)
	cmd.Env = []string{path, "JUNK=1", "NOTIFY_SOCKET=" + sock}
	boot := svtest.Start(t, cmd)
	pid := boot.Cmd.Process.Pid

	old.Wait(t, 5*time.Second) // the leftover supervise stopped
	svtest.WaitFor(t, 5*time.Second, "svscan", func() bool {
		return read(pid, "cmdline") == "svscan\x00"+dir+"\x00"
	})
	select {
	case <-hidden.Exited():
		t.Error("svscanboot stopped the supervise of .hidden")
	default:
	}
	// svscan starts itself again with one processor (gomaxprocs), which adds
	// two names to its own environment, never to its children's; the
	// environment is read once that exec is done (during it, /proc shows
	// none).
	const added = "GOMAXPROCS=1\x00SVSCAN_GOMAXPROCS=added\x00"
	svtest.WaitFor(t, 5*time.Second, "svscan started again", func() bool { return strings.HasSuffix(read(pid, "environ"), added) })
	env := strings.TrimSuffix(read(pid, "environ"), added)
	if env != "PATH="+testbin.Dir(t)+":/command:/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/X11R6/bin\x00NOTIFY_SOCKET="+sock+"\x00" {
		t.Errorf("svscan's environment %q", env)
	}
	// systemd (Type=notify) hears from svscan, the unit's main process.
	conn.SetReadDeadline(time.Now().Add(svtest.Scaled(5 * time.Second)))
	buf := make([]byte, 100)
	if n, err := conn.Read(buf); err != nil || string(buf[:n]) != "READY=1" {
		t.Errorf("read %q, %v; want READY=1", buf[:n], err)
	}

	title := regexp.MustCompile(`^readproctitle\x00service\x00errors:\x00\.\.\.[^\x00]{397}\x00$`)
	warning := "svscan: warning: unable to stat broken: file does not exist\n"
	var rpt int
	svtest.WaitFor(t, 5*time.Second, "readproctitle showing svscan's warning", func() bool {
		for _, p := range svtest.Procs(pid) {
			if cmdline := read(p.Pid, "cmdline"); title.MatchString(cmdline) && strings.Contains(cmdline, warning) {
				rpt = p.Pid
				return true
			}
		}
		return false
	})
	// Holding the pipe's write end itself, readproctitle would never see
	// the end of its input.
	pipe, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", rpt))
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", rpt))
	for _, fd := range fds {
		if to, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", rpt, fd.Name())); fd.Name() != "0" && to == pipe {
			t.Errorf("readproctitle holds its input pipe on descriptor %s too", fd.Name())
		}
	}
	// svscan may have started its supervise before the old one let go of
	// the lock; rather than wait for the next scan, ask for one.
	boot.Cmd.Process.Signal(syscall.SIGHUP)
	svtest.WaitFor(t, 5*time.Second, "a back up", func() bool {
		out, _ := exec.Command(testbin.Path(t, "svstat"), filepath.Join(dir, "a")).Output()
		return bytes.Contains(out, []byte(": up (pid "))
	})
}
