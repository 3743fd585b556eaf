package svtest

import "testing"

func TestParseScale(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", DefaultScale, true},
		{"1", 1, true},
		{"0.5", 0.5, true},
		{"20", 20, true},
		{"0", 0, false},
		{"-3", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"fast", 0, false},
	} {
		got, err := parseScale(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseScale(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
