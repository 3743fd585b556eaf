package pathexec

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestSetenvUnsetenv(t *testing.T) {
	env := []string{"A=1", "B=2", "AB=3", "A=4"}
	if got, want := Setenv(env, "A", "x"), []string{"B=2", "AB=3", "A=x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Setenv = %q, want %q", got, want)
	}
	if got, want := Unsetenv(env, "B"), []string{"A=1", "AB=3", "A=4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unsetenv = %q, want %q", got, want)
	}
	if env[0] != "A=1" || len(env) != 4 {
		t.Errorf("input changed: %q", env)
	}
}

// Run only returns on failure; success is covered by the commands' tests.
// The search follows our own $PATH, not the one of the environment given.
func TestRunFailures(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nonexistent")
	tests := []struct {
		argv []string
		path string
		want string
	}{
		{[]string{missing + "/x"}, "/bin", "fatal: unable to run " + missing + "/x: file does not exist"},
		{[]string{"no-such-program-here"}, "/nonexistent:/tmp", "fatal: unable to run no-such-program-here: file does not exist"},
		{[]string{"tmp"}, "/", "fatal: unable to run tmp: access denied"},
		{[]string{"/etc/passwd"}, "/bin", "fatal: unable to run /etc/passwd: access denied"},
	}
	for _, tc := range tests {
		t.Setenv("PATH", tc.path)
		if err := Run(tc.argv, []string{"PATH=/bin:/usr/bin"}); err == nil || err.Error() != tc.want {
			t.Errorf("Run(%q) with PATH=%s = %v, want %s", tc.argv, tc.path, err, tc.want)
		}
	}
}
