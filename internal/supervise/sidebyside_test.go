package supervise

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/control"
	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// sideService is one of several supervisors running in this process.
type sideService struct {
	dir    string
	out    *os.File // the service's stdout and stderr, as a log pipe would be
	stderr bytes.Buffer
	s      *Supervisor
	done   chan struct{}
}

// TestSideBySide runs three supervisors in this one process, each with its
// own directory, stdio, children and timers: each ./run runs in its own
// directory with its own output, a death or a command touches its own
// service only, the process's working directory is never changed, and no
// supervisor reaps a child that is not its own.
func TestSideBySide(t *testing.T) {
	wd, err := os.Getwd()
	testbin.Must(t, err)
	// A child of this process that is nobody's service: it must stay for
	// this test to reap.
	foreign := exec.Command("sh", "-c", "exit 7")
	testbin.Must(t, foreign.Start())

	var services []*sideService
	for i := range 3 {
		sv := &sideService{dir: filepath.Join(t.TempDir(), "svc"+strconv.Itoa(i)), done: make(chan struct{})}
		testbin.Must(t, os.Mkdir(sv.dir, 0o755))
		run := "#!/bin/sh\necho $$ >>starts\npwd >cwd\necho out " + strconv.Itoa(i) + "\nexec sleep 100\n"
		testbin.Must(t, os.WriteFile(filepath.Join(sv.dir, "run"), []byte(run), 0o755))
		sv.out, err = os.Create(filepath.Join(t.TempDir(), "out"))
		testbin.Must(t, err)
		defer sv.out.Close()
		fd := int(sv.out.Fd())
		sv.s, err = Open(Options{Dir: sv.dir, Env: os.Environ(), Stdio: [3]int{0, fd, fd}, Stderr: &sv.stderr})
		testbin.Must(t, err)
		go func() { drive(sv.s, -1); close(sv.done) }()
		services = append(services, sv)
	}
	defer func() {
		for _, sv := range services {
			control.Send(sv.dir, []byte("dx"))
			<-sv.done
			sv.s.Close()
		}
	}()

	pids := make([]int, len(services))
	for i, sv := range services {
		starts := waitLines(t, filepath.Join(sv.dir, "starts"), 1)
		pids[i], _ = strconv.Atoi(starts[0])
		if got := waitLines(t, filepath.Join(sv.dir, "cwd"), 1); got[0] != sv.dir {
			t.Errorf("service %d ran in %s, want %s", i, got[0], sv.dir)
		}
		if got := waitLines(t, sv.out.Name(), 1); got[0] != "out "+strconv.Itoa(i) {
			t.Errorf("service %d wrote %q to its output", i, got)
		}
	}
	if now, _ := os.Getwd(); now != wd {
		t.Errorf("working directory became %s", now)
	}
	if err := foreign.Wait(); err == nil || foreign.ProcessState.ExitCode() != 7 {
		t.Errorf("the foreign child: %v, want exit 7: a supervisor reaped it", err)
	}

	// A death restarts that service alone.
	testbin.Must(t, syscall.Kill(pids[1], syscall.SIGKILL))
	waitLines(t, filepath.Join(services[1].dir, "starts"), 2)
	// svc -d downs that service alone.
	testbin.Must(t, control.Send(services[2].dir, []byte("d")))
	svtest.WaitFor(t, 5*time.Second, "service 2 down", func() bool {
		st, err := readStatus(services[2].dir)
		return err == nil && st.Pid == 0 && st.Want == status.WantDown
	})
	for i, sv := range services {
		st, err := readStatus(sv.dir)
		testbin.Must(t, err)
		starts := len(lines(filepath.Join(sv.dir, "starts")))
		switch i {
		case 0:
			if st.Pid != pids[0] || starts != 1 {
				t.Errorf("service 0: pid %d, %d starts; want %d, 1 start", st.Pid, starts, pids[0])
			}
		case 1:
			if st.Pid == pids[1] || st.Pid == 0 || starts != 2 {
				t.Errorf("service 1: pid %d, %d starts; want a new pid, 2 starts", st.Pid, starts)
			}
		}
		if sv.stderr.Len() != 0 {
			t.Errorf("service %d: warnings %q", i, sv.stderr.String())
		}
	}
	// Each exits on its own dx, its service stopped.
	for i, sv := range services {
		testbin.Must(t, control.Send(sv.dir, []byte("dx")))
		select {
		case <-sv.done:
		case <-time.After(svtest.Scaled(5 * time.Second)):
			t.Fatalf("supervisor %d did not end on dx", i)
		}
		sv.s.Close()
		if ok, err := control.Running(sv.dir); ok || err != nil {
			t.Errorf("supervisor %d: running %v %v after Close", i, ok, err)
		}
	}
	services = nil
}

func readStatus(dir string) (status.Status, error) {
	b, err := os.ReadFile(filepath.Join(dir, status.File))
	if err != nil {
		return status.Status{}, err
	}
	return status.Decode(b)
}

func lines(file string) []string {
	b, _ := os.ReadFile(file)
	return slices.DeleteFunc(strings.Split(string(b), "\n"), func(s string) bool { return s == "" })
}

// waitLines waits for file to have at least n lines and returns them.
func waitLines(t *testing.T, file string, n int) []string {
	t.Helper()
	var got []string
	svtest.WaitFor(t, 5*time.Second, strconv.Itoa(n)+" lines in "+file, func() bool {
		got = lines(file)
		return len(got) >= n
	})
	return got
}
