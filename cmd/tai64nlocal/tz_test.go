package main

import (
	"bytes"
	"os/exec"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// labelsAround returns a line for each second near each of points, some
// nanoseconds set, and labels for years the reference prints unpadded.
func labelsAround(points []int64) []byte {
	var in []byte
	add := func(sec int64, nano uint32) {
		in = tai64.Label{Sec: uint64(sec) + tai64.Offset, Nano: nano}.AppendExternal(in)
		in = append(in, " line\n"...)
	}
	for _, p := range points {
		for _, d := range []int64{-7200, -3601, -3600, -1, 0, 1, 3599, 3600, 7200} {
			add(p+d, uint32(p+d)%1_000_000_000)
		}
	}
	add(-46_000_000_000, 5)       // year 512
	add(-62_135_596_800, 0)       // year 1
	add(-62_135_596_801-86400, 0) // year 0
	add(253_402_300_800+86400*400, 7)
	return in
}

// $TZ as glibc reads it, which Go's time package does not: POSIX strings,
// leap-second zones, a daylight zone taking its rules from posixrules.
func TestPOSIXAndLeapSecondZonesLikeReference(t *testing.T) {
	points := []int64{
		1_679_792_400, 1_698_541_200, // Europe's changes, 2023
		1_678_604_400, 1_699_164_000, // the United States', 2023
		2_541_884_400,                                        // 2050-07-20, past every zone file's transitions
		78_796_800, 94_694_401, 1_483_228_826, 1_483_228_827, // leap seconds, counted in right/ time
		-1, 0, 1_000_000_000,
	}
	in := labelsAround(points)
	hang := svtest.Scaled(testbin.Hang)
	for _, tz := range []string{
		"JST-9", "CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30", "EST5EDT4,M3.2.0/2,M11.1.0/2",
		"NZST-12NZDT,M9.5.0,M4.1.0/3", "AAA3BBB", "right/UTC", "right/Europe/Berlin", "right/America/New_York",
		"Europe/Berlin", "", "garbage",
	} {
		var results [2]testbin.Result
		for i, prog := range []string{testbin.Path(t, "tai64nlocal"), testbin.Reference(t, "tai64nlocal")} {
			cmd := exec.Command(prog)
			cmd.Env = []string{"TZ=" + tz}
			cmd.Stdin = bytes.NewReader(in)
			results[i] = testbin.RunWithin(t, cmd, hang)
		}
		if results[0] != results[1] {
			t.Errorf("TZ=%q:\nours: %.400q\nref:  %.400q", tz, results[0].Stdout, results[1].Stdout)
		}
	}
}
