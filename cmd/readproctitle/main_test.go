package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// The title is read back from /proc/PID/cmdline, where ps reads it: ours
// and daemontools' show the same bytes after each piece of input.
func TestTitleFollowsInput(t *testing.T) {
	dots := strings.Repeat(".", 20)
	steps := []struct{ in, title string }{
		// The example of the manual page.
		{"fatal error xyz\nwarning abc\n", "... xyz\nwarning abc\n"},
		// NULs are skipped; input longer than the title keeps its end.
		{"a\x00b\x00c", "...z\nwarning abc\nabc"},
		{strings.Repeat("0123456789", 100) + "end", "...67890123456789end"},
	}
	for _, prog := range []string{testbin.Path(t, "readproctitle"), testbin.Reference(t, "readproctitle")} {
		cmd := exec.Command(prog, "io", "errors:", dots)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want := func(title string) {
			t.Helper()
			want := prog + "\x00io\x00errors:\x00" + title + "\x00"
			var got []byte
			if svtest.Poll(5*time.Second, func() bool {
				got, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
				return string(got) == want
			}) {
				return
			}
			cmd.Process.Kill()
			t.Fatalf("%s: cmdline %q, want %q", prog, got, want)
		}
		want(dots)
		for _, step := range steps {
			io.WriteString(stdin, step.in)
			want(step.title)
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v at end of input, want exit 0", prog, err)
		}
	}
}

// A last argument that is not dots is overwritten with dots first.
func TestTitleStartsAsDots(t *testing.T) {
	for _, prog := range []string{testbin.Path(t, "readproctitle"), testbin.Reference(t, "readproctitle")} {
		cmd := exec.Command(prog, "abcdefg")
		stdin, err := cmd.StdinPipe()
		testbin.Must(t, err)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want := prog + "\x00.......\x00"
		var got []byte
		svtest.Poll(5*time.Second, func() bool {
			got, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
			return string(got) == want
		})
		stdin.Close()
		cmd.Wait()
		if string(got) != want {
			t.Errorf("%s: cmdline %q, want %q", prog, got, want)
		}
	}
}

// Exit codes match daemontools: 100 without a title of at least five
// bytes, 111 when input cannot be read.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{nil, "", 100, "readproctitle: usage: readproctitle io errors: .....\n"},
		{[]string{"...."}, "", 100, "readproctitle: usage: readproctitle io errors: .....\n"},
		{[]string{"errors:", "...."}, "", 100, "readproctitle: usage: readproctitle io errors: .....\n"},
		{[]string{"....."}, "", 0, ""},
		{[]string{"....."}, ".", 111, "readproctitle: fatal: unable to read input: is a directory\n"},
	}
	for _, c := range cases {
		for _, prog := range []string{testbin.Path(t, "readproctitle"), testbin.Reference(t, "readproctitle")} {
			cmd := exec.Command(prog, c.args...)
			if c.stdin != "" {
				dir, err := os.Open(c.stdin)
				if err != nil {
					t.Fatal(err)
				}
				defer dir.Close()
				cmd.Stdin = dir
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Errorf("%s %q: exit %d, want %d", prog, c.args, code, c.code)
			}
			// daemontools exits without a word; ours says why.
			if prog == testbin.Path(t, "readproctitle") && stderr.String() != c.msg {
				t.Errorf("%s %q: stderr %q, want %q", prog, c.args, stderr.String(), c.msg)
			}
		}
	}
}
