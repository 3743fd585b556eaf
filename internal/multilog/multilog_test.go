package multilog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchInput is 1 MB of ~90-byte lines.
func benchInput() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%08d service said something of an ordinary length, like a daemon does every so often\n", i)
	}
	return b.Bytes()
}

// memoryDir is a new directory on tmpfs when there is one: the fsync at
// each rotation is disk time, not the line path's.
func memoryDir(tb testing.TB) string {
	dir, err := os.MkdirTemp("/dev/shm", "multilog-test")
	if err != nil {
		return tb.TempDir()
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func benchFeed(b *testing.B, args ...string) {
	dir := memoryDir(b)
	m, err := New(Parse(append(args, filepath.Join(dir, "d"))), 1, io.Discard, Pause)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	in := benchInput()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		// In pieces the size of a pipe's buffer, as reads from a pipe
		// come: most end inside a line.
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 64<<10)
			m.feed(rest[:n], false)
			m.flush()
			rest = rest[n:]
		}
	}
}

// BenchmarkLinePath is the work per byte of multilog t sSIZE DIR, without
// the input's system calls.
func BenchmarkLinePath(b *testing.B) { benchFeed(b, "t", "s16777215", "n2") }

// BenchmarkLinePathPatterns adds patterns, which hold each line's head.
func BenchmarkLinePathPatterns(b *testing.B) {
	benchFeed(b, "t", "-*", "+* service said*", "-*debug*", "s16777215", "n2")
}

// TestLabelPerRead checks that lines taken in by one read share one label,
// taken when the read returned, and that the label of a later read is not
// earlier.
func TestLabelPerRead(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Parse([]string{"t", filepath.Join(dir, "d")}), 1, io.Discard, Pause)
	if err != nil {
		t.Fatal(err)
	}
	m.feed([]byte("one\ntwo\nthr"), false)
	time.Sleep(2 * time.Millisecond) // the clock must move between reads
	m.feed([]byte("ee\nfour\n"), false)
	m.Close()
	b, err := os.ReadFile(filepath.Join(dir, "d", "current"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var labels, texts []string
	for _, l := range lines {
		label, text, _ := strings.Cut(l, " ")
		labels, texts = append(labels, label), append(texts, text)
	}
	if got := strings.Join(texts, ","); got != "one,two,three,four" {
		t.Fatalf("lines %q", got)
	}
	if labels[0] != labels[1] || labels[1] != labels[2] {
		t.Errorf("one read, several labels: %q", labels[:3])
	}
	if !(labels[3] > labels[2]) {
		t.Errorf("label of the second read %q not after %q", labels[3], labels[2])
	}
}

// FuzzWholeLines checks that a script of directories and stream actions
// only, whose lines are written a buffer at a time, logs and writes
// exactly what the line-by-line path does (a pattern that changes nothing
// forces it), however the input is cut into reads, rotations included.
func FuzzWholeLines(f *testing.F) {
	f.Add([]byte("one\ntwo\n\nthree"), uint16(3), uint8(1))
	f.Add(bytes.Repeat([]byte("a line of a log\n"), 700), uint16(1000), uint8(2))
	f.Add([]byte(strings.Repeat("x", 5000)+"\nshort\n"), uint16(4097), uint8(0))
	f.Add([]byte("\xe2\x82\xac \xe2\x82\n\"q\"\t\x00\n"+strings.Repeat("é", 3000)+"\n"), uint16(2), uint8(7))
	f.Add([]byte("a\n"+strings.Repeat("y", 4200)+"\nb\xff\nc"), uint16(700), uint8(3))
	f.Add([]byte("a\n"+strings.Repeat("y", 4100)+"\nb\xf0\x9f\x98\x80\n"), uint16(5), uint8(11))
	f.Fuzz(func(t *testing.T, in []byte, piece uint16, script uint8) {
		// Never a generated action: it could name a directory anywhere.
		stamp := []string{"", "t", "T"}[script%3]
		streams := [][]string{nil, {"1"}, {"pname", "j"}, {"j", "pn", "1"}}[script/3%4]
		logged := func(args ...string) (files, stdout []byte) {
			dir := memoryDir(t)
			out, err := os.Create(dir + "/stdout")
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			m, err := New(Parse(append(args, "s4096", "n100", dir+"/d")), int(out.Fd()), io.Discard, Pause)
			if err != nil {
				t.Fatal(err)
			}
			m.now = func() time.Time { return fixedTime }
			for rest := in; len(rest) > 0; {
				n := min(len(rest), max(int(piece), 1))
				m.feed(rest[:n], false)
				m.flush()
				rest = rest[n:]
			}
			m.endInput()
			m.Close()
			names, _ := filepath.Glob(dir + "/d/@*")
			for _, name := range append(names, dir+"/d/current") {
				b, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, b...)
			}
			stdout, err = os.ReadFile(out.Name())
			if err != nil {
				t.Fatal(err)
			}
			return files, stdout
		}
		first := append([]string{stamp}, streams...)
		fastFiles, fastOut := logged(first...)
		slowFiles, slowOut := logged(append(first, "+changes nothing")...)
		if !bytes.Equal(fastFiles, slowFiles) {
			t.Fatalf("whole lines %q, line by line %q", fastFiles, slowFiles)
		}
		if !bytes.Equal(fastOut, slowOut) {
			t.Fatalf("stdout: whole lines %q, line by line %q", fastOut, slowOut)
		}
	})
}
