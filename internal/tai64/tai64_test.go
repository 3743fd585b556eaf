package tai64

import (
	"bytes"
	"testing"
	"time"
)

func TestFromTimeAndBack(t *testing.T) {
	tests := []struct {
		unix, nano int64
		external   string
	}{
		{0, 0, "@400000000000000a00000000"},
		{1, 1, "@400000000000000b00000001"},
		{1_700_000_000, 999_999_999, "@400000006553f10a3b9ac9ff"},
		{-10, 0, "@400000000000000000000000"},
		{1<<31 - 1, 500, "@4000000080000009000001f4"},
	}
	for _, tc := range tests {
		l := FromTime(time.Unix(tc.unix, tc.nano))
		if got := l.String(); got != tc.external {
			t.Errorf("FromTime(%d,%d) = %s, want %s", tc.unix, tc.nano, got, tc.external)
		}
		if l.Unix() != tc.unix || int64(l.Nano) != tc.nano {
			t.Errorf("%s: Unix()=%d Nano=%d", tc.external, l.Unix(), l.Nano)
		}
		if !l.Time().Equal(time.Unix(tc.unix, tc.nano)) {
			t.Errorf("%s: Time() = %v", tc.external, l.Time())
		}
		back, ok := ParseExternal([]byte(tc.external))
		if !ok || back != l {
			t.Errorf("ParseExternal(%s) = %v, %v; want %v", tc.external, back, ok, l)
		}
	}
}

func TestPackUnpack(t *testing.T) {
	l := Label{Sec: 0x4000000012345678, Nano: 0x0abcdef0}
	var b [PackedLen]byte
	l.Pack(b[:])
	want := []byte{0x40, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x0a, 0xbc, 0xde, 0xf0}
	if !bytes.Equal(b[:], want) {
		t.Fatalf("Pack = % x, want % x", b, want)
	}
	if got := Unpack(b[:]); got != l {
		t.Fatalf("Unpack = %v, want %v", got, l)
	}
}

func TestParseExternalRejects(t *testing.T) {
	for _, s := range []string{
		"", "@", "@4000", "400000000000000a00000000x",
		"@400000000000000A00000000", // upper case
		"@40000000000000zz00000000",
		"@40000000000000 a00000000",
		"#400000000000000a00000000",
	} {
		if _, ok := ParseExternal([]byte(s)); ok {
			t.Errorf("ParseExternal(%q) accepted", s)
		}
	}
}

func TestParseExternalIgnoresTail(t *testing.T) {
	l, ok := ParseExternal([]byte("@400000000000000a00000001 hello"))
	if !ok || l.Unix() != 0 || l.Nano != 1 {
		t.Fatalf("got %v %v", l, ok)
	}
}

func TestNowIsCurrent(t *testing.T) {
	before := time.Now().Unix()
	l := Now()
	after := time.Now().Unix()
	if l.Unix() < before || l.Unix() > after || l.Nano > 999_999_999 {
		t.Fatalf("Now() = %v, outside [%d, %d]", l, before, after)
	}
}

func FuzzParseExternal(f *testing.F) {
	for _, s := range []string{"@400000000000000a00000000", "@", "@zz", "@4000000000000000000000000", "@ffffffffffffffffffffffff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		l, ok := ParseExternal(s)
		if !ok {
			return
		}
		// A label that parses must print back as the same 25 bytes.
		if got := l.String(); got != string(s[:ExternalLen]) {
			t.Fatalf("round trip %q -> %q", s[:ExternalLen], got)
		}
	})
}
