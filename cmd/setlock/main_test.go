package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

var env = []string{"PATH=/usr/bin:/bin"}

func TestErrorsLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	dir := t.TempDir()
	const usage = "setlock: usage: setlock [ -nNxX ] file program [ arg ... ]"
	testbin.LikeReference(t, env, "setlock", []testbin.Case{
		{Want: testbin.Usage(usage)},
		{Args: []string{"-z", "f", "true"}, Want: testbin.Usage("setlock: illegal option -- z\n" + usage)},
		{Args: []string{"-n"}, Want: testbin.Usage(usage)},
		{Args: []string{dir + "/f"}, Want: testbin.Usage(usage)},
		{Args: []string{dir + "/missing/f", "true"}, Want: testbin.Fatal("setlock: fatal: unable to open " + dir + "/missing/f: file does not exist")},
		{Args: []string{"-x", dir + "/missing/f", "true"}, Want: testbin.Result{}},
		{Args: []string{dir + "/f", missing}, Want: testbin.Fatal("setlock: fatal: unable to run " + missing + ": file does not exist")},
		{Args: []string{"-nx", dir + "/f", "echo", "ran"}, Want: testbin.Result{Stdout: "ran\n"}},
	})
}

// While the child holds the lock, -n fails (quietly with -x) for ours and
// the reference alike; the file is created 0600 and never truncated.
func TestLockHeldByChild(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lock")
	if err := os.WriteFile(file, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(testbin.Path(t, "setlock"), file, "sh", "-c", "echo locked; read x")
	stdin, err := holder.StdinPipe()
	testbin.Must(t, err)
	stdout, err := holder.StdoutPipe()
	testbin.Must(t, err)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	defer stdin.Close()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("holder said %q, %v", line, err)
	}
	got := testbin.SameAsReference(t, env, "setlock", "-n", file, "echo", "ran")
	if got.Code != 111 || got.Stderr != "setlock: fatal: unable to lock "+file+": temporary failure\n" {
		t.Errorf("locked: %+v", got)
	}
	if got := testbin.SameAsReference(t, env, "setlock", "-nx", file, "echo", "ran"); got.Code != 0 || got.Stdout != "" {
		t.Errorf("locked -nx: %+v", got)
	}
	stdin.Close()
	holder.Wait()
	if got := testbin.SameAsReference(t, env, "setlock", "-n", file, "echo", "ran"); got.Stdout != "ran\n" {
		t.Errorf("after release: %+v", got)
	}
	if b, _ := os.ReadFile(file); string(b) != "kept\n" {
		t.Errorf("lock file truncated: %q", b)
	}
	created := filepath.Join(dir, "new")
	testbin.Run(t, exec.Command(testbin.Path(t, "setlock"), created, "true"))
	if fi, err := os.Stat(created); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("created lock file: %v %v", fi.Mode(), err)
	}
}

// The lock lives on a descriptor the child inherits, opened like the
// reference opens it (write-only, append, non-blocking).
func TestChildInheritsLockDescriptor(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lock")
	script := `for fd in /proc/self/fd/*; do [ "$(readlink $fd)" = "` + file + `" ] && grep flags /proc/self/fdinfo/${fd##*/}; done; exit 0`
	got := testbin.SameAsReference(t, env, "setlock", file, "sh", "-c", script)
	if !strings.HasPrefix(got.Stdout, "flags:\t") {
		t.Errorf("child has no descriptor on the lock file: %+v", got)
	}
}
