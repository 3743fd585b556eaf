package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"testing"

	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// wellFormed builds lines the reference handles: labels from 1970 to 2100,
// including every hour of two DST-changing days, some followed directly by
// text, mixed with lines that are not labels.
func wellFormed() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var in []byte
	add := func(sec int64, nano uint32, text string) {
		in = tai64.Label{Sec: uint64(sec + tai64.Offset), Nano: nano}.AppendExternal(in)
		in = append(in, text...)
	}
	for i := range 2000 {
		add(rng.Int64N(4_102_444_800), rng.Uint32N(1_000_000_000), fmt.Sprintf(" line %d\n", i))
	}
	for _, day := range []int64{1_679_792_400, 1_698_541_200, 1_678_582_800, 1_699_142_400} {
		for h := int64(-3); h <= 3; h++ {
			add(day+h*1800, 1, "x dst\n")
		}
	}
	in = append(in, "not a label\n\nat @ mid-line\n"...)
	add(0, 0, "\n")
	add(1_700_000_000, 999_999_999, " partial last line")
	return in
}

func TestMatchesReference(t *testing.T) {
	ours := testbin.Path(t, "tai64nlocal")
	ref := testbin.Reference(t, "tai64nlocal")
	in := wellFormed()
	for _, tz := range []string{"UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe"} {
		got := runWith(t, ours, tz, in)
		want := runWith(t, ref, tz, in)
		if !bytes.Equal(got, want) {
			t.Errorf("TZ=%s: output differs from the reference\nours: %.300q\nref:  %.300q", tz, got, want)
		}
	}
}

func TestMalformedLabelsPassThrough(t *testing.T) {
	ours := testbin.Path(t, "tai64nlocal")
	in := []byte("@zz\n@\n@4000000000000000000000000 x\n@400000006553F10A00000000\n@ffffffffffffffff00000000 y\n")
	if got := runWith(t, ours, "UTC", in); !bytes.Equal(got, in) {
		t.Errorf("malformed labels changed: %q", got)
	}
}

func runWith(t *testing.T, prog, tz string, in []byte) []byte {
	t.Helper()
	cmd := exec.Command(prog)
	cmd.Env = []string{"TZ=" + tz}
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s (TZ=%s): %v", prog, tz, err)
	}
	return out
}

// TestISOLinesPassThrough: lines multilog stamps with T (RFC 3339), with
// or without a name, and its JSON lines, come out as they went in, from
// ours as from the reference.
func TestISOLinesPassThrough(t *testing.T) {
	var in []byte
	for _, script := range [][]string{{"T", "1"}, {"T", "papp", "1"}, {"T", "papp", "j"}} {
		cmd := exec.Command(testbin.Path(t, "multilog"), script...)
		cmd.Stdin = bytes.NewReader([]byte("one\n@400000006553f10a00000000 inside\n\xff\x00 binary\npartial"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("multilog %q: %v", script, err)
		}
		in = append(in, out...)
	}
	for _, prog := range []string{testbin.Path(t, "tai64nlocal"), testbin.Reference(t, "tai64nlocal")} {
		if got := runWith(t, prog, "Europe/London", in); !bytes.Equal(got, in) {
			t.Errorf("%s changed ISO lines:\n%q\nto\n%q", prog, in, got)
		}
	}
}
