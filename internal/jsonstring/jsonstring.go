// Package jsonstring writes JSON strings by hand, for the programs that
// write JSON without encoding/json (its start-up, in the one executable,
// would cost every program page faults): multilog's j lines and svstat
// -j's objects. Either way the result is valid UTF-8: each byte that is
// not part of valid UTF-8 becomes U+FFFD, and U+2028 and U+2029 (line
// ends to JavaScript) are escaped.
package jsonstring

import (
	"encoding/binary"
	"unicode/utf8"
)

// Append appends p as the inside of a JSON string, without the quotes:
// quote, backslash and control characters escaped (a newline as \u000a),
// nothing else of ASCII. The result never holds a newline.
func Append(b, p []byte) []byte {
	return appendEscaped(b, p, &lean)
}

// AppendQuoted appends s as a JSON string, quotes included, as
// encoding/json's Marshal writes it: as Append does, but with a newline
// as \n, and <, > and & escaped too (for HTML).
func AppendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	return append(appendEscaped(b, []byte(s), &marshal), '"')
}

// escapes is how a flavour writes ASCII: for each byte, 0 when it stands
// as it is, else the letter after its backslash, 'u' for \u00XX.
type escapes struct {
	of   [utf8.RuneSelf]byte
	html bool // <, > and & are escaped
}

var lean, marshal = newEscapes(false), newEscapes(true)

func newEscapes(asMarshal bool) escapes {
	var e escapes
	for c := range 0x20 {
		e.of[c] = 'u'
	}
	e.of['"'], e.of['\\'] = '"', '\\'
	e.of['\b'], e.of['\f'], e.of['\r'], e.of['\t'] = 'b', 'f', 'r', 't'
	if asMarshal {
		e.of['\n'] = 'n'
		e.of['<'], e.of['>'], e.of['&'] = 'u', 'u', 'u'
		e.html = true
	}
	return e
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends the inside of p's JSON string, ASCII escaped as
// e says.
func appendEscaped(b, p []byte, e *escapes) []byte {
	start := 0
	for i := 0; i < len(p); {
		if i+8 <= len(p) {
			if w := binary.LittleEndian.Uint64(p[i:]); plain8(w) && (!e.html || noHTML8(w)) {
				i += 8
				continue
			}
		}
		c := p[i]
		if c < utf8.RuneSelf {
			i++
			esc := e.of[c]
			if esc == 0 {
				continue
			}
			b = append(b, p[start:i-1]...)
			if esc == 'u' {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			} else {
				b = append(b, '\\', esc)
			}
			start = i
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, p[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, p[start:i]...), `\u202`...)
			b = append(b, hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, p[start:]...)
}

// plain8 tells whether the 8 bytes of w are all ASCII that a JSON string
// holds as they are, for Append: no control character, quote or
// backslash. Bytes are tested all at once, the way strlen tests for a
// zero byte.
func plain8(w uint64) bool {
	below := (w - 0x20*ones) &^ w & highs
	return (w&highs | below | zero(w^'"'*ones) | zero(w^'\\'*ones)) == 0
}

// noHTML8 tells whether none of the 8 bytes of w is <, > or &.
func noHTML8(w uint64) bool {
	return (zero(w^'<'*ones) | zero(w^'>'*ones) | zero(w^'&'*ones)) == 0
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// zero is not 0 when one of the bytes of v is.
func zero(v uint64) uint64 { return (v - ones) &^ v & highs }
