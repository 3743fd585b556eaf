package supervise

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"

	"daemontools/internal/testbin"
)

// The engine's tests run on a fake world (engine_test.go): none may start
// a process.
func TestMain(m *testing.M) { testbin.MainWithoutProcesses(m) }

// TestStartsNoProcess: here, starting a process fails.
func TestStartsNoProcess(t *testing.T) {
	if err := exec.Command("/bin/true").Run(); !errors.Is(err, syscall.EPERM) {
		t.Errorf("/bin/true: %v, want %v", err, syscall.EPERM)
	}
}
