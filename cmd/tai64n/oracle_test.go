package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// tai64n on any bytes against Debian's: the same output once each line's
// label is masked, the same exit code and messages.
func FuzzLikeReference(f *testing.F) {
	for _, s := range []string{"", "\n", "one\ntwo\n", "no newline", "\x00\xff@ \n\n\nx", "@400000006553f10a3b9ac9ff x\n"} {
		f.Add([]byte(s))
	}
	f.Add(bytes.Repeat([]byte("a long line "), 2000))
	label := regexp.MustCompile(`(?m)^@[0-9a-f]{24} `)
	ours, ref := testbin.Path(f, "tai64n"), testbin.Reference(f, "tai64n")
	hang := svtest.Scaled(testbin.Hang)
	f.Fuzz(func(t *testing.T, in []byte) {
		run := func(prog string) testbin.Result {
			cmd := exec.Command(prog)
			cmd.Stdin = bytes.NewReader(in)
			r := testbin.RunWithin(t, cmd, hang)
			r.Stdout = label.ReplaceAllString(r.Stdout, "@T ")
			return r
		}
		if got, want := run(ours), run(ref); got != want {
			t.Errorf("%q:\nours: %+v\nref:  %+v", in, got, want)
		}
	})
}
