package multilog

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Script
	}{
		{[]string{"t", "./a"}, Script{Stamp: TAI64N, Actions: []Action{{Kind: Dir, Path: "./a", Size: 99999, Num: 10}}}},
		{[]string{"e", "t", "/a"}, Script{Actions: []Action{{Kind: Echo}, {Kind: Dir, Path: "/a", Size: 99999, Num: 10}}}},
		{[]string{"s1", "n1", "!gzip", "./a", "s99999999", "n5", "./b"}, Script{Actions: []Action{
			{Kind: Dir, Path: "./a", Size: MinSize, Num: MinNum, Processor: "gzip"},
			{Kind: Dir, Path: "./b", Size: MaxSize, Num: 5, Processor: "gzip"}}}},
		{[]string{"sfoo", "s5000x", "./a"}, Script{Actions: []Action{{Kind: Dir, Path: "./a", Size: 5000, Num: 10}}}},
		{[]string{"-*", "+a*", "=st", "x", "", "./a"}, Script{Actions: []Action{
			{Kind: Deselect, Pattern: "*"}, {Kind: Select, Pattern: "a*"}, {Kind: Status, Path: "st"},
			{Kind: Dir, Path: "./a", Size: 99999, Num: 10}}}},
	} {
		if got := Parse(tc.args); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.args, got, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, line string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"a", "a", true},
		{"a", "ab", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"*c", "abcd", false},
		{"*b*", "abc", true},
		{"*b", "abab", false}, // the star stops at the first b
		{"a*b*c", "a-b-c", true},
		{"a* b", "a x b", false}, // the star stops at the first space
		{"@* fatal:*", "@4000 fatal: x", true},
		{"**", "a*", true},
		{"**", "ab", false},
		{"x\x00y", "x\x00y", true},
	} {
		if got := Match(tc.pattern, []byte(tc.line)); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.line, got, tc.want)
		}
	}
}

// matchReference is the star rule stated directly: a star matches the
// shortest run before the next pattern byte.
func matchReference(pattern string, line []byte) bool {
	if pattern == "" {
		return len(line) == 0
	}
	if pattern[0] != '*' {
		return len(line) > 0 && line[0] == pattern[0] && matchReference(pattern[1:], line[1:])
	}
	if len(pattern) == 1 {
		return true
	}
	for i, c := range line {
		if c == pattern[1] {
			return matchReference(pattern[1:], line[i:])
		}
	}
	return false
}

func FuzzMatch(f *testing.F) {
	f.Add("a*b*c", []byte("a-b-c"))
	f.Add("*", []byte(""))
	f.Add("**x", []byte("a*x"))
	f.Fuzz(func(t *testing.T, pattern string, line []byte) {
		if got, want := Match(pattern, line), matchReference(pattern, line); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", pattern, line, got, want)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("t\x00s4096\x00n3\x00!cat\x00./a\x00-*\x00+x*\x00e\x00=f\x00/b")
	f.Add("s\x00n\x00!\x00.")
	f.Fuzz(func(t *testing.T, joined string) {
		args := splitNUL(joined)
		s := Parse(args)
		for _, a := range s.Actions {
			if a.Kind == Dir && (a.Size < MinSize || a.Size > MaxSize || a.Num < MinNum) {
				t.Fatalf("Parse(%q) gave %+v", args, a)
			}
		}
	})
}

func splitNUL(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func BenchmarkMatch(b *testing.B) {
	line := []byte("@400000006b03fd002e8fe765 00000042 service said something of an ordinary length, like a daemon does")
	for b.Loop() {
		Match("@* *said*daemon*", line)
	}
}
