package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// treeSupervisor supervises a tree of services: runit's runsvdir, the
// reference for runit's clients, or our svscan in one of its modes.
type treeSupervisor struct {
	name  string
	start func(t testing.TB, dir string)
}

func treeSupervisors() []treeSupervisor {
	sups := []treeSupervisor{{"runsvdir", startRunsvdir}}
	for _, m := range modes {
		sups = append(sups, treeSupervisor{m.name, func(t testing.TB, dir string) { m.start(t, dir) }})
	}
	return sups
}

// startRunsvdir runs Debian's runsvdir on dir as the first process of a
// pid namespace of its own, so that its runsv processes, which leave its
// session, and their services all end with it when the test does.
func startRunsvdir(t testing.TB, dir string) {
	t.Helper()
	for _, prog := range []string{"/usr/bin/runsvdir", "/usr/bin/sv"} {
		if _, err := os.Stat(prog); err != nil {
			t.Fatalf("runit is missing (apt-get install runit): %v", err)
		}
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "/usr/bin/runsvdir", dir)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	svtest.Start(t, cmd)
}

// sideBySide makes a tree with build under runsvdir and under our svscan in
// both modes, at once, runs scenario on each, and fails unless ours tell
// what runsvdir's tells; it returns runsvdir's transcript, for the caller
// to check. Transcripts name the tree DIR (see transcript).
//
// Each tree has a goroutine of its own, not a parallel subtest, which
// would wait for one of the package's few -parallel slots: these tests
// mostly wait for the clients.
func sideBySide(t *testing.T, build func(t testing.TB, dir string), scenario func(t testing.TB, dir string) string) string {
	t.Helper()
	sups := treeSupervisors()
	said := make([]string, len(sups))
	var wg sync.WaitGroup
	for i, s := range sups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tt := treeT{t, s.name}
			dir := filepath.Join(t.TempDir(), "service")
			build(tt, dir)
			s.start(tt, dir)
			said[i] = scenario(tt, dir)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i := 1; i < len(sups); i++ {
		if said[i] != said[0] {
			t.Errorf("under our svscan (%s):\n%s\nunder runsvdir:\n%s", sups[i].name, said[i], said[0])
		}
	}
	return said[0]
}

// treeT is the test as one tree's goroutine sees it: its failures name
// the tree, and a fatal one ends that goroutine alone.
type treeT struct {
	testing.TB
	tree string
}

func (t treeT) Name() string { return t.TB.Name() + "/" + t.tree }

func (t treeT) Error(args ...any) {
	t.TB.Helper()
	t.TB.Error(append([]any{t.tree + ": "}, args...)...)
}

func (t treeT) Errorf(format string, args ...any) {
	t.TB.Helper()
	t.TB.Errorf(t.tree+": "+format, args...)
}

func (t treeT) Fatal(args ...any) { t.TB.Helper(); t.Error(args...); runtime.Goexit() }

func (t treeT) Fatalf(format string, args ...any) {
	t.TB.Helper()
	t.Errorf(format, args...)
	runtime.Goexit()
}

func (t treeT) FailNow() { t.TB.Fail(); runtime.Goexit() }

var (
	pidRE      = regexp.MustCompile(`\(pid [0-9]+\)`)
	svTimeRE   = regexp.MustCompile(`(: |\) )[0-9]+s\b`)
	wantDownRE = regexp.MustCompile(`, want down\b`)
)

// transcript records what runit's sv says of the tree dir, one command
// at a time.
type transcript struct {
	t   testing.TB
	dir string
	b   strings.Builder
}

// normal is out with the tree named DIR, every pid N and every age Ns.
func (tr *transcript) normal(out string) string {
	out = strings.ReplaceAll(out, tr.dir, "DIR")
	return svTimeRE.ReplaceAllString(pidRE.ReplaceAllString(out, "(pid N)"), "${1}Ns")
}

// sv runs runit's sv with args and records the command, its output and
// its exit code; it returns the output as it was.
func (tr *transcript) sv(args ...string) testbin.Result {
	tr.t.Helper()
	r := testbin.RunWithin(tr.t, exec.Command("/usr/bin/sv", args...), svtest.Scaled(20*time.Second))
	tr.note(args, r)
	return r
}

func (tr *transcript) note(args []string, r testbin.Result) {
	fmt.Fprintf(&tr.b, "$ sv %s\n%s", tr.normal(strings.Join(args, " ")), tr.normal(r.Stdout))
	if r.Stderr != "" {
		fmt.Fprintf(&tr.b, "stderr: %s", tr.normal(r.Stderr))
	}
	if r.Code != 0 {
		fmt.Fprintf(&tr.b, "exit %d\n", r.Code)
	}
}

// svUntil runs sv with args until its output, normalised, is want, and
// records that run; the test fails if it never is.
func (tr *transcript) svUntil(want string, args ...string) testbin.Result {
	tr.t.Helper()
	r := tr.poll(want, args...)
	tr.note(args, r)
	return r
}

// poll runs sv with args until its output, normalised, is want; the test
// fails if it never is.
func (tr *transcript) poll(want string, args ...string) testbin.Result {
	tr.t.Helper()
	var r testbin.Result
	if !svtest.Poll(10*time.Second, func() bool {
		r = testbin.RunWithin(tr.t, exec.Command("/usr/bin/sv", args...), svtest.Scaled(testbin.Hang))
		return tr.normal(r.Stdout) == want
	}) {
		tr.t.Fatalf("sv %q says %q, want %q", args, r.Stdout, want)
	}
	return r
}

func (tr *transcript) String() string { return tr.b.String() }

// files records runsv's text files of service dir, supervise/stat as it
// is and supervise/pid as "N" when it holds the record's pid, else as it is.
func (tr *transcript) files(dir string) {
	tr.t.Helper()
	stat, err := os.ReadFile(filepath.Join(dir, "supervise/stat"))
	testbin.Must(tr.t, err)
	pid, err := os.ReadFile(filepath.Join(dir, "supervise/pid"))
	testbin.Must(tr.t, err)
	if p := supervisedPid(tr.t, dir); p != 0 && string(pid) == fmt.Sprintln(p) {
		pid = []byte("N\n")
	}
	fmt.Fprintf(&tr.b, "%s: stat %q, pid %q\n", tr.normal(dir), stat, pid)
}

// secondPassed waits until the status record of service dir is from an
// earlier second than now: sv restart takes a record from the second it
// began in for the restarted service's.
func secondPassed(t testing.TB, dir string) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, dir+"'s record a second old", func() bool {
		s, ok := svtest.ReadStatus(t, dir)
		return ok && s.Since.Sec < tai64.Now().Sec
	})
}

// supervisedPid is the pid in dir's status record (in the supervisor's
// pid namespace).
func supervisedPid(t testing.TB, dir string) int {
	t.Helper()
	s, _ := svtest.ReadStatus(t, dir)
	return s.Pid
}

// runitTree makes web (with a log), idle (normally down), chk (with a
// ./check that passes once the file ready exists), stubborn (which
// ignores TERM) and linked, whose supervise is a link to a directory not
// made yet, as in runit's trees.
func runitTree(t testing.TB, dir string) {
	makeService(t, filepath.Join(dir, "web"), "exec sleep 1000", "exec cat >/dev/null")
	makeService(t, filepath.Join(dir, "idle"), "exec sleep 1000", "")
	writeFile(t, filepath.Join(dir, "idle", "down"), "", 0o644)
	makeService(t, filepath.Join(dir, "chk"), "exec sleep 1000", "")
	writeFile(t, filepath.Join(dir, "chk", "check"), "#!/bin/sh\nexec test -e ready\n", 0o755)
	makeService(t, filepath.Join(dir, "stubborn"), "trap '' TERM\nexec sleep 1000", "")
	makeService(t, filepath.Join(dir, "linked"), "exec sleep 1000", "")
	testbin.Must(t, os.Symlink("../../supervise.linked", filepath.Join(dir, "linked", "supervise")))
}

// runit's sv drives our services as it drives runsv's: status (of a log
// too), up, down, restart, pause and cont, -w with and without ./check, a
// stop signal ignored (got TERM) and force-stop's kill, once, exit; and
// supervise/stat and supervise/pid say what runsv's say. A supervise
// linked to a directory not made yet is made, as runsv makes it.
func TestRunitSv(t *testing.T) {
	t.Parallel()
	said := sideBySide(t, runitTree, func(t testing.TB, dir string) string {
		tr := &transcript{t: t, dir: dir}
		web, idle, chk, stubborn := dir+"/web", dir+"/idle", dir+"/chk", dir+"/stubborn"
		tr.svUntil("run: DIR/web: (pid N) Ns; run: log: (pid N) Ns\n", "status", web)
		tr.svUntil("down: DIR/idle: Ns\n", "status", idle)
		tr.svUntil("run: DIR/chk: (pid N) Ns\n", "status", chk)
		tr.svUntil("run: DIR/stubborn: (pid N) Ns\n", "status", stubborn)
		tr.svUntil("run: DIR/linked: (pid N) Ns\n", "status", dir+"/linked")
		for _, d := range []string{web, web + "/log", idle} {
			tr.files(d)
		}

		tr.sv("-w", "5", "up", idle)
		tr.sv("-w", "5", "down", idle)
		tr.sv("status", idle)

		secondPassed(t, web)
		before := supervisedPid(t, web)
		tr.sv("-w", "5", "restart", web)
		if after := supervisedPid(t, web); after == before || after == 0 {
			t.Errorf("sv restart: pid %d before, %d after", before, after)
		}
		tr.sv("-w", "5", "down", web)
		tr.sv("status", web)
		tr.files(web)
		tr.sv("-w", "5", "up", web)
		tr.sv("-w", "5", "pause", web)
		tr.sv("status", web)
		tr.files(web)
		tr.sv("-w", "5", "cont", web)

		tr.sv("-w", "1", "up", chk)
		writeFile(t, chk+"/ready", "", 0o644)
		tr.sv("-w", "5", "up", chk)

		tr.sv("down", stubborn)
		tr.svUntil("run: DIR/stubborn: (pid N) Ns, want down, got TERM\n", "status", stubborn)
		tr.files(stubborn)
		tr.sv("-w", "1", "force-stop", stubborn)
		tr.svUntil("down: DIR/stubborn: Ns, normally up\n", "status", stubborn)

		// sv once: runsv takes it for "want down", daemontools' svc -o
		// for "no wish" (byte 17 is 0), which our supervise keeps: sv
		// says ", want down" of runsv's service alone while it runs.
		tr.sv("once", idle)
		r := tr.poll("run: DIR/idle: (pid N) Ns, normally down"+wantDownUnderRunsv(t)+"\n", "status", idle)
		r.Stdout = wantDownRE.ReplaceAllString(r.Stdout, "")
		tr.note([]string{"status", idle}, r)
		tr.sv("term", idle)
		tr.svUntil("down: DIR/idle: Ns\n", "status", idle)

		// sv exit of a service that is down: its supervisor exits and
		// the scanner starts another, which records the service anew.
		secondPassed(t, idle)
		old, _ := svtest.ReadStatus(t, idle)
		tr.sv("exit", idle)
		svtest.WaitFor(t, 10*time.Second, "a new supervisor of idle", func() bool {
			s, ok := svtest.ReadStatus(t, idle)
			return ok && s.Since.Sec > old.Since.Sec
		})
		tr.svUntil("down: DIR/idle: Ns\n", "status", idle)
		return tr.String()
	})
	want := `$ sv status DIR/web
run: DIR/web: (pid N) Ns; run: log: (pid N) Ns
$ sv status DIR/idle
down: DIR/idle: Ns
$ sv status DIR/chk
run: DIR/chk: (pid N) Ns
$ sv status DIR/stubborn
run: DIR/stubborn: (pid N) Ns
$ sv status DIR/linked
run: DIR/linked: (pid N) Ns
DIR/web: stat "run\n", pid "N\n"
DIR/web/log: stat "run\n", pid "N\n"
DIR/idle: stat "down\n", pid ""
$ sv -w 5 up DIR/idle
ok: run: DIR/idle: (pid N) Ns, normally down
$ sv -w 5 down DIR/idle
ok: down: DIR/idle: Ns
$ sv status DIR/idle
down: DIR/idle: Ns
$ sv -w 5 restart DIR/web
ok: run: DIR/web: (pid N) Ns
$ sv -w 5 down DIR/web
ok: down: DIR/web: Ns, normally up
$ sv status DIR/web
down: DIR/web: Ns, normally up; run: log: (pid N) Ns
DIR/web: stat "down\n", pid ""
$ sv -w 5 up DIR/web
ok: run: DIR/web: (pid N) Ns
$ sv -w 5 pause DIR/web
ok: run: DIR/web: (pid N) Ns, paused
$ sv status DIR/web
run: DIR/web: (pid N) Ns, paused; run: log: (pid N) Ns
DIR/web: stat "run, paused\n", pid "N\n"
$ sv -w 5 cont DIR/web
ok: run: DIR/web: (pid N) Ns
$ sv -w 1 up DIR/chk
timeout: run: DIR/chk: (pid N) Ns
exit 1
$ sv -w 5 up DIR/chk
ok: run: DIR/chk: (pid N) Ns
$ sv down DIR/stubborn
$ sv status DIR/stubborn
run: DIR/stubborn: (pid N) Ns, want down, got TERM
DIR/stubborn: stat "run, got TERM, want down\n", pid "N\n"
$ sv -w 1 force-stop DIR/stubborn
kill: run: DIR/stubborn: (pid N) Ns, want down, got TERM
exit 1
$ sv status DIR/stubborn
down: DIR/stubborn: Ns, normally up
$ sv once DIR/idle
$ sv status DIR/idle
run: DIR/idle: (pid N) Ns, normally down
$ sv term DIR/idle
$ sv status DIR/idle
down: DIR/idle: Ns
$ sv exit DIR/idle
$ sv status DIR/idle
down: DIR/idle: Ns
`
	if said != want {
		t.Errorf("under runsvdir, sv says\n%s\nwant\n%s", said, want)
	}
}

// wantDownUnderRunsv is what sv adds to the status of a service started by
// sv once: ", want down" under runsvdir, nothing under ours.
func wantDownUnderRunsv(t testing.TB) string {
	if strings.HasSuffix(t.Name(), "/runsvdir") {
		return ", want down"
	}
	return ""
}
