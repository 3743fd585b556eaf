package main

import (
	"path/filepath"
	"testing"

	"daemontools/internal/testbin"
)

// extensionUsage is the line ours adds after daemontools' usage line.
const extensionUsage = "svc options also: q quit, 1 usr1, 2 usr2, w winch\n"

// The extension letters go through like the others, in order, each once;
// daemontools' svc refuses them with its usage line, which ours keeps,
// naming them on a line of their own.
func TestExtensionLetters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a")
	fd := listen(t, dir)
	if got := svc(t, testbin.Path(t, "svc"), []string{"-q12wq", "-uw", dir}, []int{fd}); got.code != 0 || got.stderr != "" || got.got[0] != "q12wu" {
		t.Errorf("ours: %+v, want exit 0 and q12wu", got)
	}
	const usage = "svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n"
	if got := svc(t, testbin.Path(t, "svc"), []string{"-z", dir}, []int{fd}); got.code != 100 || got.stderr != "svc: illegal option -- z\n"+usage+extensionUsage {
		t.Errorf("ours, unknown option: %+v", got)
	}
	if got := svc(t, testbin.Reference(t, "svc"), []string{"-q", dir}, []int{fd}); got.code != 100 || got.stderr != "svc: illegal option -- q\n"+usage {
		t.Errorf("daemontools: %+v", got)
	}
}
