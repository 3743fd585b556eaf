package scan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// scanOne makes the service a, with run the sh script body, in a new
// directory, and scans it with a new Scanner of svscan -1.
func scanOne(t *testing.T, run string) (*Scanner, *service, *bytes.Buffer, time.Time) {
	t.Helper()
	root := t.TempDir()
	svtest.NewService(t, filepath.Join(root, "a"), run)
	t.Chdir(root)
	stderr := new(bytes.Buffer)
	s, err := New(Options{Stderr: stderr, Env: os.Environ(), InProcess: true})
	testbin.Must(t, err)
	t.Cleanup(s.loop.close)
	now := time.Now()
	s.Scan(true, now)
	if len(s.services) != 1 {
		t.Fatalf("%d services, want 1", len(s.services))
	}
	for _, sv := range s.services {
		return s, sv, stderr, now
	}
	return nil, nil, nil, now
}

// A panic while one supervisor works is reported in daemontools' style,
// and the supervisor is built again at once, adopting its running service
// rather than starting it a second time.
func TestPanicRebuildsAndAdopts(t *testing.T) {
	s, sv, stderr, now := scanOne(t, "exec sleep 1000")
	u := sv.main
	before, err := status.ReadAll("a/" + status.File)
	testbin.Must(t, err)
	if before.Pid == 0 {
		t.Fatalf("a not started: %+v", before)
	}
	t.Cleanup(func() {
		unix.Kill(before.Pid, unix.SIGKILL)
		unix.Wait4(before.Pid, nil, 0, nil)
		if u.sup != nil {
			u.sup.Close()
		}
	})

	s.step(u, func() { panic("boom") }, now)
	if want := "svscan: warning: supervisor of a crashed: panic: boom; taking it up again\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if u.sup == nil {
		t.Fatal("the supervisor was not built again")
	}
	after, err := status.ReadAll("a/" + status.File)
	testbin.Must(t, err)
	if after.Pid != before.Pid || after.Start != before.Start {
		t.Errorf("after the panic: pid %d, was %d: not adopted", after.Pid, before.Pid)
	}
	if !svtest.Alive(before.Pid) {
		t.Error("the service died with its supervisor")
	}
}

// A supervisor that panics while its service is being stopped is built
// again and carries on with the stop: told dx again, it ends once the
// service is down, so svscan's stop does not wait for ever.
func TestPanicDuringStop(t *testing.T) {
	s, sv, _, now := scanOne(t, "trap '' TERM\nexec sleep 1000")
	u := sv.main
	pid := u.sup.Pid()
	svtest.WaitFor(t, 5*time.Second, "the trap set: sh has become sleep", func() bool {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return string(comm) == "sleep\n"
	})
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		if u.sup != nil {
			u.sup.Close()
		}
	})
	s.Stop()
	s.retire(sv, now)
	if u.told != "dx" {
		t.Fatalf("told %q, want dx", u.told)
	}
	s.step(u, func() { panic("boom") }, now)
	if u.sup == nil || u.sup.Pid() != pid {
		t.Fatalf("not rebuilt around pid %d", pid)
	}
	rec, err := status.ReadAll("a/" + status.File)
	testbin.Must(t, err)
	if rec.Want != status.WantDown {
		t.Errorf("rebuilt supervisor wants %q, want down", rec.Want)
	}
	testbin.Must(t, unix.Kill(pid, unix.SIGKILL))
	svtest.WaitFor(t, 5*time.Second, "the rebuilt supervisor to end", func() bool {
		if u.sup != nil {
			s.step(u, func() { u.sup.Step(time.Now()) }, time.Now())
		}
		return u.sup == nil
	})
}

// A full scan that finds nothing new allocates nothing, so that an idle
// svscan -1 never wakes the garbage collector: the names are read in
// place and the pidfile look of each running service (ownProcess) uses a
// buffer kept for it.
func TestIdleScanAllocatesNothing(t *testing.T) {
	s, sv, stderr, now := scanOne(t, "exec sleep 1000")
	u := sv.main
	pid := u.sup.Pid()
	t.Cleanup(func() {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		if u.sup != nil {
			u.sup.Close()
		}
	})
	if !u.sup.Running() {
		t.Fatal("a is not running: the scan would not look for its pidfile")
	}
	if allocs := testing.AllocsPerRun(20, func() { s.Scan(true, now) }); allocs != 0 {
		t.Errorf("an idle full scan allocates %v times, want 0", allocs)
	}
	if len(s.services) != 1 || u.sup == nil || u.sup.Pid() != pid || stderr.Len() != 0 {
		t.Errorf("after the scans: %d services, supervisor %v, stderr %q", len(s.services), u.sup, stderr)
	}
}
