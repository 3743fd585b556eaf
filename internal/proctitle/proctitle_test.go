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
