// Package testbin builds every cmd/* program once per test binary, as
// package/compile does (one executable, a link per program), so that
// integration tests run the real executables against real directories,
// processes, FIFOs and signals.
//
// A package's tests call Path(t, "svstat") for a program's path, and declare
//
//	func TestMain(m *testing.M) { testbin.Main(m) }
//
// so that the build directory is removed when the tests finish, and so that
// the tests run under a guard that fails them when they leave a process
// running (see guard).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var (
	once     sync.Once
	dir      string
	buildErr error
)

// Tests run under nohup, or as a background job of a script, inherit HUP
// or INT ignored, and would pass that on to every program they start (the
// Go runtime, like daemontools, leaves those two ignored across exec): a
// service would then ignore svc -h. A handler here makes the programs the
// tests start begin with the default disposition, as from a terminal.
func init() {
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
}

// Main runs the tests under a guard (see guard) and removes the build
// directory afterwards.
func Main(m *testing.M) {
	if os.Getenv(guardEnv) == "" {
		os.Exit(guard())
	}
	code := m.Run()
	if dir != "" && os.Getenv(ProgramsEnv) == "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// ProgramsEnv names a directory where package/compile has built the
// programs already: package/test builds them once for all its test
// binaries, where each would build them again. Set by package/test only:
// a directory left from before a change would test the old programs.
const ProgramsEnv = "DAEMONTOOLS_TEST_PROGRAMS"

// Dir returns the directory holding every program, building them on first
// use. It fails the test if the build fails.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dir = os.Getenv(ProgramsEnv); dir == "" {
			dir, buildErr = build()
		}
	})
	if buildErr != nil {
		t.Fatalf("building programs: %v", buildErr)
	}
	return dir
}

// Path returns the path of the named program.
func Path(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("program %s was not built: %v", name, err)
	}
	return p
}

// Root returns the module's root directory.
func Root() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(gomod), nil
}

func build() (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	d, err := os.MkdirTemp("", "daemontools-bin-")
	if err != nil {
		return "", err
	}
	// Tests run the programs as unprivileged accounts too.
	if err := os.Chmod(d, 0o755); err != nil {
		return "", err
	}
	// As package/install installs them: one executable, a link per name.
	cmd := exec.Command(filepath.Join(root, "package", "compile"), d)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(d)
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return d, nil
}

// Reference returns the path of Debian's daemontools 0.76 program name, the
// oracle for the compatibility contract. .ci/run installs it.
func Reference(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("/usr/bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference %s is missing (apt-get install daemontools): %v", p, err)
	}
	return p
}

// Result is what a finished program left behind.
type Result struct {
	Stdout, Stderr string
	Code           int // exit code, or -1 when killed by a signal
}

// Run runs cmd to completion and collects its output and exit code; it
// fails the test only if cmd cannot be started.
func Run(t testing.TB, cmd *exec.Cmd) Result {
	t.Helper()
	return RunWithin(t, cmd, 0)
}

// SameAsReference runs our program name and Debian's with the same
// arguments and environment (nil for the test's own) and fails the test
// unless stdout, stderr and exit code are identical. It returns our result.
func SameAsReference(t testing.TB, env []string, name string, args ...string) Result {
	t.Helper()
	return SameAsReferenceWithin(t, 0, env, name, args...)
}

// PublicDir returns a new directory, removed after the test, that every
// account may enter (t.TempDir's are private to root).
func PublicDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "daemontools-test-")
	if err == nil {
		err = os.Chmod(d, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Must fails the test on err: for setting up fixtures, which must not go
// wrong unnoticed when ours and the reference would then agree on nothing.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
