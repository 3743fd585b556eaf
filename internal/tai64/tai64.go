// Package tai64 handles TAI64N labels as daemontools writes them: a label is
// 2^62 + 10 + Unix seconds (daemontools' fixed 10-second TAI offset, no leap
// table) plus nanoseconds, packed into 12 big-endian bytes and shown outside
// as "@" followed by 24 lowercase hex digits.
package tai64

import (
	"encoding/binary"
	"time"
)

// Offset is added to Unix seconds to give TAI64 seconds.
const Offset = 1<<62 + 10

// PackedLen is the size of a packed label; ExternalLen of "@" + 24 hex digits.
const (
	PackedLen   = 12
	ExternalLen = 25
)

// Label is a TAI64N moment.
type Label struct {
	Sec  uint64 // TAI64 seconds, including Offset
	Nano uint32 // 0..999999999
}

// Now returns the current time as a label.
func Now() Label { return FromTime(time.Now()) }

// FromTime converts t to a label.
func FromTime(t time.Time) Label {
	return Label{Sec: uint64(t.Unix()) + Offset, Nano: uint32(t.Nanosecond())}
}

// Unix returns the label's Unix seconds (possibly negative for labels
// before 1970).
func (l Label) Unix() int64 { return int64(l.Sec - Offset) }

// Time converts the label to a time.Time in the local zone.
func (l Label) Time() time.Time { return time.Unix(l.Unix(), int64(l.Nano)) }

// Pack writes the 12-byte form into b, which must hold PackedLen bytes.
func (l Label) Pack(b []byte) {
	binary.BigEndian.PutUint64(b[0:8], l.Sec)
	binary.BigEndian.PutUint32(b[8:12], l.Nano)
}

// Unpack reads the 12-byte form from b, which must hold PackedLen bytes.
func Unpack(b []byte) Label {
	return Label{Sec: binary.BigEndian.Uint64(b[0:8]), Nano: binary.BigEndian.Uint32(b[8:12])}
}

const hexDigits = "0123456789abcdef"

// AppendExternal appends "@" and 24 lowercase hex digits to b.
func (l Label) AppendExternal(b []byte) []byte {
	var p [PackedLen]byte
	l.Pack(p[:])
	b = append(b, '@')
	for _, c := range p {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// String returns the external form.
func (l Label) String() string { return string(l.AppendExternal(make([]byte, 0, ExternalLen))) }

// hexValue returns the value of a lowercase hex digit, or -1: daemontools
// only ever writes lowercase, so anything else is not a label.
func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// ParseExternal reads a label from the start of s: "@" and exactly 24
// lowercase hex digits. ok is false when s does not start that way.
func ParseExternal(s []byte) (l Label, ok bool) {
	if len(s) < ExternalLen || s[0] != '@' {
		return Label{}, false
	}
	var p [PackedLen]byte
	for i := range p {
		hi, lo := hexValue(s[1+2*i]), hexValue(s[2+2*i])
		if hi < 0 || lo < 0 {
			return Label{}, false
		}
		p[i] = byte(hi<<4 | lo)
	}
	return Unpack(p[:]), true
}
