package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// The programs FuzzArgumentsLikeReference runs: every one that ends on its
// own. supervise (which runs a service), readproctitle (daemontools' says
// nothing on a usage error, ours says why) and the scanners are tested in
// their own packages.
var argPrograms = []string{"svc", "svok", "svstat", "envdir", "envuidgid", "setuidgid", "softlimit", "setlock", "pgrphack", "fghack"}

// The words its command lines are made of: every option letter of every
// program and some that none takes (svc's q, 1, 2 and w are ours only),
// numbers good and bad, accounts, the paths of argFixture, and children
// that only print.
var argWords = []string{
	"-a", "-c", "-d", "-f", "-l", "-m", "-o", "-p", "-r", "-s", "-t", "-n", "-N", "-x", "-X",
	"-u", "-h", "-i", "-k", "-ux", "-dx", "-nx", "-m=", "-mz", "-z", "-", "--", "-?", "",
	"=", "0", "1", "4096", "99999999999999999999", "-1", "1x",
	"nobody", "root", "nosuchaccount",
	"adir", "afile", "missing", "missing/deeper", "fifo", "secret", "closed", "closed/dir", "envdir", "envdir/A",
	"echo", "env", "true", "false", ".", "./afile", "nosuchprogram", "./secret",
}

// argFixture makes, in a new directory every account may enter, the paths
// argWords name (none the name of a program in $PATH).
func argFixture(t *testing.T) string {
	dir := testbin.PublicDir(t)
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "adir"), 0o755))
	svtest.WriteFile(t, filepath.Join(dir, "afile"), []byte("text\n"), 0o755)
	testbin.Must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o666))
	svtest.WriteFile(t, filepath.Join(dir, "secret"), []byte("#!/bin/sh\n"), 0o700)
	testbin.Must(t, os.MkdirAll(filepath.Join(dir, "closed", "dir"), 0o700))
	testbin.Must(t, os.Chmod(filepath.Join(dir, "closed"), 0o700))
	env := filepath.Join(dir, "envdir")
	testbin.Must(t, os.Mkdir(env, 0o755))
	for name, value := range map[string]string{"A": "one\ntwo", "B": "", "C": "with\x00nul  \t", ".D": "hidden"} {
		testbin.Must(t, os.WriteFile(filepath.Join(env, name), []byte(value), 0o644))
	}
	return dir
}

// Every program that ends on its own, on generated command lines, as root
// and as nobody, against Debian's: the same output, messages and exit
// code. Each run gets a fixture of its own (setlock creates files), at a
// different place: paths in the command lines are relative.
func FuzzArgumentsLikeReference(f *testing.F) {
	word := func(w string) byte {
		for i, x := range argWords {
			if x == w {
				return byte(i)
			}
		}
		panic("no word " + w)
	}
	line := func(prog int, asNobody bool, words ...string) []byte {
		b := []byte{byte(prog) << 1}
		if asNobody {
			b[0] |= 1
		}
		for _, w := range words {
			b = append(b, word(w))
		}
		return b
	}
	f.Add(line(0, false, "-ux", "adir", "missing"))
	f.Add(line(0, false, "-z", "adir"))
	f.Add(line(1, true, "closed/dir"))
	f.Add(line(2, false))
	f.Add(line(2, true, "adir", "closed/dir", "afile"))
	f.Add(line(3, false, "envdir", "env"))
	f.Add(line(3, true, "closed", "echo"))
	f.Add(line(4, false, "nobody", "env"))
	f.Add(line(5, true, "root", "echo"))
	f.Add(line(6, false, "-m", "99999999999999999999", "echo"))
	f.Add(line(6, false, "-o", "=", "-s", "1x", "true"))
	f.Add(line(7, true, "-nx", "secret", "echo"))
	f.Add(line(7, false, "-X", "missing/deeper", "echo"))
	f.Add(line(8, false, "./afile"))
	f.Add(line(9, true, "./secret"))
	f.Add(line(9, false, "nosuchprogram"))
	nobody := nobodyCredential(f)
	hang := svtest.Scaled(testbin.Hang)
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) == 0 || len(line) > 9 {
			return
		}
		name := argPrograms[int(line[0]>>1)%len(argPrograms)]
		var args []string
		for _, b := range line[1:] {
			args = append(args, argWords[int(b)%len(argWords)])
		}
		if name == "svstat" && len(args) > 0 && (args[0] == "-l" || args[0] == "-j") {
			return // our svstat's other forms (doc/extensions.md)
		}
		if name == "svc" && slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "-") && strings.ContainsAny(a, "q12w") }) {
			return // our svc's QUIT, USR1, USR2 and WINCH (doc/extensions.md)
		}
		run := func(path string) testbin.Result {
			cmd := exec.Command(path, args...)
			cmd.Args[0] = name
			cmd.Dir = argFixture(t)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "A=before", "B=before"}
			if line[0]&1 != 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
			}
			r := testbin.RunWithin(t, cmd, hang)
			r.Stdout = strings.ReplaceAll(r.Stdout, cmd.Dir, "DIR")
			return r
		}
		got, want := run(prog(t, name)), run(testbin.Reference(t, name))
		if name == "svc" {
			got.Stderr = strings.Replace(got.Stderr, svcExtensionUsage, "", 1) // see checkClient
		}
		if got != want {
			t.Errorf("%s %q (as nobody: %v):\nours: %+v\nref:  %+v", name, args, line[0]&1 != 0, got, want)
		}
	})
}
