package main

// The stream actions (1, j, T, p): standard output gets what a log
// directory gets, with the same handling of long lines, partial last
// lines and binary bytes.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

var (
	isoStamp = regexp.MustCompile(`\b20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{6}Z`)
	taiStamp = regexp.MustCompile(`@4000[0-9a-f]{20}`)
)

// stamped replaces every label in b by a word: ISO or TAI.
func stamped(b []byte) string {
	b = isoStamp.ReplaceAll(b, []byte("ISO"))
	return string(taiStamp.ReplaceAll(b, []byte("TAI")))
}

// streamRun runs multilog with args in dir on input through a pipe and
// returns its standard output and what dir/d holds.
func streamRun(t *testing.T, dir string, input []byte, args ...string) (stdout, logged string) {
	t.Helper()
	cmd := exec.Command(testbin.Path(t, "multilog"), args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("multilog %q: %v, %q", args, err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "d")); err == nil {
		_, b := logFiles(t, filepath.Join(dir, "d"))
		logged = string(b)
	}
	return out.String(), logged
}

// tricky is input of every kind at once: binary bytes, invalid UTF-8,
// what JSON must escape, lines of 4 KB and over, and no newline at the end.
func tricky() []byte {
	var b bytes.Buffer
	b.WriteString("plain line\n\n")
	b.WriteString("quote \" backslash \\ slash / tab \t cr \r nul \x00 esc \x1b[31m del \x7f\n")
	b.WriteString("utf-8 é € 😀, invalid \xff \xc3 \xe2\x82 \xed\xa0\x80 \xc0\xaf, ls \u2028 ps \u2029\n")
	for _, n := range []int{4089, 4090, 4095, 4096, 4097, 9000} {
		b.WriteString(strings.Repeat(strconv.Itoa(n%10), n) + "\n")
	}
	b.WriteString(strings.Repeat("é", 3000) + "\n") // a sequence across the 4 KB mark
	b.WriteString("no newline at the end \xe2\x82")
	return b.Bytes()
}

// TestStreamLikeDirectory: 1 writes exactly what a directory gets, with
// the same label; T labels as t does, in RFC 3339.
func TestStreamLikeDirectory(t *testing.T) {
	t.Parallel()
	in := tricky()
	for _, stamp := range []string{"t", "T", "pname"} {
		out, logged := streamRun(t, t.TempDir(), in, stamp, "1", "s16777215", "./d")
		if stamp == "pname" {
			logged = strings.ReplaceAll("\n"+logged, "\n", "\nname: ")
			logged = logged[1 : len(logged)-len("name: ")]
		}
		if out != logged {
			t.Errorf("%s: stdout differs from the directory at byte %d", stamp, firstDifference([]byte(out), []byte(logged)))
		}
		if want := string(in) + "\n"; stamp != "pname" && stamped([]byte(out)) != stampAll(want, map[string]string{"t": "TAI ", "T": "ISO "}[stamp]) {
			t.Errorf("%s: stdout %q", stamp, stamped([]byte(out)))
		}
	}
}

// stampAll puts label before every line of s.
func stampAll(s, label string) string {
	lines := strings.SplitAfter(s, "\n")
	return label + strings.Join(lines[:len(lines)-1], label)
}

func TestStreamJSONExact(t *testing.T) {
	t.Parallel()
	out, _ := streamRun(t, t.TempDir(), tricky(), "t", "pa\"b", "j")
	iso := `{"time":"ISO","service":"a\"b","line":"`
	want := iso + "plain line\"}\n" + iso + "\"}\n" +
		iso + `quote \" backslash \\ slash / tab \t cr \r nul \u0000 esc \u001b[31m del ` + "\x7f\"}\n" +
		iso + `utf-8 é € 😀, invalid \ufffd \ufffd \ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd, ls \u2028 ps \u2029"}` + "\n"
	for _, n := range []int{4089, 4090, 4095, 4096, 4097, 9000} {
		want += iso + strings.Repeat(strconv.Itoa(n%10), n) + "\"}\n"
	}
	want += iso + strings.Repeat("é", 3000) + "\"}\n"
	want += iso + "no newline at the end \\ufffd\\ufffd\"}\n"
	if got := stamped([]byte(out)); got != want {
		i := firstDifference([]byte(got), []byte(want))
		t.Errorf("differs at %d: got %q, want %q", i, got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
	}
}

// TestStreamNameFromDirectory: p without a name takes the service's name
// from where supervise runs the logger, SERVICE/log.
func TestStreamNameFromDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "web", "log")
	testbin.Must(t, os.MkdirAll(dir, 0o755))
	out, _ := streamRun(t, dir, []byte("up\n"), "T", "p", "1", "j")
	if want := "ISO web: up\n" + `{"time":"ISO","service":"web","line":"up"}` + "\n"; stamped([]byte(out)) != want {
		t.Errorf("%q, want %q", out, want)
	}
}

// TestStreamWriterKilled: a line cut by a kill -9 of its writer goes on
// with what the next writer of the pipe writes, as in a directory, and a
// line cut by the last writer ends at the end of input.
func TestStreamWriterKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	testbin.Must(t, err)
	defer r.Close()
	outFile, err := os.Create(filepath.Join(dir, "stdout"))
	testbin.Must(t, err)
	defer outFile.Close()
	cmd := exec.Command(testbin.Path(t, "multilog"), "T", "pw", "1", "./d")
	cmd.Stdout = outFile
	g, stderr := launch(t, cmd, dir, r)
	writer := func(script string) *svtest.Group {
		c := exec.Command("/bin/sh", "-c", script)
		c.Stdout = w
		return svtest.Start(t, c)
	}
	first := writer(`printf 'whole\ncut in th'; exec sleep 1000`)
	svtest.WaitFor(t, exitWithin, "the whole line", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "d", "current"))
		return stamped(b) == "ISO whole\n"
	})
	first.Kill9(t)
	second := writer(`printf 'e middle\nlast, cut'`)
	second.Wait(t, exitWithin)
	second = writer(`printf ' again'; kill -9 $$`)
	second.Wait(t, exitWithin)
	w.Close()
	if code, msg := exit(t, g, stderr); code != 0 || msg != "" {
		t.Fatalf("multilog: %d %q", code, msg)
	}
	out, err := os.ReadFile(outFile.Name())
	testbin.Must(t, err)
	want := "ISO w: whole\nISO w: cut in the middle\nISO w: last, cut again\n"
	if stamped(out) != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if files := stamped([]byte(logged(t, filepath.Join(dir, "d")))); files != strings.ReplaceAll(want, "w: ", "") {
		t.Errorf("directory %q", files)
	}
}

// TestStreamsShareOutput: loggers writing to one pipe, as the services of
// a container do, never mix their lines, 4 KB ones included, and each
// logger's lines come in order.
func TestStreamsShareOutput(t *testing.T) {
	t.Parallel()
	const loggers, lines = 3, 3000
	r, w, err := os.Pipe()
	testbin.Must(t, err)
	defer r.Close()
	var groups []*svtest.Group
	var stderrs []*os.File
	for i := range loggers {
		// Each writer sends its lines in writes of 1000 bytes, whatever
		// the lines: the pipe cuts them anywhere.
		script := fmt.Sprintf(`awk 'BEGIN { for (i = 0; i < %d; i++) { n = (i %% 7 == 0) ? 4000 : 10 + i %% 300; s = sprintf("%%d %%0" n "d", i, 0); printf "%%s\n", s } }' | dd ibs=1000 obs=1000 status=none | %s T ps%d 1`,
			lines, testbin.Path(t, "multilog"), i)
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Stdout = w
		g, stderr := launch(t, cmd, t.TempDir(), nil)
		groups, stderrs = append(groups, g), append(stderrs, stderr)
	}
	w.Close()
	next := make([]int, loggers)
	line := regexp.MustCompile(`^ISO s([0-9]): ([0-9]+) (0+)$`)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 8192), 8192)
	for sc.Scan() {
		m := line.FindStringSubmatch(stamped(sc.Bytes()))
		if m == nil {
			t.Fatalf("mixed or cut line %.300q", sc.Text())
		}
		s, _ := strconv.Atoi(m[1])
		i, _ := strconv.Atoi(m[2])
		n := 10 + i%300
		if i%7 == 0 {
			n = 4000
		}
		if i != next[s] || len(m[3]) != n {
			t.Fatalf("logger %d: line %d (%d zeros) after %d", s, i, len(m[3]), next[s]-1)
		}
		next[s]++
	}
	testbin.Must(t, sc.Err())
	for i, g := range groups {
		if code, msg := exit(t, g, stderrs[i]); code != 0 || msg != "" {
			t.Errorf("logger %d: %d %q", i, code, msg)
		}
		if next[i] != lines {
			t.Errorf("logger %d: %d lines of %d", i, next[i], lines)
		}
	}
}

// TestStreamUnwritable: a standard output multilog cannot write to is
// fatal before any input is read, as a log directory it cannot open is.
func TestStreamUnwritable(t *testing.T) {
	t.Parallel()
	ro, err := os.Open(os.DevNull)
	testbin.Must(t, err)
	defer ro.Close()
	cmd := exec.Command(testbin.Path(t, "multilog"), "T", "1")
	cmd.Stdin = strings.NewReader("a\n")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = ro, &stderr
	err = cmd.Run()
	if cmd.ProcessState.ExitCode() != 111 || stderr.String() != "multilog: fatal: unable to write to standard output: file descriptor not open\n" {
		t.Errorf("%v, stderr %q", err, stderr.String())
	}
}
