package main

import (
	"os/exec"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

func TestLikeReference(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "UID=7", "GID=8"}
	for _, args := range [][]string{
		{}, {"nobody"}, {"no-such-account", "env"}, {"nobody", "/nonexistent"},
		{"nobody", "env"}, {"root", "env"},
	} {
		testbin.SameAsReference(t, env, "envuidgid", args...)
	}
	got := testbin.SameAsReference(t, env, "envuidgid", "nobody", "sh", "-c", `echo "$UID $GID"`)
	if got.Stdout != "65534 65534\n" {
		t.Errorf("got %q", got.Stdout)
	}
	// An unprivileged account may still look up others.
	r := testbin.Run(t, exec.Command(testbin.Path(t, "setuidgid"), "nobody", testbin.Path(t, "envuidgid"), "root", "sh", "-c", `echo "$UID $GID"`))
	if r.Stdout != "0 0\n" || r.Code != 0 {
		t.Errorf("as nobody: %+v", r)
	}
}
