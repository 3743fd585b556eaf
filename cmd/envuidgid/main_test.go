package main

import (
	"os/exec"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func TestLikeReference(t *testing.T) {
	missing := testbin.Missing(t)
	env := []string{"PATH=/usr/bin:/bin", "UID=7", "GID=8"}
	usage := testbin.Usage("envuidgid: usage: envuidgid account child")
	testbin.LikeReference(t, env, "envuidgid", []testbin.Case{
		{Want: usage},
		{Args: []string{"nobody"}, Want: usage},
		{Args: []string{"no-such-account", "env"}, Want: testbin.Fatal("envuidgid: fatal: unknown account no-such-account")},
		{Args: []string{"nobody", missing}, Want: testbin.Fatal("envuidgid: fatal: unable to run " + missing + ": file does not exist")},
		{Args: []string{"nobody", "env"}, Want: testbin.Result{Stdout: "PATH=/usr/bin:/bin\nGID=65534\nUID=65534\n"}},
		{Args: []string{"root", "env"}, Want: testbin.Result{Stdout: "PATH=/usr/bin:/bin\nGID=0\nUID=0\n"}},
		{Args: []string{"nobody", "sh", "-c", `echo "$UID $GID"`}, Want: testbin.Result{Stdout: "65534 65534\n"}},
	})
	// An unprivileged account may still look up others.
	r := testbin.Run(t, exec.Command(testbin.Path(t, "setuidgid"), "nobody", testbin.Path(t, "envuidgid"), "root", "sh", "-c", `echo "$UID $GID"`))
	if r.Stdout != "0 0\n" || r.Code != 0 {
		t.Errorf("as nobody: %+v", r)
	}
}
