package rlimit

import (
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"50000000", 50000000, false},
		{"99999999999999999999999", ^uint64(0), false},
		{"12k", 0, true},
		{"-1", 0, true},
		{" 1", 0, true},
	}
	for _, tc := range tests {
		got, err := parse(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parse(%q) = %d, %v", tc.in, got, err)
		}
	}
}

// SetSoft changes this test process's limits; CORE is harmless to lower.
func TestSetSoft(t *testing.T) {
	var r syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &r)
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_CORE, &r) })
	if err := SetSoft(syscall.RLIMIT_CORE, "4096"); err != nil {
		t.Fatal(err)
	}
	var got syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &got)
	if got.Cur != min(4096, r.Max) || got.Max != r.Max {
		t.Errorf("after 4096: %+v", got)
	}
	if err := SetSoft(syscall.RLIMIT_CORE, "="); err != nil {
		t.Fatal(err)
	}
	syscall.Getrlimit(syscall.RLIMIT_CORE, &got)
	if got.Cur != r.Max {
		t.Errorf("after =: %+v, want cur %d", got, r.Max)
	}
	if err := SetSoft(syscall.RLIMIT_CORE, "x"); err != ErrBadValue {
		t.Errorf("bad value: %v", err)
	}
}
