package pathexec_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// Every chain-loader replaces itself with the program (same pid, so
// supervise signals the daemon itself) and hands it the signal mask and
// dispositions it was given: nothing blocked or ignored that was not before.
func TestChainLoadersExecInPlace(t *testing.T) {
	dir := testbin.PublicDir(t)
	testbin.Must(t, os.Chmod(dir, 0o777)) // setlock as nobody creates its lock file here
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "env"), 0o755))
	lock := filepath.Join(dir, "lock")
	probe := []string{"grep", "-E", "^(Pid|Uid|SigBlk|SigIgn):", "/proc/self/status"}
	chains := map[string][]string{
		"setuidgid": {"nobody"},
		"envuidgid": {"nobody"},
		"envdir":    {filepath.Join(dir, "env")},
		"softlimit": {"-o", "100"},
		"setlock":   nil, // one lock file per account, below
		"pgrphack":  nil,
		"fghack":    nil,
	}
	direct := testbin.Run(t, exec.Command(probe[0], probe[1:]...))
	sigs := regexp.MustCompile(`Sig.*\n`).FindAllString(direct.Stdout, -1)
	for name, args := range chains {
		// As root, and as an unprivileged account.
		for _, account := range []string{"0", "65534"} {
			if name == "setuidgid" && account != "0" {
				continue // only root may change groups; its own test covers the refusal
			}
			if name == "setlock" {
				args = []string{lock + account}
			}
			argv := append([]string{testbin.Path(t, name)}, append(args, probe...)...)
			if account != "0" {
				argv = append([]string{testbin.Path(t, "setuidgid"), "nobody"}, argv...)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			r := testbin.Run(t, cmd)
			if r.Code != 0 || !strings.Contains(r.Stdout, "Uid:\t"+account+"\t") && name != "setuidgid" {
				t.Errorf("%s as %s: %+v", name, account, r)
				continue
			}
			checkExecInPlace(t, name, cmd.Process.Pid, r.Stdout, sigs)
		}
	}
}

func checkExecInPlace(t *testing.T, name string, pid int, status string, sigs []string) {
	t.Helper()
	// fghack is the documented exception: it forks and waits.
	if name != "fghack" && !strings.Contains(status, "Pid:\t"+strconv.Itoa(pid)+"\n") {
		t.Errorf("%s: program runs with another pid than %d:\n%s", name, pid, status)
	}
	for _, s := range sigs {
		if !strings.Contains(status, s) {
			t.Errorf("%s: want %q, got:\n%s", name, s, status)
		}
	}
}
