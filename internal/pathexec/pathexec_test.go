package pathexec

import (
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
	if v, ok := lookup(env, "A"); !ok || v != "4" {
		t.Errorf("lookup A = %q %v", v, ok)
	}
	if _, ok := lookup(env, "C"); ok {
		t.Errorf("lookup C found")
	}
}

// Run only returns on failure; success is covered by the commands' tests.
func TestRunFailures(t *testing.T) {
	tests := []struct {
		argv []string
		env  []string
		want string
	}{
		{[]string{"/nonexistent/x"}, nil, "fatal: unable to run /nonexistent/x: file does not exist"},
		{[]string{"no-such-program-here"}, []string{"PATH=/nonexistent:/tmp"}, "fatal: unable to run no-such-program-here: file does not exist"},
		{[]string{"tmp"}, []string{"PATH=/"}, "fatal: unable to run tmp: access denied"},
		{[]string{"/etc/passwd"}, nil, "fatal: unable to run /etc/passwd: access denied"},
	}
	for _, tc := range tests {
		if err := Run(tc.argv, tc.env); err == nil || err.Error() != tc.want {
			t.Errorf("Run(%q) = %v, want %s", tc.argv, err, tc.want)
		}
	}
}
