package multilog

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, line string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"ab", "abc", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"*c", "abcc", false}, // the star stops at the first c
		{"*b*", "abc", true},
		{"* error *", "12 error x", true},
		{"* error *", "1 2 error x", false},
		{"*x", "abc", false},
		{"a*c", "ac", true},
	} {
		if got := Match(tc.pattern, []byte(tc.line)); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.pattern, tc.line, got)
		}
	}
}

func TestParse(t *testing.T) {
	got := Parse([]string{"t", "-*", "+a*", "e", "=st", "s1", "n1", "./a", "s99999999", "n5", "!gzip", "/b", "t", "x", ""})
	want := Script{
		Timestamp: true,
		Actions: []Action{
			{Kind: actDeselect, Arg: "*"}, {Kind: actSelect, Arg: "a*"}, {Kind: actStderr},
			{Kind: actStatus, Arg: "st"}, {Kind: actDir, Arg: "./a"}, {Kind: actDir, Arg: "/b", Dir: 1},
		},
		Dirs: []DirConfig{{"./a", MinSize, MinNum, ""}, {"/b", MaxSize, 5, "gzip"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if s := Parse([]string{"e", "t"}); s.Timestamp {
		t.Fatal("t counts only first")
	}
}

// Match must never panic and a trailing star matches everything.
func FuzzMatch(f *testing.F) {
	f.Add("*", []byte("x"))
	f.Add("a*b*", []byte("aXbY"))
	f.Add("* *", []byte("1 2"))
	f.Fuzz(func(t *testing.T, pattern string, line []byte) {
		Match(pattern, line)
		if !Match(pattern+"*", append([]byte(strings.ReplaceAll(pattern, "*", "")), line...)) && !strings.Contains(pattern, "*") {
			t.Fatalf("%q* does not match its own prefix", pattern)
		}
	})
}

// Parse must never panic and always keeps sizes and counts in range.
func FuzzParse(f *testing.F) {
	f.Add("t\x00s100\x00n1\x00./d")
	f.Add("s\x00n\x00!\x00/")
	f.Fuzz(func(t *testing.T, joined string) {
		s := Parse(strings.Split(joined, "\x00"))
		for _, d := range s.Dirs {
			if d.Size < MinSize || d.Size > MaxSize || d.Num < MinNum {
				t.Fatalf("out of range: %+v", d)
			}
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	line := []byte("@400000006b03f99a2c06fd0c service[1234]: connection from 10.0.0.1 accepted, error=none")
	for b.Loop() {
		Match("* service*: *error=*", line)
	}
}

// BenchmarkLinePath measures feed: timestamping and queueing lines of ~90
// bytes for one log directory (written to /dev/null).
func BenchmarkLinePath(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	s := Parse([]string{"t", "./d"})
	l := &logger{script: s, atStart: true, sel: make([]bool, len(s.Actions)), status: make([]*os.File, 1)}
	l.dirs = []*logDir{{DirConfig: DirConfig{Size: 1 << 62}, current: null}}
	l.decide()
	chunk := []byte(strings.Repeat("service[1234]: connection from 10.0.0.1 accepted, all is well and good here ok\n", 700))
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		l.feed(chunk)
		l.dirs[0].flush()
	}
}
