// Package install tests the scripts of package/ as a new user runs them:
// from a fresh copy of the tree, package/run installs and starts
// everything, and package/uninstall leaves the machine as it was.
package install

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/help"
	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// TestMain: testbin's guard, not svtest.Main's subreaper. The svscan that
// package/run leaves in the background is orphaned at once; a subreaper
// that does not reap it would keep it a zombie, which package/uninstall
// waits 15 s to see gone. The guard reaps it as init would.
func TestMain(m *testing.M) { testbin.Main(m) }

func TestRunThenUninstall(t *testing.T) {
	t.Parallel()
	tmp, src := freshCopy(t)

	dirs := map[string]string{}
	for _, v := range []string{"COMMANDDIR", "BINDIR", "MANDIR", "SERVICEDIR"} {
		dirs[v] = filepath.Join(tmp, strings.ToLower(strings.TrimSuffix(v, "DIR")))
	}
	env := append(os.Environ(), "BOOT=background", "PIDFILE="+filepath.Join(tmp, "svscanboot.pid"))
	for v, d := range dirs {
		env = append(env, v+"="+d)
	}
	// What is there before: a program and a man page not ours, and a
	// service. COMMANDDIR does not exist yet.
	testbin.Must(t, os.MkdirAll(filepath.Join(dirs["MANDIR"], "man1"), 0o755))
	testbin.Must(t, os.WriteFile(filepath.Join(dirs["MANDIR"], "man1", "other.1"), []byte(".TH OTHER 1\n"), 0o644))
	testbin.Must(t, os.MkdirAll(dirs["BINDIR"], 0o755))
	svtest.WriteFile(t, filepath.Join(dirs["BINDIR"], "other"), []byte("#!/bin/sh\n"), 0o755)
	service := filepath.Join(dirs["SERVICEDIR"], "s")
	testbin.Must(t, os.MkdirAll(service, 0o755))
	svtest.WriteFile(t, filepath.Join(service, "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755)
	before := snapshot(t, tmp)

	script := func(name string) string { t.Helper(); return runScript(t, src, name, env) }
	bin := func(prog string) string { return filepath.Join(dirs["BINDIR"], prog) }

	out := script("run")
	if !strings.HasPrefix(out, "compile: building the programs") {
		t.Errorf("package/run does not say it compiles:\n%s", out)
	}
	svtest.WaitFor(t, 10*time.Second, "the service up", func() bool {
		out, _ := exec.Command(bin("svstat"), service).Output()
		return strings.HasPrefix(string(out), service+": up (pid ")
	})
	pid, err := os.ReadFile(filepath.Join(tmp, "svscanboot.pid"))
	testbin.Must(t, err)
	if again := script("run"); !strings.Contains(again, "as pid "+strings.TrimSpace(string(pid))+";") {
		t.Errorf("package/run again did not find svscan running as %s:\n%s", pid, again)
	}

	// man names the page the link leads to.
	page, err := exec.Command("man", "-M", dirs["MANDIR"], "-w", "svc").Output()
	if want := filepath.Join(src, "man", "svc.8") + "\n"; err != nil || string(page) != want {
		t.Errorf("man -w svc: %q, %v; want %q", page, err, want)
	}
	man := exec.Command("man", "svc")
	man.Env = append(os.Environ(), "MANPATH="+dirs["MANDIR"], "MANPAGER=cat", "MANWIDTH=80")
	if page, err := man.Output(); err != nil || !strings.Contains(string(page), "svc - control supervised services") {
		t.Errorf("man svc: %v\n%s", err, page)
	}
	// Everything installed, links followed and each file counted once, as
	// du counts: one executable for every program but svmetrics, and
	// svmetrics (an HTTP server, built alone to keep package net out of
	// the others).
	for _, dir := range []string{dirs["COMMANDDIR"], filepath.Join(src, "command")} {
		out, err := exec.Command("du", "-skL", "--exclude=svmetrics", dir).Output()
		testbin.Must(t, err)
		kb, err := strconv.Atoi(strings.Fields(string(out))[0])
		if err != nil || kb > 5*1024 {
			t.Errorf("du -skL %s: %q (%v), more than 5 MB", dir, out, err)
		}
		if alone, err := os.Stat(filepath.Join(dir, "svmetrics")); err != nil {
			t.Error(err)
		} else if alone.Size() > 8<<20 {
			t.Errorf("svmetrics in %s: %d bytes, more than 8 MB", dir, alone.Size())
		}
	}
	want, _ := help.Text("svc")
	if got := testbin.Run(t, exec.Command(bin("svc"), "--help")); got != (testbin.Result{Stdout: want}) {
		t.Errorf("svc --help: %+v", got)
	}

	for range 2 {
		script("uninstall")
	}
	if after := snapshot(t, tmp); after != before {
		t.Errorf("the machine is not as it was:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if left := killUnder(tmp); len(left) != 0 {
		t.Errorf("processes left running: %v", left)
	}
}

// runScript runs package/NAME of the copy src with env (and extra
// descriptors from 3 on) and returns what it printed; it fails the test
// if the script fails.
func runScript(t *testing.T, src, name string, env []string, extra ...*os.File) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(src, "package", name))
	cmd.Env, cmd.ExtraFiles = env, extra
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("package/%s: %v\n%s", name, err, out)
	}
	return string(out)
}

// freshCopy copies the tree, as a fresh clone has it, into src in a new
// temporary directory tmp, and kills whatever runs from there when the
// test ends.
func freshCopy(t *testing.T) (tmp, src string) {
	root, err := testbin.Root()
	testbin.Must(t, err)
	tmp = t.TempDir()
	src = filepath.Join(tmp, "src")
	copyTree(t, root, src)
	t.Cleanup(func() { killUnder(tmp) })
	return tmp, src
}

// copyTree copies the files of the module git knows of (committed or
// not, ignored ones left out) from root to dst, as a fresh clone has them.
func copyTree(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	testbin.Must(t, err)
	for _, name := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		info, err := os.Lstat(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted but not yet committed
		}
		testbin.Must(t, err)
		b, err := os.ReadFile(filepath.Join(root, name))
		testbin.Must(t, err)
		testbin.Must(t, os.MkdirAll(filepath.Dir(filepath.Join(dst, name)), 0o755))
		testbin.Must(t, os.WriteFile(filepath.Join(dst, name), b, info.Mode().Perm()))
	}
}

// snapshot lists every path under dir outside src, with its type and
// permissions and where a link points; a service's supervise directory is
// supervise's, not the installation's, and is left out.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "src" || d.Name() == "supervise" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		target, _ := os.Readlink(path)
		b.WriteString(rel + " " + info.Mode().String() + " " + target + "\n")
		return nil
	})
	testbin.Must(t, err)
	return b.String()
}

// killUnder kills every process whose working directory or executable is
// under dir, and returns their command lines.
func killUnder(dir string) []string {
	var killed []string
	for _, p := range svtest.AllProcs() {
		proc := "/proc/" + strconv.Itoa(p.Pid)
		cwd, _ := os.Readlink(proc + "/cwd")
		exe, _ := os.Readlink(proc + "/exe")
		if p.Pid != os.Getpid() && (strings.HasPrefix(cwd, dir+"/") || strings.HasPrefix(exe, dir+"/")) && svtest.Alive(p.Pid) {
			cmdline, _ := os.ReadFile(proc + "/cmdline")
			killed = append(killed, strings.ReplaceAll(string(cmdline), "\x00", " "))
			if process, err := os.FindProcess(p.Pid); err == nil {
				process.Kill()
			}
		}
	}
	return killed
}

// After kill -9 of svscan its supervise processes run on: package/uninstall
// prints nothing but its own lines (the pidfile names a dead pid: no
// shell's "cannot open /proc/PID/cmdline", nor from package/run with such
// a pidfile), finds this tree's supervisors by their directories in
// SERVICEDIR and stops them and their services and loggers, leaving
// nothing running.
func TestUninstallAfterKill9OfSvscan(t *testing.T) {
	t.Parallel()
	tmp, src := freshCopy(t)
	servicedir := filepath.Join(tmp, "service")
	pidfile := filepath.Join(tmp, "svscanboot.pid")
	env := append(os.Environ(), "BOOT=background", "PIDFILE="+pidfile, "SERVICEDIR="+servicedir)
	for _, v := range []string{"COMMANDDIR", "BINDIR", "MANDIR"} {
		env = append(env, v+"="+filepath.Join(tmp, strings.ToLower(v)))
	}
	for _, name := range []string{"a", "b", "with space"} {
		svtest.NewService(t, filepath.Join(servicedir, name), "exec sleep 1000")
	}
	svtest.NewService(t, filepath.Join(servicedir, "a", "log"), "exec cat >/dev/null")
	script := func(name string) string {
		t.Helper()
		out := runScript(t, src, name, env)
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if !strings.HasPrefix(line, "compile: ") && !strings.HasPrefix(line, "install: ") && !strings.HasPrefix(line, name+": ") {
				t.Errorf("package/%s printed a stray line: %q", name, line)
			}
		}
		return out
	}
	up := func() {
		t.Helper()
		for _, name := range []string{"a", "a/log", "b", "with space"} {
			svtest.WaitFor(t, 10*time.Second, name+" up", func() bool {
				st, ok := svtest.ReadStatus(t, filepath.Join(servicedir, name))
				return ok && st.Pid != 0
			})
		}
	}
	gone := exec.Command("true")
	testbin.Must(t, gone.Run())
	testbin.Must(t, os.WriteFile(pidfile, []byte(strconv.Itoa(gone.Process.Pid)+"\n"), 0o644))
	script("run")
	up()
	b, err := os.ReadFile(pidfile)
	testbin.Must(t, err)
	svscan, err := strconv.Atoi(strings.TrimSpace(string(b)))
	testbin.Must(t, err)
	testbin.Must(t, syscall.Kill(svscan, syscall.SIGKILL))
	svtest.WaitFor(t, 5*time.Second, "svscan gone", func() bool { return !svtest.Alive(svscan) })

	out := script("uninstall")
	if !strings.Contains(out, "uninstall: stopping supervise in ") {
		t.Errorf("package/uninstall does not say it stops the supervisors:\n%s", out)
	}
	if left := killUnder(tmp); len(left) != 0 {
		t.Errorf("processes left running: %v\n%s", left, out)
	}
}
