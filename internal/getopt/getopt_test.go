package getopt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParser(t *testing.T) {
	tests := []struct {
		args    string
		want    string // letters, with =arg after those that take one
		rest    string
		message string
	}{
		{"", "", "", ""},
		{"a b", "", "a b", ""},
		{"-n f p", "n", "f p", ""},
		{"-nx f", "n x", "f", ""},
		{"-n -X f", "n X", "f", ""},
		{"-m 5 -o=x c", "m=5 o==x", "c", ""},
		{"-m5 c", "m=5", "c", ""},
		{"-nm 7 c", "n m=7", "c", ""},
		{"-- -n", "", "-n", ""},
		{"- x", "", "- x", ""},
		{"-n -- -x f", "n", "-x f", ""},
		{"-z f", "?", "f", "p: illegal option -- z\n"},
		{"-m", "?", "", "p: option requires an argument -- m\n"},
		{"-nz f", "n ?", "f", "p: illegal option -- z\n"},
		{"-: f", "?", "f", "p: illegal option -- :\n"},
	}
	for _, tc := range tests {
		var stderr bytes.Buffer
		p := New("p", "nNxXm:o:", strings.Fields(tc.args), &stderr)
		var got []string
		for c := p.Next(); c != 0; c = p.Next() {
			s := string(c)
			if c == 'm' || c == 'o' {
				s += "=" + p.Arg
			}
			got = append(got, s)
			if c == '?' {
				break
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: options %q, want %q", tc.args, got, tc.want)
		}
		// After a '?' too: the arguments that follow the bad option.
		if !reflect.DeepEqual(strings.Join(p.Rest(), " "), tc.rest) {
			t.Errorf("%q: rest %q, want %q", tc.args, p.Rest(), tc.rest)
		}
		if stderr.String() != tc.message {
			t.Errorf("%q: message %q, want %q", tc.args, stderr.String(), tc.message)
		}
	}
}
