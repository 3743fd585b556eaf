package main

import (
	"bytes"
	"os/exec"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// Zones for FuzzLikeReference: none, two with daylight saving time (a zone
// file and a POSIX string), one counting leap seconds.
var fuzzZones = []string{"UTC", "Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3", "right/America/New_York"}

// tai64nlocal on any bytes against Debian's, byte for byte, wherever the
// reference survives: it crashes on labels the C library cannot convert,
// and ours must then still exit 0 with every line. Where input ends inside
// a label the reference drops the bytes of that label; ours passes them
// on (SPEC: nothing is lost), so such input is compared with a final
// newline added.
func FuzzLikeReference(f *testing.F) {
	for _, s := range []string{
		"@400000006553f10a3b9ac9ff x\n@4000000065a0000000000000\n",
		"plain\n@\n@zz\n\n@4000000000000000000000000 x\nno newline",
		"@3fffffffffffffff00000000 before 1970\n@400000000000000a00000000epoch\n",
		"@4000000064202690000003e8 dst\n@40000000653ee8100000000a y\n@40000000fffffffffffffffff\n",
		"@4000000058684c4a00000000 leap\n@4000000058684c4b3b9ac9ff\n@ABCDEF0123456789abcdef01\n",
		"@40000000dfa604ff8d3de921\t \n@0b",
	} {
		for z := range fuzzZones {
			f.Add([]byte(s), uint8(z))
		}
	}
	ours, ref := testbin.Path(f, "tai64nlocal"), testbin.Reference(f, "tai64nlocal")
	hang := svtest.Scaled(testbin.Hang)
	f.Fuzz(func(t *testing.T, in []byte, zone uint8) {
		tz := fuzzZones[int(zone)%len(fuzzZones)]
		if last := in[bytes.LastIndexByte(in, '\n')+1:]; len(last) > 0 && last[0] == '@' {
			in = append(in, '\n')
		}
		run := func(prog string) testbin.Result {
			cmd := exec.Command(prog)
			cmd.Env = []string{"TZ=" + tz}
			cmd.Stdin = bytes.NewReader(in)
			return testbin.RunWithin(t, cmd, hang)
		}
		got, want := run(ours), run(ref)
		if want.Code < 0 { // killed: a label out of the C library's range
			if got.Code != 0 || got.Stderr != "" || bytes.Count([]byte(got.Stdout), []byte("\n")) != bytes.Count(in, []byte("\n")) {
				t.Errorf("TZ=%s %q: ours %+v", tz, in, got)
			}
			return
		}
		if got != want {
			t.Errorf("TZ=%s %q:\nours: %+v\nref:  %+v", tz, in, got, want)
		}
	})
}
