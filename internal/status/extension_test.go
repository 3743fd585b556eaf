package status

import (
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
	b := s.Append(nil)
	want := "\x40\x00\x00\x00\x01\x02\x03\x0e\x0a\x0b\x0c\x0d\x34\x12\x00\x00\x00u" +
		"\x03\n\x02\x0e" +
		"\x40\x00\x00\x00\x01\x02\x03\x0f\x00\x00\x00\x01" +
		"\x00\x01\x09\x00" +
		"\x04\x03\x02\x01" +
		"\x40\x00\x00\x00\x01\x02\x03\x10\x00\x00\x00\x02" +
		"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10" +
		"\x08\x07\x06\x05\x04\x03\x02\x01" +
		"\x02\x00hi"
	if string(b) != want {
		t.Errorf("record\n%q, want\n%q", b, want)
	}
	got, err := DecodeAll(b)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("DecodeAll: %+v %v, want %+v", got, err, s)
	}
	// Version 1, as supervise wrote it before version 2: no start.
	v1 := []byte(want[:54] + "\x02\x00hi")
	v1[20] = 1
	s.Start = procstart.ID{}
	if got, err := DecodeAll(v1); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("DecodeAll of version 1: %+v %v, want %+v", got, err, s)
	}
	// No exit yet, no readiness, finishing.
	s = Status{Since: since, Want: WantDown, State: Stopping, Finishing: true}
	if got, err := DecodeAll(s.Append(nil)); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("DecodeAll: %+v %v, want %+v", got, err, s)
	}
	if got := s.StateName(); got != "finishing" {
		t.Errorf("StateName %q", got)
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

// Records that are not ours decode to daemontools' fields and say why the
// rest is unknown; only a short one is refused outright.
func TestDecodeAllForeign(t *testing.T) {
	ours := Status{Pid: 7, Want: WantUp, State: Running}.Append(nil)
	base := Status{Pid: 7, Want: WantUp, State: Running}
	runit := append(ours[:Size:Size], 0, 1) // runit's 20 bytes
	future := append([]byte(nil), ours...)
	future[20] = 3
	badState := append([]byte(nil), ours...)
	badState[18] = 9
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"daemontools", ours[:Size], "no extended status (written by another supervise)"},
		{"runit", runit, "unknown extended status: 2 bytes after daemontools' record"},
		{"later version", future, "unknown extended status: layout version 3"},
		{"cut short", ours[:40], "unknown extended status: version 2 record cut short"},
		{"text too long", append(ours[:len(ours):len(ours)], 'x'), "unknown extended status: status text of the wrong length"},
		{"bad state", badState, "unknown extended status: state 9"},
	} {
		got, err := DecodeAll(tc.b)
		if err == nil || err.Error() != tc.want || got != base {
			t.Errorf("%s: %+v %v, want %+v %q", tc.name, got, err, base, tc.want)
		}
	}
	if _, err := DecodeAll(ours[:Size-1]); !errors.Is(err, ErrBadFormat) {
		t.Errorf("short: %v", err)
	}
}

// FuzzDecodeAll: any bytes decode without panicking, and what decodes
// without error encodes back to the same bytes.
func FuzzDecodeAll(f *testing.F) {
	f.Add(Status{Pid: 1, Want: WantUp, State: Running, Text: "x"}.Append(nil))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeAll(b)
		if err != nil {
			return
		}
		if got := s.Append(nil); string(got[Size:]) != string(b[Size:]) {
			t.Fatalf("Append(DecodeAll(%x)) = %x", b, got)
		}
	})
}
