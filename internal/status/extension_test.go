package status

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"daemontools/internal/procstart"
	"daemontools/internal/tai64"
)

// The layout after daemontools' bytes, byte by byte, as README documents it.
func TestExtensionLayout(t *testing.T) {
	since := tai64.Label{Sec: tai64.Offset + 0x01020304, Nano: 0x0a0b0c0d}
	ready := tai64.Label{Sec: tai64.Offset + 0x01020305, Nano: 1}
	next := tai64.Label{Sec: tai64.Offset + 0x01020306, Nano: 2}
	s := Status{Since: since, Pid: 0x1234, Want: WantUp, State: Running, Readiness: true, Ready: ready,
		Exited: true, LastExit: Exit{Code: 256, Signal: 9}, Restarts: 0x01020304, NextStart: next,
		Start: procstart.ID{Boot: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Ticks: 0x0102030405060708},
		Text:  "hi"}
	// Version 3, as supervise wrote it before bytes 78-99.
	v3 := "\x40\x00\x00\x00\x01\x02\x03\x0e\x0a\x0b\x0c\x0d\x34\x12\x00\x00\x00u" +
		"\x00\x01\x03\x0e" +
		"\x40\x00\x00\x00\x01\x02\x03\x0f\x00\x00\x00\x01" +
		"\x00\x01\x09\x03" +
		"\x04\x03\x02\x01" +
		"\x40\x00\x00\x00\x01\x02\x03\x10\x00\x00\x00\x02" +
		"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10" +
		"\x08\x07\x06\x05\x04\x03\x02\x01" +
		"\x02\x00hi"
	if got, err := DecodeAll([]byte(v3)); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("DecodeAll of version 3: %+v %v, want %+v", got, err, s)
	}
	v4 := s
	v4.AwaitingDaemon, v4.StopSince, v4.FinishPid, v4.StartError = true, next, 0x0506, "why"
	v4Bytes := v3[:20] + "\x04" + v3[21:78] + "\x01\x00" +
		"\x40\x00\x00\x00\x01\x02\x03\x10\x00\x00\x00\x02" +
		"\x06\x05\x00\x00" +
		"\x03\x00\x02\x00whyhi"
	if got, err := DecodeAll([]byte(v4Bytes)); err != nil || !reflect.DeepEqual(got, v4) {
		t.Errorf("DecodeAll of version 4: %+v %v, want %+v", got, err, v4)
	}
	v5 := v4
	v5.Health, v5.Failures, v5.Probe = HealthUnhealthy, 0x0102, "refused"
	v5.LastExit.Unhealthy, v5.LastExit.Probe = true, "timed out"
	v5Bytes := v3[:20] + "\x05" + v3[21:78] + "\x03\x03" +
		"\x40\x00\x00\x00\x01\x02\x03\x10\x00\x00\x00\x02" +
		"\x06\x05\x00\x00" +
		"\x03\x00\x02\x00" +
		"\x02\x01\x07\x00\x09\x00whyhirefusedtimed out"
	if got, err := DecodeAll([]byte(v5Bytes)); err != nil || !reflect.DeepEqual(got, v5) {
		t.Errorf("DecodeAll of version 5: %+v %v, want %+v", got, err, v5)
	}
	v6 := v5
	v6.Waiting, v6.Done = WaitingString([]string{"db", "cache"}), true
	b := v6.Append(nil)
	want := v3[:20] + "\x06" + v3[21:78] + "\x07\x03" + v5Bytes[80:106] + "\x09\x00" +
		"whyhirefusedtimed outdb\x00cache\x00"
	if string(b) != want {
		t.Errorf("record\n%q, want\n%q", b, want)
	}
	got, err := DecodeAll(b)
	if err != nil || !reflect.DeepEqual(got, v6) {
		t.Errorf("DecodeAll: %+v %v, want %+v", got, err, v6)
	}
	if names := got.WaitingFor(); !reflect.DeepEqual(names, []string{"db", "cache"}) {
		t.Errorf("WaitingFor: %q", names)
	}
	if _, err := DecodeAll(b[:len(b)-1]); err == nil {
		t.Error("DecodeAll of names cut short: no error")
	}
	// Version 2, as supervise wrote it before runit's bytes: the state at
	// 18, a newline at 19.
	v2 := []byte(v3)
	v2[18], v2[19], v2[20], v2[37] = byte(Running), '\n', 2, 0
	if got, err := DecodeAll(v2); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("DecodeAll of version 2: %+v %v, want %+v", got, err, s)
	}
	// Version 1, as supervise wrote it before version 2: no start.
	v1 := append(v2[:54:54], "\x02\x00hi"...)
	v1[20] = 1
	s.Start = procstart.ID{}
	if got, err := DecodeAll(v1); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("DecodeAll of version 1: %+v %v, want %+v", got, err, s)
	}
	// Bytes 18-19 as runsv's: a stop signal sent, and the state.
	for _, c := range []struct {
		s       Status
		b18_b19 string
	}{
		{Status{Since: since, Want: WantDown, State: Stopped}, "\x00\x00"},
		{Status{Since: since, Pid: 9, Want: WantDown, State: Stopping, StopSent: true}, "\x01\x01"},
		{Status{Since: since, Pid: 9, Want: WantUp, State: Starting, Readiness: true}, "\x00\x01"},
		{Status{Since: since, Want: WantDown, State: Stopping, Finishing: true}, "\x00\x02"},
	} {
		b := c.s.Append(nil)
		if got, err := DecodeAll(b); string(b[18:20]) != c.b18_b19 || err != nil || !reflect.DeepEqual(got, c.s) {
			t.Errorf("%+v: bytes 18-19 %q, want %q; DecodeAll: %+v %v", c.s, b[18:20], c.b18_b19, got, err)
		}
	}
	if got := (Status{State: Stopping, Finishing: true}).StateName(); got != "finishing" {
		t.Errorf("StateName %q", got)
	}
	// Flag 8 of byte 78 is not ours (a start under way is marked in
	// MarkFile, not in the record).
	b = s.Append(nil)
	b[78] |= 8
	if _, err := DecodeAll(b); err == nil || err.Error() != "unknown extended status: more flags 8" {
		t.Errorf("flag 8 of byte 78: %v", err)
	}
	// Where the pid came from, and a watchdog's stop: bits of byte 21.
	for flags, s := range map[byte]Status{
		32:     {Pid: 1, FromPidfile: true},
		128:    {Pid: 1, FromMainpid: true},
		8 | 64: {Exited: true, LastExit: Exit{Code: 256, Signal: 15, Watchdog: true}},
	} {
		b := s.Append(nil)
		if got, err := DecodeAll(b); b[21] != flags || err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("flags %d, want %d; DecodeAll: %+v %v, want %+v", b[21], flags, got, err, s)
		}
	}
}

// Records that are not ours decode to daemontools' fields, and runit's
// where they are there, and say why the rest is unknown; only a short one
// is refused outright.
func TestDecodeAllForeign(t *testing.T) {
	ours := Status{Pid: 7, Want: WantUp, State: Running}.Append(nil)
	base := Status{Pid: 7, Want: WantUp, State: Running}
	edit := func(b []byte, at int, v byte) []byte { b = bytes.Clone(b); b[at] = v; return b }
	stopping := Status{Pid: 7, Want: WantUp, State: Stopping, StopSent: true}
	finishing := Status{Want: WantDown, State: Stopping, Finishing: true}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
		s    Status
	}{
		{"daemontools", ours[:Size], "no extended status (written by another supervise)", base},
		{"runit", ours[:RunitSize], "no extended status (written by another supervise)", base},
		{"runit, got TERM", edit(ours[:RunitSize], 18, 1), "no extended status (written by another supervise)", stopping},
		{"runit, finish", append(Status{Want: WantDown}.Append(nil)[:Size:Size], 0, 2),
			"no extended status (written by another supervise)", finishing},
		{"one byte more", ours[:Size+1], "unknown extended status: 1 bytes after daemontools' record", base},
		{"not runit's", edit(ours, 19, 3), "unknown extended status: 90 bytes after daemontools' record", base},
		{"later version", edit(ours, 20, 7), "unknown extended status: layout version 7", base},
		{"cut short", ours[:40], "unknown extended status: version 6 record cut short", base},
		{"unknown flags", edit(ours, 78, 16), "unknown extended status: more flags 16", base},
		{"done in version 5", edit(edit(ours, 20, 5)[:106], 78, 4), "unknown extended status: more flags 4", base},
		{"unhealthy without an exit", edit(ours, 78, 2), "unknown extended status: unhealthy stop without an exit", base},
		{"byte 79", edit(ours, 79, 4), "unknown extended status: health 4", base},
		{"health in version 4", edit(edit(ours, 20, 4)[:100], 79, 1), "unknown extended status: health 1", base},
		{"runit's state not the pid's", edit(ours, 19, 0), "unknown extended status: runit state 0 with pid 7 and flags 0", base},
		{"finishing not flagged", edit(ours, 19, 2), "unknown extended status: runit state 2 with pid 7 and flags 0",
			Status{Pid: 7, Want: WantUp, State: Stopping, Finishing: true}},
		{"text too long", append(ours[:len(ours):len(ours)], 'x'), "unknown extended status: status text of the wrong length", base},
		{"bad state", edit(ours, 37, 9), "unknown extended status: state 9", base},
	} {
		got, err := DecodeAll(tc.b)
		if err == nil || err.Error() != tc.want || got != tc.s {
			t.Errorf("%s: %+v %v, want %+v %q", tc.name, got, err, tc.s, tc.want)
		}
	}
	if _, err := DecodeAll(ours[:Size-1]); !errors.Is(err, ErrBadFormat) {
		t.Errorf("short: %v", err)
	}
}

// FuzzDecodeAll: any bytes decode without panicking, and a record of the
// current layout that decodes without error encodes back to the same bytes.
func FuzzDecodeAll(f *testing.F) {
	f.Add(Status{Pid: 1, Want: WantUp, State: Running, Text: "x"}.Append(nil))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeAll(b)
		if err != nil || b[20] != Version {
			return
		}
		if got := s.Append(nil); string(got[Size:]) != string(b[Size:]) {
			t.Fatalf("Append(DecodeAll(%x)) = %x", b, got)
		}
	})
}
