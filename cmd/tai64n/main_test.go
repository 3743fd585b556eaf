package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// Ours and the reference must stamp the same input the same way: every line
// gets "@" + 24 hex + " ", a current and non-decreasing label, and the text
// after it is untouched; the reference's tai64nlocal reads our labels.
func TestStampsLikeReference(t *testing.T) {
	in := "first\n\nthird line with \x00 a NUL\n" + strings.Repeat("y", 100000) + "\npartial"
	for _, prog := range []string{testbin.Path(t, "tai64n"), testbin.Reference(t, "tai64n")} {
		before := time.Now().Add(-time.Second)
		out := filter(t, prog, in)
		after := time.Now().Add(time.Second)
		lines := strings.SplitAfter(string(out), "\n")
		inLines := strings.SplitAfter(in, "\n")
		if len(lines) != len(inLines) {
			t.Fatalf("%s: %d lines, want %d", prog, len(lines), len(inLines))
		}
		var last tai64.Label
		for i, line := range lines {
			l, ok := tai64.ParseExternal([]byte(line))
			if !ok || line[tai64.ExternalLen] != ' ' || line[tai64.ExternalLen+1:] != inLines[i] {
				t.Fatalf("%s: line %d is %.60q", prog, i, line)
			}
			if l.Time().Before(before) || l.Time().After(after) || l.Sec < last.Sec {
				t.Fatalf("%s: line %d label %v out of order or range", prog, i, l)
			}
			last = l
		}
	}
	// Our labels read back by the reference's tai64nlocal.
	cmd := exec.Command(testbin.Reference(t, "tai64nlocal"))
	cmd.Stdin = bytes.NewReader(filter(t, testbin.Path(t, "tai64n"), "hello\n"))
	cmd.Env = []string{"TZ=UTC"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := time.Parse("2006-01-02 15:04:05.000000000", string(out[:29])); err != nil || time.Since(ts) > time.Minute || string(out[29:]) != " hello\n" {
		t.Fatalf("reference read %q (%v)", out, err)
	}
}

// A line is written as soon as it is complete, while input stays open.
func TestLineComesOutBeforeEOF(t *testing.T) {
	cmd := exec.Command(testbin.Path(t, "tai64n"))
	stdin, err := cmd.StdinPipe()
	testbin.Must(t, err)
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer cmd.Wait()
	defer stdin.Close()
	stdout.SetReadDeadline(time.Now().Add(svtest.Scaled(10 * time.Second))) // fail, not hang, if it holds the line back
	io.WriteString(stdin, "now\n")
	buf := make([]byte, 64)
	got := []byte{}
	for !bytes.HasSuffix(got, []byte("now\n")) {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("read %q then %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
}

func TestWriteFailureExits111(t *testing.T) {
	cmd := exec.Command(testbin.Path(t, "tai64n"))
	cmd.Stdin = strings.NewReader("x\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = full
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 111 {
		t.Fatalf("exit %v, want 111", err)
	}
	if want := "tai64n: fatal: unable to write output: out of disk space\n"; stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}

func filter(t *testing.T, prog, in string) []byte {
	t.Helper()
	cmd := exec.Command(prog)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", prog, err)
	}
	return out
}
