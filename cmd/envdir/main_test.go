package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func TestErrorsLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "sub", "inner"), 0o755))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "loops"), 0o755))
	testbin.Must(t, os.Symlink("l2", filepath.Join(dir, "loops", "l1")))
	testbin.Must(t, os.Symlink("l1", filepath.Join(dir, "loops", "l2")))
	testbin.Must(t, os.Symlink("self", filepath.Join(dir, "self")))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "ok"), 0o755))
	// envdir's usage exits 111, not 100.
	usage := testbin.Fatal("envdir: usage: envdir dir child")
	testbin.LikeReference(t, []string{"PATH=/usr/bin:/bin"}, "envdir", []testbin.Case{
		{Want: usage},
		{Args: []string{dir}, Want: usage},
		{Args: []string{dir + "/missing", "true"}, Want: testbin.Fatal("envdir: fatal: unable to switch to directory " + dir + "/missing: file does not exist")},
		{Args: []string{dir + "/sub", "true"}, Want: testbin.Fatal("envdir: fatal: unable to read " + dir + "/sub/inner: is a directory")},
		{Args: []string{dir + "/loops", "true"}, Want: testbin.Fatal("envdir: fatal: unable to read " + dir + "/loops/l1: symbolic link loop")},
		{Args: []string{dir + "/self", "true"}, Want: testbin.Fatal("envdir: fatal: unable to switch to directory " + dir + "/self: symbolic link loop")},
		{Args: []string{"/etc/passwd", "true"}, Want: testbin.Fatal("envdir: fatal: unable to switch to directory /etc/passwd: not a directory")},
		{Args: []string{dir + "/ok", missing + "/program"}, Want: testbin.Fatal("envdir: fatal: unable to run " + missing + "/program: file does not exist")},
		{Args: []string{dir + "/ok", "no-such-program-anywhere"}, Want: testbin.Fatal("envdir: fatal: unable to run no-such-program-anywhere: file does not exist")},
	})
}

// A PATH file changes the program's $PATH, not where envdir looks for it:
// that is envdir's own $PATH, set or unset.
func TestPathFileLikeReference(t *testing.T) {
	dir := t.TempDir()
	// With no PATH file and no $PATH, sh has its own default.
	shDefault := testbin.Result{Stdout: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"}
	for name, tc := range map[string]struct {
		path string
		want testbin.Result // with $PATH set or not
	}{
		"bogus": {"/nonexistent\n", testbin.Result{Stdout: "/nonexistent\n"}},
		"empty": {"", shDefault},
	} {
		testbin.Must(t, os.Mkdir(filepath.Join(dir, name), 0o755))
		testbin.Must(t, os.WriteFile(filepath.Join(dir, name, "PATH"), []byte(tc.path), 0o644))
		for _, env := range [][]string{{"PATH=/usr/bin:/bin"}, nil} {
			testbin.LikeReference(t, env, "envdir", []testbin.Case{{Args: []string{filepath.Join(dir, name), "sh", "-c", "echo ${PATH-unset}"}, Want: tc.want}})
		}
	}
}

// As an unprivileged account: a directory it may not search, one it may not
// read, and a file it may not read.
func TestPermissionErrorsLikeReference(t *testing.T) {
	dir := testbin.PublicDir(t)
	for name, mode := range map[string]os.FileMode{"noexec": 0o644, "noread": 0o311, "files": 0o755} {
		testbin.Must(t, os.Mkdir(filepath.Join(dir, name), mode))
		testbin.Must(t, os.Chmod(filepath.Join(dir, name), mode))
	}
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "files", "SECRET"), []byte("x\n"), 0o600))
	setuidgid := testbin.Reference(t, "setuidgid")
	for _, sub := range []string{"noexec", "noread", "files"} {
		var results [2]testbin.Result
		for i, prog := range []string{testbin.Path(t, "envdir"), testbin.Reference(t, "envdir")} {
			results[i] = testbin.Run(t, exec.Command(setuidgid, "nobody", prog, filepath.Join(dir, sub), "true"))
		}
		results[0].Stderr = strings.Replace(results[0].Stderr, testbin.Path(t, "envdir"), "envdir", 1)
		if results[0] != results[1] || results[0].Code != 111 {
			t.Errorf("%s: ours %+v, reference %+v", sub, results[0], results[1])
		}
	}
}

func TestEnvironmentLikeReference(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"PLAIN": "hello  \t\nsecond line\n", "EMPTY": "", "NEWLINE": "\n",
		"NUL": "a\x00b\n", "NOEOL": "no end of line", "LEAD": " lead \t", ".hidden": "x\n",
		"REMOVED": "",
	} {
		testbin.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	env := []string{"PATH=/usr/bin:/bin", "REMOVED=before", "KEPT=yes", "PLAIN=old"}
	got := testbin.SameAsReference(t, env, "envdir", dir, "env")
	for _, want := range []string{"PLAIN=hello\n", "NEWLINE=\n", "NUL=a\nb\n", "NOEOL=no end of line\n", "LEAD= lead\n", "KEPT=yes\n"} {
		if !strings.Contains(got.Stdout, want) {
			t.Errorf("env lacks %q:\n%s", want, got.Stdout)
		}
	}
	for _, gone := range []string{"REMOVED=", "EMPTY=", ".hidden", "PLAIN=old"} {
		if strings.Contains(got.Stdout, gone) {
			t.Errorf("env has %q:\n%s", gone, got.Stdout)
		}
	}
}
