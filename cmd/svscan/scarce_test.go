package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// svscans are the programs compared, as command lines before the scanned
// directory: ours in both modes and Debian's daemontools 0.76.
func svscans(t *testing.T) map[string][]string {
	ours := testbin.Path(t, "svscan")
	return map[string][]string{"ours": {ours}, "ours -1": {ours, "-1"}, "daemontools": {testbin.Reference(t, "svscan")}}
}

// sleepers returns the pids of pid's children that have become sleep: the
// fake supervise processes of these tests.
func sleepers(pid int) []int {
	var pids []int
	for _, p := range svtest.Procs(pid) {
		if p.PPid == pid && len(p.Args) > 0 && p.Args[0] == "sleep" {
			pids = append(pids, p.Pid)
		}
	}
	return pids
}

// With ulimit -n 64, svscan still starts all of 100 services, starts again
// a supervise that dies, and picks up a new service, as daemontools'
// svscan does: it holds no descriptor per service, and running short of
// descriptors never stops its scans. svscan -1 holds descriptors for each
// supervisor: it supervises what fits, says which are not supervised, and
// keeps those it supervises (TestScarceDescriptorsOneProcess).
func TestScarceDescriptors(t *testing.T) {
	t.Parallel()
	for name, command := range svscans(t) {
		if name == "ours -1" {
			continue
		}
		prog := command[0]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, "service")
			for i := range 100 {
				testbin.Must(t, os.MkdirAll(filepath.Join(dir, fmt.Sprintf("s%03d", i)), 0755))
			}
			fake := filepath.Join(root, "bin")
			writeFile(t, filepath.Join(fake, "supervise"), "#!/bin/sh\nexec sleep 1000\n", 0755)
			cmd := exec.Command("/bin/sh", "-c", `ulimit -n 64 && exec "$0" "$1"`, prog, dir)
			cmd.Env = []string{"PATH=" + fake + ":/usr/bin:/bin"}
			cmd.Stderr = svtest.Create(t, filepath.Join(root, "stderr"))
			g := svtest.Start(t, cmd)
			svscan := g.Cmd.Process.Pid
			var started []int
			if !svtest.Poll(10*time.Second, func() bool { started = sleepers(svscan); return len(started) == 100 }) {
				out, _ := os.ReadFile(filepath.Join(root, "stderr"))
				t.Fatalf("%d of 100 services started; stderr:\n%.2000s", len(started), out)
			}
			victim := started[0]
			testbin.Must(t, syscall.Kill(victim, syscall.SIGKILL))
			testbin.Must(t, os.Mkdir(filepath.Join(dir, "s100"), 0755))
			// daemontools looks every five seconds.
			if !svtest.Poll(7*time.Second, func() bool {
				started = sleepers(svscan)
				return len(started) == 101 && !slices.Contains(started, victim)
			}) {
				out, _ := os.ReadFile(filepath.Join(root, "stderr"))
				t.Fatalf("after a kill and a new service, %d of 101 running; stderr:\n%.2000s", len(started), out)
			}
		})
	}
}

// Under ulimit -n 64 (soft and hard: Go cannot raise it), svscan -1
// supervises the services that fit, says of each of the others that it is
// not supervised, starts again a supervised service that dies, and keeps
// scanning.
func TestScarceDescriptorsOneProcess(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	var names []string
	for i := range 100 {
		name := fmt.Sprintf("s%03d", i)
		makeService(t, filepath.Join(dir, name), "exec sleep 1000", "")
		names = append(names, name)
	}
	cmd := exec.Command("/bin/sh", "-c", `ulimit -n 64 && exec "$0" -1 "$1"`, testbin.Path(t, "svscan"), dir)
	cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
	stderr := filepath.Join(root, "stderr")
	cmd.Stderr = svtest.Create(t, stderr)
	svtest.Start(t, cmd)
	warning := func(name string) string {
		return "svscan: warning: out of descriptors (limit 64): " + name + " is not supervised, the services already supervised stay so; trying again at the next scan\n"
	}
	var up map[string]int
	svtest.WaitFor(t, 10*time.Second, "every service supervised or said not to be", func() bool {
		b, _ := os.ReadFile(stderr)
		up = map[string]int{}
		for _, name := range names {
			if pid := upPid(t, filepath.Join(dir, name)); pid != 0 {
				up[name] = pid
			} else if !strings.Contains(string(b), warning(name)) {
				return false
			}
		}
		return true
	})
	if len(up) == 0 || len(up) == len(names) {
		t.Fatalf("%d of %d services supervised under ulimit -n 64", len(up), len(names))
	}
	for name, pid := range up {
		testbin.Must(t, syscall.Kill(pid, syscall.SIGKILL))
		svtest.WaitFor(t, 5*time.Second, name+" started again", func() bool {
			p := upPid(t, filepath.Join(dir, name))
			return p != 0 && p != pid
		})
		break
	}
}

// nobody returns the uid and gid of the account nobody.
func nobody(t *testing.T) (uid, gid int) {
	u, err := user.Lookup("nobody")
	testbin.Must(t, err)
	uid, err = strconv.Atoi(u.Uid)
	testbin.Must(t, err)
	gid, err = strconv.Atoi(u.Gid)
	testbin.Must(t, err)
	return uid, gid
}

// A service that cannot be looked at for a while (its real directory made
// unreadable, here) is warned about at each scan but keeps running under
// the same supervisor, as under daemontools, in both modes: only "does not
// exist" means a service has gone.
func TestStatErrorKeepsService(t *testing.T) {
	t.Parallel()
	uid, gid := nobody(t)
	type run struct {
		root, app string
		g         *svtest.Group
		svscan    int
		supervise int
		service   int
	}
	runs := map[string]*run{}
	for name, command := range svscans(t) {
		root := testbin.PublicDir(t)
		r := &run{root: root, app: filepath.Join(root, "apps/app")}
		makeService(t, r.app, "exec sleep 1000", "")
		testbin.Must(t, os.Mkdir(filepath.Join(root, "service"), 0755))
		testbin.Must(t, os.Symlink("../apps/app", filepath.Join(root, "service/app")))
		testbin.Must(t, filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, uid, gid)
		}))
		cmd := exec.Command(command[0], append(command[1:], filepath.Join(root, "service"))...)
		cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Stderr = svtest.Create(t, filepath.Join(root, "stderr"))
		r.g = svtest.Start(t, cmd)
		r.svscan = r.g.Cmd.Process.Pid
		runs[name] = r
	}
	for name, r := range runs {
		r.service = waitUp(t, 5*time.Second, r.app)[r.app]
		if name == "ours -1" {
			r.supervise = r.svscan // the supervisor lives inside svscan
		}
		for _, p := range svtest.Procs(r.svscan) {
			if p.PPid == r.svscan && len(p.Args) > 0 && p.Args[0] == "supervise" {
				r.supervise = p.Pid
			}
		}
		if r.supervise == 0 {
			t.Fatalf("%s: no supervise", name)
		}
		testbin.Must(t, os.Chmod(filepath.Join(r.root, "apps"), 0))
	}
	// Two scans five seconds apart warn: whatever the first one did to the
	// service has had time to happen.
	warning := "svscan: warning: unable to stat app: access denied\n"
	for name, r := range runs {
		svtest.WaitFor(t, 12*time.Second, name+"'s second warning", func() bool {
			b, _ := os.ReadFile(filepath.Join(r.root, "stderr"))
			return strings.Count(string(b), warning) >= 2
		})
	}
	for name, r := range runs {
		testbin.Must(t, os.Chmod(filepath.Join(r.root, "apps"), 0755))
		if !svtest.Alive(r.supervise) {
			t.Errorf("%s: supervise %d is gone", name, r.supervise)
		}
		if pid := upPid(t, r.app); pid != r.service {
			t.Errorf("%s: service pid %d, was %d", name, pid, r.service)
		}
		b, _ := os.ReadFile(filepath.Join(r.root, "stderr"))
		if rest := strings.ReplaceAll(string(b), warning, ""); rest != "" {
			t.Errorf("%s: stderr %q besides the warnings", name, rest)
		}
	}
}

// svscan does not scan when names it never supervises, those starting
// with a dot, come and go beside its services, and a burst of other
// changes costs a few scans, not one each. Every scan warns about a
// dangling symlink, which counts them.
func TestIgnoresDotNamesAndCoalescesBursts(t *testing.T) {
	forModes(t, ignoresDotNamesAndCoalescesBursts)
}

func ignoresDotNamesAndCoalescesBursts(t *testing.T, m mode) {
	missing := testbin.Missing(t)
	root := t.TempDir()
	dir := filepath.Join(root, "service")
	makeService(t, filepath.Join(dir, "a"), "exec sleep 1000", "")
	testbin.Must(t, os.Symlink(missing, filepath.Join(dir, "dangling")))
	s := m.start(t, dir)
	waitUp(t, 5*time.Second, dir+"/a")
	scans := func() int { return strings.Count(s.stderr(), "unable to stat dangling") }
	// At least one: under load the next periodic scan may come first.
	svtest.WaitFor(t, 5*time.Second, "the first scan", func() bool { return scans() >= 1 })

	// churn creates and removes name 100 times, 2 ms apart, then renames
	// a new service in and waits until it runs: the scan that starts it
	// comes after every scan the churn caused. It returns how many scans
	// there were and how long the churn took.
	probes := 0
	churn := func(name string) (int, time.Duration) {
		before := scans()
		start := time.Now()
		for range 100 {
			testbin.Must(t, os.WriteFile(filepath.Join(dir, name), nil, 0644))
			testbin.Must(t, os.Remove(filepath.Join(dir, name)))
			time.Sleep(2 * time.Millisecond) // pacing the churn, not waiting for svscan
		}
		took := time.Since(start)
		probes++
		probe := fmt.Sprintf("probe%d", probes)
		makeService(t, filepath.Join(root, probe), "exec sleep 1000", "")
		testbin.Must(t, os.Rename(filepath.Join(root, probe), filepath.Join(dir, probe)))
		waitUp(t, 5*time.Second, filepath.Join(dir, probe))
		return scans() - before, took
	}
	// The probe's scan, and the periodic ones that may fall in.
	expected := func(took time.Duration) int { return 1 + int(took/(5*time.Second)) + 1 }
	if n, took := churn(".x"); n > expected(took) {
		t.Errorf("%d scans while .x came and went 100 times in %v", n, took)
	}
	// And at most one scan per 100 ms of churn.
	if n, took := churn("x"); n > expected(took)+int(took/(100*time.Millisecond))+1 {
		t.Errorf("%d scans while x came and went 100 times in %v", n, took)
	}
}
