package main

import (
	"slices"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// mode is how svscan hosts its supervisors: a supervise process each, or
// all inside svscan (-1). Every shutdown, PID 1, tied and pidfile feature
// behaves the same in both, so the tests of those run in both.
type mode struct {
	name       string
	args       []string // before the directory
	perProcess bool     // a supervise process per service
}

var modes = []mode{{"supervise", nil, true}, {"svscan -1", []string{"-1"}, false}}

// forModes runs test as a parallel subtest in every mode.
func forModes(t *testing.T, test func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m)
		})
	}
}

// start runs svscan in this mode on dir.
func (m mode) start(t *testing.T, dir string, env ...string) *scanner {
	t.Helper()
	return startScanner(t, append(slices.Clone(m.args), dir), env...)
}

// startPid1 runs svscan in this mode as PID 1 of a new PID namespace.
func (m mode) startPid1(t *testing.T, dir string) *pid1 {
	t.Helper()
	return startPid1(t, append(slices.Clone(m.args), dir)...)
}

// supervised tells whether dir has a supervisor, as svok says.
func supervised(t *testing.T, dir string) bool {
	return clientCode(t, testbin.Path(t, "svok"), dir) == 0
}

// noneLeft fails the test if a process of svscan's group still runs.
func noneLeft(t *testing.T, s *svtest.Group) {
	t.Helper()
	if left := svtest.Procs(s.Pid()); len(left) != 0 {
		t.Errorf("left running: %v", left)
	}
}
