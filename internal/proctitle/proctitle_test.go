package proctitle

import "testing"

func TestScroll(t *testing.T) {
	cases := []struct{ title, in, want string }{
		{".....", "", "....."},
		{".....", "a", "....a"},
		{".....", "ab", "...ab"},
		{".....", "abc", "...bc"},
		{"...xy", "\x00z\x00", "...yz"},
		{"......", "abcdefgh", "...fgh"},
		{"...", "abc", "..."},
		{"..", "abc", ".."},
	}
	for _, c := range cases {
		title := []byte(c.title)
		Scroll(title, []byte(c.in))
		if string(title) != c.want {
			t.Errorf("Scroll(%q, %q) = %q, want %q", c.title, c.in, title, c.want)
		}
	}
}

// LastArg hands out the test binary's own last argument in place.
func TestLastArgIsInArgvArea(t *testing.T) {
	arg, err := LastArg()
	if err != nil {
		t.Fatal(err)
	}
	if len(arg) == 0 {
		t.Fatal("empty last argument")
	}
}

// Scroll does at once what daemontools' readproctitle does a byte at a
// time: for each non-NUL byte, move bytes 4..end one to the left and put
// the byte last.
func FuzzScroll(f *testing.F) {
	f.Add(".....", "fatal error xyz\nwarning abc\n")
	f.Add("...", "x")
	f.Add("..........", "a\x00b\x00\x00c")
	f.Fuzz(func(t *testing.T, title, in string) {
		want := []byte(title)
		for _, c := range []byte(in) {
			if c != 0 && len(want) > 3 {
				copy(want[3:], want[4:])
				want[len(want)-1] = c
			}
		}
		got := []byte(title)
		Scroll(got, []byte(in))
		if string(got) != string(want) {
			t.Errorf("Scroll(%q, %q) = %q, want %q", title, in, got, want)
		}
	})
}
