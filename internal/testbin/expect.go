package testbin

import (
	"path/filepath"
	"testing"
)

// Case is one row of a table run against ours and the reference: both
// must give Want, so that a reference that misbehaves as ours does cannot
// hide a bug.
type Case struct {
	Args []string
	Want Result
}

// LikeReference runs each case with SameAsReference and fails the test
// unless the result is the case's Want.
func LikeReference(t testing.TB, env []string, name string, cases []Case) {
	t.Helper()
	for _, c := range cases {
		if got := SameAsReference(t, env, name, c.Args...); got != c.Want {
			t.Errorf("%s %q:\ngot:  %+v\nwant: %+v", name, c.Args, got, c.Want)
		}
	}
}

// Usage is what a program that prints msg as its usage line and exits 100
// gives.
func Usage(msg string) Result { return Result{Stderr: msg + "\n", Code: 100} }

// Fatal is what a program that dies with msg and exit code 111 gives.
func Fatal(msg string) Result { return Result{Stderr: msg + "\n", Code: 111} }

// Missing is a path to nothing, in a new temporary directory that every
// account may enter (PublicDir): a file made elsewhere on the machine (a
// /nonexistent, say) cannot change the test.
func Missing(t testing.TB) string { return filepath.Join(PublicDir(t), "nonexistent") }
