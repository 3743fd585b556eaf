package jsonstring

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
)

// texts need every kind of escape, at every place of the eight-byte test.
var texts = []string{"", "plain", `quote " backslash \ slash /`, "\b\f\n\r\t\x00\x01\x1f\x7f",
	"<a href='x'>&amp;</a>", "line\u2028para\u2029", "caf\xc3\xa9 \xff\xfe bad \xe2\x82", "日本語 🙂",
	"\xe2\x82\xac\xff\"\\\n\x00", "\xf0\x9f\x98\x80\xf0\x9f\n\xed\xa0\x80", "\xc0\x80 \xed\xa0\x80 \xf0\x9f\x98",
	"01234567\"01234567<01234567\n0123456\xe2\x80\xa801234567", "q\" b\\ \t\r\b\f\x00\x01\x1f\x7f /<>&"}

// marshalled is encoding/json's string for s, escaped for HTML or not.
func marshalled(t *testing.T, s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// checkAppend checks Append against encoding/json without HTML escapes,
// the line cut at its newlines, which Append writes as \u000a.
func checkAppend(t *testing.T, s string) {
	var want []string
	for _, part := range strings.Split(s, "\n") {
		quoted := marshalled(t, part, false)
		want = append(want, quoted[1:len(quoted)-1])
	}
	if got := string(Append([]byte("x"), []byte(s))); got != "x"+strings.Join(want, `\u000a`) {
		t.Errorf("Append(%q) = %q, want %q", s, got[1:], strings.Join(want, `\u000a`))
	}
}

func checkAppendQuoted(t *testing.T, s string) {
	if got, want := string(AppendQuoted([]byte("x"), s)), "x"+marshalled(t, s, true); got != want {
		t.Errorf("AppendQuoted(%q) = %q, want %q", s, got[1:], want[1:])
	}
}

func TestAsEncodingJSON(t *testing.T) {
	for _, s := range texts {
		checkAppend(t, s)
		checkAppendQuoted(t, s)
	}
	for c := range 256 {
		checkAppend(t, string([]byte{byte(c)}))
		checkAppendQuoted(t, string([]byte{byte(c)}))
	}
}

// FuzzAsEncodingJSON checks both flavours against encoding/json, on any
// bytes.
func FuzzAsEncodingJSON(f *testing.F) {
	for _, s := range texts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAppend(t, s)
		checkAppendQuoted(t, s)
	})
}

// TestPlain8 checks the eight-byte tests against the byte-by-byte one,
// for each byte value at each place among plain bytes.
func TestPlain8(t *testing.T) {
	for _, e := range []*escapes{&lean, &marshal} {
		for pos := range 8 {
			for c := range 256 {
				b := []byte("abcdefgh")
				b[pos] = byte(c)
				want := c < 0x80 && e.of[c] == 0
				w := binary.LittleEndian.Uint64(b)
				if got := plain8(w) && (!e.html || noHTML8(w)); got != want {
					t.Errorf("%q (html %v): %v, want %v", b, e.html, got, want)
				}
			}
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	line := bytes.Repeat([]byte("00000001 service said something of an ordinary length, like a daemon does\t"), 20)
	b.SetBytes(int64(len(line)))
	var out []byte
	for b.Loop() {
		out = Append(out[:0], line)
	}
}
