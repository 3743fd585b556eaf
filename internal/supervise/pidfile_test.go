package supervise

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/procstart"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// TestPidfileRejects reads pidfiles that name no daemon of ./run, and
// checks the reason each gives; a child of this process that started after
// the run is accepted.
func TestPidfileRejects(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, os.WriteFile(dir+"/run", []byte("#!/bin/sh\n"), 0o755))
	var stderr bytes.Buffer
	s, err := Open(Options{Dir: dir, Env: os.Environ(), Stdio: [3]int{0, 1, 2}, Stderr: &stderr})
	testbin.Must(t, err)
	defer s.Close()

	earlier := exec.Command("sleep", "100") // started before the run
	testbin.Must(t, earlier.Start())
	defer earlier.Wait()
	defer earlier.Process.Kill()
	svtest.WaitFor(t, 5*time.Second, "a clock tick after sleep's start", func() bool {
		st, err := procstart.ReadStat(earlier.Process.Pid)
		return err == nil && procstart.Now() > st.Start
	})
	s.runStart = procstart.Now()
	s.state = awaitingDaemon // ./run has exited 0: its daemon is looked for
	zombie := exec.Command("true")
	testbin.Must(t, zombie.Start())
	defer zombie.Wait()
	svtest.WaitFor(t, 5*time.Second, "a zombie", func() bool {
		st, err := procstart.ReadStat(zombie.Process.Pid)
		return err == nil && st.Gone()
	})
	dead := exec.Command("true")
	testbin.Must(t, dead.Run())
	daemon := exec.Command("sleep", "100")
	testbin.Must(t, daemon.Start())
	defer daemon.Wait()
	defer daemon.Process.Kill()

	testbin.Must(t, os.WriteFile(dir+"/huge", bytes.Repeat([]byte("1"), 65), 0o644))
	testbin.Must(t, os.Symlink("/etc/hostname", dir+"/outside"))
	testbin.Must(t, os.Mkdir(dir+"/sub", 0o755))
	testbin.Must(t, os.Symlink("../huge", dir+"/sub/inside"))
	testbin.Must(t, syscall.Mkfifo(dir+"/fifo", 0o644))
	pidText := func(p int) string { return strconv.Itoa(p) + "\n" }
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
		{"dead", pidText(dead.Process.Pid), "DIR/dead names pid " + strconv.Itoa(dead.Process.Pid) + ", which does not exist"},
		{"zombie", pidText(zombie.Process.Pid), "DIR/zombie names pid " + strconv.Itoa(zombie.Process.Pid) + ", which is a zombie"},
		{"init", " 1 \n", "DIR/init names pid 1, which is not a descendant of DIR/run"},
		{"earlier", pidText(earlier.Process.Pid), "DIR/earlier names pid " + strconv.Itoa(earlier.Process.Pid) + ", which is not a descendant of DIR/run"},
		{"daemon", pidText(daemon.Process.Pid), ""},
	} {
		if c.content != "" || c.name == "empty" {
			testbin.Must(t, os.WriteFile(dir+"/"+c.name, []byte(c.content), 0o644))
		}
		s.await.path = c.name
		d, err := (*system)(s).daemon()
		if c.why == "" {
			if err != nil || d.pid != daemon.Process.Pid || !d.adopted || d.pidfd < 0 {
				t.Errorf("%s: %+v, %v", c.name, d, err)
			}
			d.release()
			continue
		}
		if want := strings.ReplaceAll(c.why, "DIR", dir); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", c.name, err, want)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}
