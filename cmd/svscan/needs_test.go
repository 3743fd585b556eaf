package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// needsModes are the ways a service with needs/ is supervised: svscan's
// two modes, and a supervise started by hand for each service.
var needsModes = append(modes[:len(modes):len(modes)], mode{name: "by-hand"})

// startNeeds supervises the services names of dir in mode m.
func (m mode) startNeeds(t *testing.T, dir string, names ...string) *scanner {
	t.Helper()
	if m.name != "by-hand" {
		return m.start(t, dir)
	}
	for _, name := range names {
		svtest.StartSupervise(t, filepath.Join(dir, name))
	}
	return nil
}

func forNeedsModes(t *testing.T, test func(t *testing.T, m mode)) {
	t.Parallel()
	for _, m := range needsModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m)
		})
	}
}

// need makes dir/needs/name; a symlink when link, else an empty file.
func need(t *testing.T, dir, name string, link bool) {
	t.Helper()
	testbin.Must(t, os.MkdirAll(filepath.Join(dir, "needs"), 0o755))
	if link {
		testbin.Must(t, os.Symlink("../../"+name, filepath.Join(dir, "needs", name)))
		return
	}
	writeFile(t, filepath.Join(dir, "needs", name), "", 0o644)
}

// nanos reads the clock a service wrote into file (date +%s%N).
func nanos(t *testing.T, file string) time.Time {
	t.Helper()
	b, err := os.ReadFile(file)
	testbin.Must(t, err)
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	testbin.Must(t, err)
	return time.Unix(0, n)
}

// waitingFor is svstat -j's waiting_for of dir.
func waitingFor(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command(testbin.Path(t, "svstat"), "-j", dir).Output()
	testbin.Must(t, err)
	var j struct {
		State      string   `json:"state"`
		WaitingFor []string `json:"waiting_for"`
	}
	testbin.Must(t, json.Unmarshal(out, &j))
	return j.WaitingFor
}

// app needs db, which says it is ready through notification-fd a second
// after its start: app's ./run starts only then, within 50 ms, and until
// then svstat says what it waits for; daemontools' svstat sees it down,
// wanted up.
func TestNeedsWaitForReadiness(t *testing.T) { forNeedsModes(t, needsWaitForReadiness) }

func needsWaitForReadiness(t *testing.T, m mode) {
	dir := t.TempDir()
	db, app := filepath.Join(dir, "db"), filepath.Join(dir, "app")
	// db is ready once the test has seen app wait for it.
	makeService(t, db, "until [ -e ../db-go ]; do sleep 0.05; done\ndate +%s%N >../db-ready\necho >&4\nexec sleep 1000", "")
	writeFile(t, filepath.Join(db, "notification-fd"), "4\n", 0o644)
	makeService(t, app, "date +%s%N >../app-started.new\nmv ../app-started.new ../app-started\nexec sleep 1000", "")
	need(t, app, "db", m.name == "one-process")
	m.startNeeds(t, dir, "app", "db")
	svtest.WaitFor(t, 5*time.Second, "app waiting for db", func() bool {
		return svtest.SvstatLong(t, app) == "down N seconds, normally up, want up, waiting for db, 0 restarts"
	})
	if got := waitingFor(t, app); len(got) != 1 || got[0] != "db" {
		t.Errorf("svstat -j: waiting_for %q, want [db]", got)
	}
	if out, err := exec.Command("/usr/bin/svstat", app).Output(); err != nil ||
		!strings.HasSuffix(string(out), " seconds, normally up, want up\n") || !strings.HasPrefix(string(out), app+": down ") {
		t.Errorf("daemontools' svstat: %q %v", out, err)
	}
	writeFile(t, filepath.Join(dir, "db-go"), "", 0o644)
	svtest.WaitFor(t, 10*time.Second, "app to start", func() bool { return svtest.Exists(filepath.Join(dir, "app-started")) })
	// The start is when app's supervisor forked ./run, as its record
	// says (what ./run's shell takes to run date is not the wait's);
	// ./run itself ran after db's readiness.
	ready, ran := nanos(t, filepath.Join(dir, "db-ready")), nanos(t, filepath.Join(dir, "app-started"))
	// ./run may have run date before its record named it.
	rec := svtest.WaitStatus(t, app, "app's record to name its ./run", func(s status.Status) bool { return s.Pid != 0 })
	late := rec.Since.Time().Sub(ready)
	t.Logf("app's ./run started %v after db said it is ready, ran date %v after", late, ran.Sub(ready))
	if late < 0 || late > svtest.Scaled(50*time.Millisecond) || ran.Before(ready) {
		t.Errorf("app's ./run started %v after db said it is ready, ran %v after, want within 0 and %v",
			late, ran.Sub(ready), svtest.Scaled(50*time.Millisecond))
	}
	if got := waitingFor(t, app); got != nil {
		t.Errorf("svstat -j once up: waiting_for %q, want null", got)
	}
}

// A needed service missing from the scan directory is waited for; once
// the needs/ entry is removed, the service starts.
func TestNeedsMissing(t *testing.T) { forNeedsModes(t, needsMissing) }

func needsMissing(t *testing.T, m mode) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	makeService(t, app, "exec sleep 1000", "")
	need(t, app, "ghost", true)
	need(t, app, "ghost2", false)
	m.startNeeds(t, dir, "app")
	svtest.WaitFor(t, 5*time.Second, "app waiting for ghost", func() bool {
		return svtest.SvstatLong(t, app) == "down N seconds, normally up, want up, waiting for ghost, ghost2, 0 restarts"
	})
	// svc -u and -o keep it waiting.
	svtest.OurSvc(t, "-u", app)
	svtest.OurSvc(t, "-o", app)
	if !svtest.Holds(200*time.Millisecond, func() bool { return upPid(t, app) == 0 }) {
		t.Fatal("app started while ghost is missing")
	}
	if got := svtest.SvstatLong(t, app); got != "down N seconds, normally up, waiting for ghost, ghost2, 0 restarts" {
		t.Errorf("after svc -u -o: %q", got) // -o: wanted neither up nor down
	}
	svtest.OurSvc(t, "-u", app)
	testbin.Must(t, os.Remove(filepath.Join(app, "needs", "ghost")))
	svtest.WaitFor(t, 5*time.Second, "app waiting for ghost2 alone", func() bool {
		return svtest.SvstatLong(t, app) == "down N seconds, normally up, want up, waiting for ghost2, 0 restarts"
	})
	testbin.Must(t, os.Remove(filepath.Join(app, "needs", "ghost2")))
	waitUp(t, 5*time.Second, app)
}

// Two services that need each other are a cycle: svscan warns once, and
// both start as if they had no needs.
func TestNeedsCycle(t *testing.T) { forModes(t, needsCycle) }

func needsCycle(t *testing.T, m mode) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	makeService(t, a, "exec sleep 1000", "")
	makeService(t, b, "exec sleep 1000", "")
	need(t, a, "b", false)
	need(t, b, "a", false)
	s := m.start(t, dir)
	waitUp(t, 5*time.Second, a, b)
	testbin.Must(t, s.Cmd.Process.Signal(syscall.SIGHUP))
	makeService(t, filepath.Join(dir, "c"), "exec sleep 1000", "") // another scan that adds a service
	waitUp(t, 5*time.Second, filepath.Join(dir, "c"))
	if got, want := s.stderr(), "svscan: warning: dependency cycle: a -> b -> a\n"; got != want {
		t.Errorf("svscan's stderr: %q, want %q", got, want)
	}
}

// lines counts the lines of file, 0 when there is none.
func lines(file string) int {
	b, _ := os.ReadFile(file)
	return strings.Count(string(b), "\n")
}

// web needs migrate, a one-shot task: while migrate fails it is retried
// and web waits; once it exits 0 it is done, never run again, and web
// starts. svwait -U holds for done; daemontools' svstat sees it down.
func TestOneshotNeeded(t *testing.T) { forNeedsModes(t, oneshotNeeded) }

func oneshotNeeded(t *testing.T, m mode) {
	dir := t.TempDir()
	migrate, web := filepath.Join(dir, "migrate"), filepath.Join(dir, "web")
	runs, fail := filepath.Join(dir, "migrate-runs"), filepath.Join(dir, "fail")
	writeFile(t, fail, "", 0o644)
	makeService(t, migrate, "echo run >>../migrate-runs\nif [ -e ../fail ]; then exit 1; fi", "")
	writeFile(t, filepath.Join(migrate, "oneshot"), "", 0o644)
	makeService(t, web, "date +%s%N >../web-started\nexec sleep 1000", "")
	need(t, web, "migrate", false)
	m.startNeeds(t, dir, "web", "migrate")
	svtest.WaitFor(t, 10*time.Second, "migrate to fail twice", func() bool { return lines(runs) >= 2 })
	if got := svtest.SvstatLong(t, web); got != "down N seconds, normally up, want up, waiting for migrate, 0 restarts" {
		t.Errorf("web while migrate fails: %q", got)
	}
	if svtest.Exists(filepath.Join(dir, "web-started")) {
		t.Fatal("web started after migrate failed")
	}
	testbin.Must(t, os.Remove(fail))
	svtest.WaitFor(t, 10*time.Second, "web to start", func() bool { return svtest.Exists(filepath.Join(dir, "web-started")) })
	n := lines(runs)
	if got := svtest.SvstatLong(t, migrate); !strings.HasPrefix(got, "down N seconds, normally up, done, ") || !strings.HasSuffix(got, ", last exit 0") {
		t.Errorf("svstat -l migrate: %q", got)
	}
	if out, err := exec.Command("/usr/bin/svstat", migrate).Output(); err != nil || !strings.HasSuffix(string(out), " seconds, normally up\n") {
		t.Errorf("daemontools' svstat: %q %v", out, err)
	}
	if code := svwaitRun(t, "-U", "-t", "1000", migrate); code != 0 {
		t.Errorf("svwait -U on a one-shot task done: exit %d", code)
	}
	if !svtest.Holds(1500*time.Millisecond, func() bool { return lines(runs) == n }) {
		t.Errorf("migrate ran again once done: %d runs, then %d", n, lines(runs))
	}
	// svc -u runs it once more.
	svtest.OurSvc(t, "-u", migrate)
	svtest.WaitFor(t, 5*time.Second, "migrate's run on svc -u", func() bool { return lines(runs) == n+1 })
}

// svscan's orderly stop stops dependents first: web (needs app), then
// app (needs db), then db, each saying goodbye as its down signal comes;
// a cycle beside them (x and y) stops too.
func TestNeedsStopOrder(t *testing.T) { forModes(t, needsStopOrder) }

func needsStopOrder(t *testing.T, m mode) {
	dir := t.TempDir()
	byeRun := func(name string) string {
		return "trap 'echo " + name + " >>../goodbyes; exit 0' TERM\n: >../" + name + "-trapped\nwhile :; do sleep 0.1; done"
	}
	var dirs []string
	for _, name := range []string{"db", "app", "web", "x", "y"} {
		makeService(t, filepath.Join(dir, name), byeRun(name), "")
		dirs = append(dirs, filepath.Join(dir, name))
	}
	need(t, filepath.Join(dir, "web"), "app", false)
	need(t, filepath.Join(dir, "app"), "db", true)
	need(t, filepath.Join(dir, "x"), "y", false)
	need(t, filepath.Join(dir, "y"), "x", false)
	s := m.start(t, dir)
	waitUp(t, 5*time.Second, dirs...)
	// Up is the record naming ./run, which may not have set its trap yet.
	svtest.WaitFor(t, 5*time.Second, "every ./run's trap", func() bool {
		for _, d := range dirs {
			if !svtest.Exists(d + "-trapped") {
				return false
			}
		}
		return true
	})
	s.signal(t, syscall.SIGTERM)
	if code := s.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("svscan exited %d on TERM", code)
	}
	b, err := os.ReadFile(filepath.Join(dir, "goodbyes"))
	testbin.Must(t, err)
	var order []string
	for _, name := range strings.Fields(string(b)) {
		if name != "x" && name != "y" {
			order = append(order, name)
		}
	}
	if got := strings.Join(order, " "); got != "web app db" || len(strings.Fields(string(b))) != 5 {
		t.Errorf("goodbyes: %q, want web, app, db in that order, and x and y", b)
	}
}

// A needed service that goes down does not stop its dependent; the
// dependent's next start waits for it again.
func TestNeedsRestartWaitsAgain(t *testing.T) { forNeedsModes(t, needsRestartWaitsAgain) }

func needsRestartWaitsAgain(t *testing.T, m mode) {
	dir := t.TempDir()
	db, app := filepath.Join(dir, "db"), filepath.Join(dir, "app")
	makeService(t, db, "exec sleep 1000", "")
	makeService(t, app, "exec sleep 1000", "")
	need(t, app, "db", false)
	m.startNeeds(t, dir, "app", "db")
	pid := waitUp(t, 5*time.Second, db, app)[app]
	svtest.OurSvc(t, "-d", db)
	svtest.WaitFor(t, 5*time.Second, "db down", func() bool { return upPid(t, db) == 0 })
	if !svtest.Holds(300*time.Millisecond, func() bool { return upPid(t, app) == pid }) {
		t.Fatal("app stopped when db went down")
	}
	svtest.OurSvc(t, "-k", app)
	svtest.WaitFor(t, 5*time.Second, "app waiting for db again", func() bool {
		return strings.Contains(svtest.SvstatLong(t, app), ", want up, waiting for db, ")
	})
	svtest.OurSvc(t, "-u", db)
	waitUp(t, 5*time.Second, app)
}

// A tied one-shot task is a job: it waits for what it needs, and once
// done, svscan stops everything and exits 0.
func TestTiedOneshotJob(t *testing.T) { forModes(t, tiedOneshotJob) }

func tiedOneshotJob(t *testing.T, m mode) {
	dir := t.TempDir()
	db, job := filepath.Join(dir, "db"), filepath.Join(dir, "job")
	makeService(t, db, "exec sleep 1000", "")
	makeService(t, job, "echo ran >>../job-runs\nsvok ../db", "") // fails, and runs again, if db is not there
	writeFile(t, filepath.Join(job, "oneshot"), "", 0o644)
	writeFile(t, filepath.Join(job, "tied"), "", 0o644)
	need(t, job, "db", false)
	s := m.start(t, dir)
	if code := s.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("svscan exited %d once the job was done, want 0", code)
	}
	if n := lines(filepath.Join(dir, "job-runs")); n != 1 {
		t.Errorf("the job ran %d times, want once", n)
	}
}
