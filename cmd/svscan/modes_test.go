package main

import (
	"slices"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// perProcess tells whether svscan runs a supervise process per service.
func (m mode) perProcess() bool { return len(m.flags) == 0 }

// forModes runs test as a parallel subtest in every mode, beside the
// other tests.
func forModes(t *testing.T, test func(t *testing.T, m mode)) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, m)
		})
	}
}

// startPid1 runs svscan in this mode as PID 1 of a new PID namespace.
func (m mode) startPid1(t *testing.T, dir string) *pid1 {
	t.Helper()
	return startPid1(t, append(slices.Clone(m.flags), dir)...)
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
