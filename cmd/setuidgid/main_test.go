package main

import (
	"os/exec"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func TestErrorsLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	usage := testbin.Usage("setuidgid: usage: setuidgid account child")
	testbin.LikeReference(t, []string{"PATH=/usr/bin:/bin"}, "setuidgid", []testbin.Case{
		{Want: usage},
		{Args: []string{"nobody"}, Want: usage},
		{Args: []string{"no-such-account", "true"}, Want: testbin.Fatal("setuidgid: fatal: unknown account no-such-account")},
		{Args: []string{"-x", "true"}, Want: testbin.Fatal("setuidgid: fatal: unknown account -x")},
		{Args: []string{"nobody", missing}, Want: testbin.Fatal("setuidgid: fatal: unable to run " + missing + ": file does not exist")},
		{Args: []string{"nobody", "no-such-program-anywhere"}, Want: testbin.Fatal("setuidgid: fatal: unable to run no-such-program-anywhere: file does not exist")},
	})
}

// The child runs with the account's uid, gid and only its primary group,
// on every thread, exactly as under the reference.
func TestCredentialsLikeReference(t *testing.T) {
	got := testbin.SameAsReference(t, []string{"PATH=/usr/bin:/bin"}, "setuidgid", "nobody", "grep", "-E", "^(Uid|Gid|Groups|SigBlk|SigIgn|NSsid):", "/proc/self/status")
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534\n", "Gid:\t65534\t65534\t65534\t65534\n", "Groups:\t65534 \n", "SigBlk:\t0000000000000000\n", "SigIgn:\t0000000000000000\n"} {
		if !strings.Contains(got.Stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, got.Stdout)
		}
	}
}

// Dropping privileges is for good: an unprivileged account cannot become root.
func TestUnprivilegedCannotRegain(t *testing.T) {
	ours := testbin.Path(t, "setuidgid")
	r := testbin.Run(t, exec.Command(ours, "nobody", ours, "root", "true"))
	if r.Code != 111 || r.Stderr != "setuidgid: fatal: unable to setgid: permission denied\n" {
		t.Errorf("got %+v", r)
	}
}
