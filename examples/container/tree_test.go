// Package container tests the example container's tree as the Dockerfile
// assembles it, without a container engine: svscan as PID 1 of a new PID
// namespace, the service tree read-only and every supervise/ on a tmpfs.
package container

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { svtest.Main(m) }

func TestTreeUnderUnshare(t *testing.T) {
	here, err := os.Getwd()
	testbin.Must(t, err)
	root := testbin.PublicDir(t)
	dir := filepath.Join(root, "service")
	testbin.Must(t, exec.Command("cp", "-a", filepath.Join(here, "service"), dir).Run())
	// The stop order, as the services see it: each notes its name in
	// stops, outside the read-only tree, when told to stop. (The
	// loggers' stamps are when each logger read the line, which two
	// loggers may do in either order.)
	stops := filepath.Join(root, "stops")
	for _, name := range []string{"app", "worker"} {
		run := filepath.Join(dir, name, "run")
		b, err := os.ReadFile(run)
		testbin.Must(t, err)
		noted := strings.Replace(string(b), `echo "stopping";`, `echo "stopping"; echo `+name+` >>`+stops+`;`, 1)
		if noted == string(b) {
			t.Fatalf("%s says nothing when stopped:\n%s", run, b)
		}
		svtest.WriteFile(t, run, []byte(noted), 0o755)
	}
	// As the Dockerfile's RUN does.
	if out, err := exec.Command(filepath.Join(here, "prepare"), dir, "/run/supervise").CombinedOutput(); err != nil {
		t.Fatalf("prepare: %v %s", err, out)
	}
	// docker run --read-only --tmpfs /run: /run is a new tmpfs, the tree
	// read-only; then start is PID 1 and becomes svscan.
	script := `mount -t tmpfs tmpfs /run && mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$1" "$0"`
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, dir, filepath.Join(here, "start"))
	cmd.Env = []string{"PATH=" + testbin.Dir(t) + ":/usr/bin:/bin"}
	stdout, stderr := filepath.Join(root, "stdout"), filepath.Join(root, "stderr")
	out, err := os.Create(stdout)
	testbin.Must(t, err)
	defer out.Close()
	errs, err := os.Create(stderr)
	testbin.Must(t, err)
	defer errs.Close()
	cmd.Stdout, cmd.Stderr = out, errs
	g := svtest.Start(t, cmd)

	var svscan int
	svtest.WaitFor(t, 5*time.Second, "svscan as PID 1", func() bool {
		for _, p := range svtest.Procs(g.Pid()) {
			if p.PPid == g.Pid() && len(p.Args) == 2 && p.Args[0] == "svscan" {
				svscan = p.Pid
			}
		}
		return svscan != 0
	})
	// app's lines come through its logger, worker's through the one
	// svscan makes for it, both named and stamped.
	said := func(name, text string) bool {
		b, _ := os.ReadFile(stdout)
		return regexp.MustCompile(`(?m)^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z ` + name + `: ` + text + `$`).Match(b)
	}
	svtest.WaitFor(t, 10*time.Second, "the services' lines on stdout", func() bool {
		return said("app", "started") && said("worker", "started") && said("migrate", "done")
	})
	// app needs migrate, a one-shot task: it starts once migrate is
	// done. (worker needs app, up as soon as its ./run runs: its first
	// line may come before app's.)
	if migrated, started := stamp(t, stdout, "migrate", "done"), stamp(t, stdout, "app", "started"); started < migrated {
		t.Errorf("app started at %s, before migrate was done at %s", started, migrated)
	}
	// Inside the container's mounts, the supervise/ links lead to the
	// tmpfs, where svstat and svc find everything.
	inside := func(args ...string) string {
		t.Helper()
		b, err := exec.Command("nsenter", append([]string{"--target", strconv.Itoa(svscan), "--mount", "--"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, b)
		}
		return string(b)
	}
	svtest.WaitFor(t, 10*time.Second, "every service up", func() bool {
		st := inside(filepath.Join(testbin.Dir(t), "svstat"), dir+"/app", dir+"/app/log", dir+"/worker")
		return strings.Count(st, ": up (pid ") == 3
	})
	if got := inside(filepath.Join(testbin.Dir(t), "svstat"), "-l", dir+"/migrate"); !strings.Contains(got, ", normally up, done, ") {
		t.Errorf("svstat -l migrate: %q", got)
	}
	if got := inside("ls", "/run/supervise"); got != "app\napp.log\nmigrate\nworker\n" {
		t.Errorf("/run/supervise holds %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "worker")); len(entries) != 4 {
		t.Errorf("the tree was written to: worker holds %v", entries)
	}

	// podman stop: TERM to PID 1; everything stops in order, app's last
	// line reaches stdout through its logger, and the exit code is 0.
	testbin.Must(t, syscall.Kill(svscan, syscall.SIGTERM))
	if code := g.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if b, _ := os.ReadFile(stderr); len(b) != 0 {
		t.Errorf("stderr %q", b)
	}
	if !said("app", "stopping") || !said("worker", "stopping") {
		b, _ := os.ReadFile(stderr)
		c, _ := os.ReadFile(stdout)
		t.Fatalf("last lines missing; stderr:\n%s\nstdout:\n%s", b, c)
	}
	// worker needs app: it stops first.
	if b, err := os.ReadFile(stops); err != nil || string(b) != "worker\napp\n" {
		t.Errorf("stopped in the order %q (%v), want worker, then app", b, err)
	}
}

// stamp is the time multilog put on the line "NAME: TEXT" in file, in a
// form that sorts as time does.
func stamp(t *testing.T, file, name, text string) string {
	t.Helper()
	b, _ := os.ReadFile(file)
	m := regexp.MustCompile(`(?m)^(\S+) ` + name + `: ` + text + `$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no line %q of %s in:\n%s", text, name, b)
	}
	return string(m[1])
}
