package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// README's "Your first service", run as a newcomer would type it, with
// /service and /srv moved into a temporary directory and our programs
// first in PATH: every block succeeds, each says what README says it
// does, and removing the links leaves nothing running.
func TestReadmeFirstService(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the walk-through runs a service as nobody: needs root")
	}
	root, err := testbin.Root()
	testbin.Must(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	testbin.Must(t, err)
	blocks := codeBlocks(t, string(readme), "## Your first service")
	if len(blocks) < 7 {
		t.Fatalf("README's first-service section has %d blocks of commands, want at least 7", len(blocks))
	}

	tmp := testbin.PublicDir(t) // the worker's account enters it
	service, srv := filepath.Join(tmp, "service"), filepath.Join(tmp, "srv")
	testbin.Must(t, os.MkdirAll(service, 0o755))
	testbin.Must(t, os.MkdirAll(srv, 0o755))
	env := append(os.Environ(), "PATH="+testbin.Dir(t)+":"+os.Getenv("PATH"))
	svscan := exec.Command(testbin.Path(t, "svscan"), service)
	svscan.Env = env
	scanner := svtest.Start(t, svscan)

	run := func(block string) string {
		t.Helper()
		block = strings.ReplaceAll(block, "/service", service)
		block = strings.ReplaceAll(block, "/srv/", srv+"/")
		cmd := exec.Command("sh", "-ec", block)
		cmd.Env, cmd.Dir = env, tmp
		r := testbin.RunWithin(t, cmd, svtest.Scaled(20*time.Second))
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("README block exits %d:\n%s\nstdout: %s\nstderr: %s", r.Code, block, r.Stdout, r.Stderr)
		}
		return r.Stdout
	}
	want := func(what, out, pattern string) {
		t.Helper()
		if !regexp.MustCompile(pattern).MatchString(out) {
			t.Errorf("%s: output does not match %q:\n%s", what, pattern, out)
		}
	}
	last := len(blocks) - 1
	var out []string
	for _, b := range blocks[:last] {
		out = append(out, run(b))
	}
	all := strings.Join(out, "")
	want("svstat", all, `(?m)^`+regexp.QuoteMeta(service)+`/hello: up \(pid \d+\) \d+ seconds\n`+regexp.QuoteMeta(service)+`/hello/log: up`)
	want("tai64nlocal", all, `(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} hello: started$`)
	want("ls of the log", all, `(?m)^lock\n(previous\n)?state\n`) // mid-rotation, current may be previous
	svtest.WaitFor(t, 5*time.Second, "the log rotated by svc -a", func() bool {
		rotated, _ := filepath.Glob(filepath.Join(srv, "hello", "log", "main", "@*.s"))
		return len(rotated) == 1
	})
	want("svstat -l of forker", all, `(?m)^`+regexp.QuoteMeta(service)+`/forker: up \(pid \d+\) \d+ seconds, pid from pidfile, `)
	want("svstat of worker", all, `(?m)^`+regexp.QuoteMeta(service)+`/worker: up \(pid \d+\)`)
	// Up as envdir, then as nobody once setuidgid has run.
	svtest.WaitFor(t, 5*time.Second, "the worker running as nobody", func() bool {
		st, ok := svtest.ReadStatus(t, filepath.Join(service, "worker"))
		return ok && st.Pid != 0 && procUID(st.Pid) == "65534"
	})

	run(blocks[last])
	svtest.WaitFor(t, 10*time.Second, "nothing running but svscan", func() bool {
		for _, p := range svtest.AllProcs() {
			if p.Pid != scanner.Pid() && p.Session == scanner.Pid() && svtest.Alive(p.Pid) {
				return false
			}
		}
		return true
	})
}

// codeBlocks returns the indented blocks of the README section that starts
// with heading, each unindented.
func codeBlocks(t *testing.T, readme, heading string) []string {
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	section := readme[i+len(heading)+2:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	var blocks []string
	var cur strings.Builder
	for _, line := range strings.Split(section, "\n") {
		if code, ok := strings.CutPrefix(line, "    "); ok {
			cur.WriteString(code + "\n")
			continue
		}
		if cur.Len() > 0 {
			blocks = append(blocks, cur.String())
			cur.Reset()
		}
	}
	return blocks
}

// procUID is the real uid of pid, from /proc.
func procUID(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:\t"); ok {
			return strings.Fields(v)[0]
		}
	}
	return ""
}
