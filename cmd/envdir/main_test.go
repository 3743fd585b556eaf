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
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "sub", "inner"), 0o755))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "loops"), 0o755))
	testbin.Must(t, os.Symlink("l2", filepath.Join(dir, "loops", "l1")))
	testbin.Must(t, os.Symlink("l1", filepath.Join(dir, "loops", "l2")))
	testbin.Must(t, os.Symlink("self", filepath.Join(dir, "self")))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "ok"), 0o755))
	for _, args := range [][]string{
		{},
		{dir},
		{dir + "/missing", "true"},
		{dir + "/sub", "true"},
		{dir + "/loops", "true"},
		{dir + "/self", "true"},
		{"/etc/passwd", "true"},
		{dir + "/ok", "/nonexistent/program"},
		{dir + "/ok", "no-such-program-anywhere"},
	} {
		testbin.SameAsReference(t, []string{"PATH=/usr/bin:/bin"}, "envdir", args...)
	}
}

// A PATH file changes the program's $PATH, not where envdir looks for it:
// that is envdir's own $PATH, set or unset.
func TestPathFileLikeReference(t *testing.T) {
	dir := t.TempDir()
	for name, path := range map[string]string{"bogus": "/nonexistent\n", "empty": ""} {
		testbin.Must(t, os.Mkdir(filepath.Join(dir, name), 0o755))
		testbin.Must(t, os.WriteFile(filepath.Join(dir, name, "PATH"), []byte(path), 0o644))
		for _, env := range [][]string{{"PATH=/usr/bin:/bin"}, nil} {
			r := testbin.SameAsReference(t, env, "envdir", filepath.Join(dir, name), "sh", "-c", "echo ${PATH-unset}")
			if name == "bogus" && env != nil && (r.Code != 0 || r.Stdout != "/nonexistent\n") {
				t.Errorf("%s: %+v", name, r)
			}
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
